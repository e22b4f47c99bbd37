/**
 * IP addresses and CIDR blocks for the `cidr` operator, parsed by hand (the domain may not
 * use `node:net`). An address is held as 16-bit groups: IPv4 `a.b.c.d` fills two groups
 * (`a<<8|b`, `c<<8|d`), IPv6 fills eight. Parsing an event value writes into a scratch
 * buffer, so matching allocates nothing.
 *
 * Accepted text: IPv4 as four decimal octets (1–3 digits, 0–255); IPv6 as up to eight
 * groups of 1–4 hex digits in either case, with at most one `::`. Like event-ruler, an
 * IPv6 text with an embedded dotted IPv4 part or a zone (`%eth0`) is not an address.
 */

export type IpFamily = 4 | 6;

/** A CIDR block: the network with host bits cleared, and the mask, per 16-bit group. */
export interface CidrBlock {
  readonly family: IpFamily;
  readonly network: Uint16Array;
  readonly mask: Uint16Array;
}

const scratch = new Uint16Array(8);

/** Parses `text` into `out`; returns the family, or 0 when `text` is not an IP address. */
export function parseIp(text: string, out: Uint16Array): IpFamily | 0 {
  if (text.indexOf(':') >= 0) return parseIPv6(text, out) ? 6 : 0;
  return parseIPv4(text, out) ? 4 : 0;
}

/** Whether `text` is an IP address inside `block` (same family only). */
export function inCidr(block: CidrBlock, text: string): boolean {
  if (parseIp(text, scratch) !== block.family) return false;
  const groups = block.family === 4 ? 2 : 8;
  for (let i = 0; i < groups; i++) {
    if ((scratch[i]! & block.mask[i]!) !== block.network[i]) return false;
  }
  return true;
}

/**
 * Parses `address/bits`. Host bits set in the address are cleared (`10.0.0.7/24` is
 * `10.0.0.0/24`). Like event-ruler, the mask must be below the address width (IPv4 0–31,
 * IPv6 0–127): a single host is matched by writing the address as an exact value.
 * Returns the reason when the text is not a valid block.
 */
export function parseCidr(text: string): CidrBlock | string {
  const slash = text.indexOf('/');
  if (slash < 0 || text.indexOf('/', slash + 1) >= 0) return "malformed CIDR, one '/' required";
  const address = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bitsText)) return 'malformed CIDR, mask bits must be a whole number';
  const network = new Uint16Array(8);
  const family = parseIp(address, network);
  if (family === 0) return `malformed CIDR, ${JSON.stringify(address)} is not an IP address`;
  const bits = Number(bitsText);
  const width = family === 4 ? 32 : 128;
  if (bits >= width) return `IPv${family} mask bits must be below ${width}`;
  const mask = new Uint16Array(8);
  for (let i = 0; i < width / 16; i++) {
    const groupBits = Math.min(16, Math.max(0, bits - 16 * i));
    mask[i] = groupBits === 0 ? 0 : (0xffff << (16 - groupBits)) & 0xffff;
    network[i] = network[i]! & mask[i]!;
  }
  return { family, network, mask };
}

/** Whether two address texts name the same IP address (e.g. IPv6 written in other case). */
export function sameAddress(family: IpFamily, groups: Uint16Array, text: string): boolean {
  if (parseIp(text, scratch) !== family) return false;
  const count = family === 4 ? 2 : 8;
  for (let i = 0; i < count; i++) if (scratch[i] !== groups[i]) return false;
  return true;
}

function parseIPv4(text: string, out: Uint16Array): boolean {
  let octet = 0;
  let digits = 0;
  let index = 0;
  for (let i = 0; i <= text.length; i++) {
    const unit = i < text.length ? text.charCodeAt(i) : DOT;
    if (unit >= 48 && unit <= 57) {
      octet = octet * 10 + (unit - 48);
      if (++digits > 3 || octet > 255) return false;
    } else if (unit === DOT) {
      if (digits === 0 || index > 3) return false;
      const g = index >> 1;
      out[g] = index % 2 === 0 ? octet << 8 : out[g]! | octet;
      index++;
      octet = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return index === 4;
}

function parseIPv6(text: string, out: Uint16Array): boolean {
  const n = text.length;
  if (n < 2 || n > 39) return false;
  let groups = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    if (groups === 8) return false;
    let value = 0;
    let digits = 0;
    for (; i < n && digits <= 4; i++, digits++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
    }
    if (digits === 0 || digits > 4) return false;
    out[groups++] = value;
    if (i === n) break;
    if (text.charCodeAt(i++) !== COLON || i === n) return false;
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    }
  }
  if (gap < 0) return groups === 8;
  if (groups === 8) return false;
  const tail = groups - gap;
  for (let k = 1; k <= tail; k++) out[8 - k] = out[groups - k]!;
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

const DOT = 46;
const COLON = 58;

function hexValue(unit: number): number {
  if (unit >= 48 && unit <= 57) return unit - 48;
  if (unit >= 97 && unit <= 102) return unit - 87;
  if (unit >= 65 && unit <= 70) return unit - 55;
  return -1;
}
