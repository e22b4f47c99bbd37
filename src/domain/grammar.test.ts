import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainError } from './errors.ts';
import {
  ACTION_USAGE,
  formatCanonicalCommand,
  formatValue,
  MAX_COMMAND_LENGTH,
  type ParsedAction,
  type ParsedCommand,
  parseCommandText,
  RESERVED_COMMAND_IDS,
  USAGE,
} from './grammar.ts';

function parsed(text: string): ParsedCommand {
  const r = parseCommandText(text);
  if (!r.ok) assert.fail(`${JSON.stringify(text)} was refused: ${r.error.message}`);
  return r.value;
}

function action(text: string): ParsedAction {
  const v = parsed(text);
  if (v.kind !== 'action') assert.fail(`${JSON.stringify(text)} parsed as ${v.kind}`);
  return v;
}

function refusal(text: string): DomainError {
  const r = parseCommandText(text);
  if (r.ok) assert.fail(`${JSON.stringify(text)} was accepted: ${JSON.stringify(r.value)}`);
  return r.error;
}

/** The PARSE_ERROR message for `text`, after checking the error carries a usage line. */
function parseError(text: string): string {
  const e = refusal(text);
  assert.equal(e.code, 'PARSE_ERROR', e.message);
  assert.equal(typeof e.details.usage, 'string');
  assert.match(String(e.details.usage), /^\/ops /);
  return e.message;
}

const base = 'deploy checkout prod';

describe('parseCommandText: catalog actions', () => {
  it('parses command, target, params, links, reason and flag', () => {
    assert.deepEqual(
      action(
        '/ops deploy checkout-api prod version=1.4.2 replicas=4 ticket=CHG-1 reason="roll back the bad build" --break-glass',
      ),
      {
        kind: 'action',
        command: 'deploy',
        service: 'checkout-api',
        environment: 'prod',
        params: { version: '1.4.2', replicas: '4' },
        links: { ticket: 'CHG-1' },
        reason: 'roll back the bad build',
        breakGlass: true,
      },
    );
  });

  it('reads the same text without /ops, and leaves reason absent when not given', () => {
    const a = action('deploy checkout prod version=1.4.2 incident=INC-7');
    assert.deepEqual(a, {
      kind: 'action',
      command: 'deploy',
      service: 'checkout',
      environment: 'prod',
      params: { version: '1.4.2' },
      links: { incident: 'INC-7' },
      breakGlass: false,
    });
    assert.equal(Object.hasOwn(a, 'reason'), false);
  });

  it('keeps params as raw strings and accepts several links at once', () => {
    const a = action(`${base} dry-run=true count=007 ticket=OPS-42 incident=INC-7 pr=org/repo#12`);
    assert.deepEqual(a.params, { 'dry-run': 'true', count: '007' });
    assert.deepEqual(a.links, { ticket: 'OPS-42', incident: 'INC-7', pr: 'org/repo#12' });
  });

  it('accepts tabs, newlines and runs of spaces between tokens', () => {
    const a = action('  /ops\tdeploy \n checkout\t\tprod   version=1.4.2\n');
    assert.equal(a.service, 'checkout');
    assert.deepEqual(a.params, { version: '1.4.2' });
  });

  it('accepts --break-glass anywhere, and the dashes Slack turns -- into', () => {
    assert.equal(action(`--break-glass ${base}`).breakGlass, true);
    assert.equal(action(`deploy --break-glass checkout prod x=1`).breakGlass, true);
    assert.equal(action(`${base} \u2014break-glass`).breakGlass, true);
    assert.equal(action(`${base} \u2013break-glass`).breakGlass, true);
  });

  it('accepts a multi-line reason and 4-byte emoji', () => {
    const a = action(`${base} reason="line one\nline two 🚀🔥" ticket=CHG-1`);
    assert.equal(a.reason, 'line one\nline two 🚀🔥');
  });

  it('keeps hostile text verbatim: values are data, never interpreted', () => {
    const a = action(
      `${base} note="; rm -rf /" cmd=$(reboot) path=../../etc/passwd u=file:///etc/passwd`,
    );
    assert.deepEqual(a.params, {
      note: '; rm -rf /',
      cmd: '$(reboot)',
      path: '../../etc/passwd',
      u: 'file:///etc/passwd',
    });
  });

  it('splits a value at the first = only', () => {
    assert.deepEqual(action(`${base} filter=a=b==c`).params, { filter: 'a=b==c' });
  });

  it('accepts https URLs for every link kind', () => {
    const a = action(
      `${base} ticket=https://jira.example.com/browse/CHG-1 incident=https://pd.example.com/incidents/Q1 pr=https://github.com/org/repo/pull/12`,
    );
    assert.equal(a.links.pr, 'https://github.com/org/repo/pull/12');
    assert.equal(a.links.ticket, 'https://jira.example.com/browse/CHG-1');
  });

  it('accepts ticket, incident and pr shapes', () => {
    for (const ticket of ['CHG-1', 'OPS-42', 'CHG0030001', 'AB_C-7']) {
      assert.equal(action(`${base} ticket=${ticket}`).links.ticket, ticket);
    }
    for (const incident of ['INC-7', 'INC-01J9ZK3XQ7TFRV']) {
      assert.equal(action(`${base} incident=${incident}`).links.incident, incident);
    }
    for (const pr of ['#12', 'org/repo#12', 'my-org/repo.js#3', 'https://github.com/o/r/pull/1']) {
      assert.equal(action(`${base} pr=${pr}`).links.pr, pr);
    }
  });
});

describe('parseCommandText: quoting', () => {
  it('reads double and single quotes, with spaces inside', () => {
    const a = action(`${base} reason="roll back the bad build" title='db down'`);
    assert.equal(a.reason, 'roll back the bad build');
    assert.equal(a.params.title, 'db down');
  });

  it('reads the smart quotes Slack types, with apostrophes inside', () => {
    const a = action(`${base} reason=\u201croll back\u201d title=\u2018Bob\u2019s db down\u2019`);
    assert.equal(a.reason, 'roll back');
    assert.equal(a.params.title, 'Bob\u2019s db down');
  });

  it('accepts mixed smart and straight quotes of one family', () => {
    assert.equal(action(`${base} reason=\u201croll back"`).reason, 'roll back');
    assert.equal(action(`${base} reason="roll back\u201d`).reason, 'roll back');
  });

  it('keeps quote characters in the middle of a bare value literal', () => {
    const a = action(`${base} reason=don\u2019t a=it's b=say"hi"`);
    assert.equal(a.reason, 'don\u2019t');
    assert.deepEqual(a.params, { a: "it's", b: 'say"hi"' });
  });

  it('closes a quote only before whitespace or the end', () => {
    assert.equal(action(`${base} title='it's down'`).params.title, "it's down");
    assert.equal(action(`${base} title="a"b"`).params.title, 'a"b');
  });

  it('keeps a quote of the other family literal', () => {
    assert.equal(action(`${base} reason="Bob's ' build"`).reason, "Bob's ' build");
    assert.equal(action(`${base} title='say "hi" now'`).params.title, 'say "hi" now');
  });

  it('reads \\" and \\\\ as escapes inside double quotes, other backslashes literally', () => {
    const a = action(String.raw`deploy checkout prod a="say \"hi\"" b="C:\\dir" c="\n\d" d=x\"y`);
    assert.deepEqual(a.params, { a: 'say "hi"', b: 'C:\\dir', c: '\\n\\d', d: 'x\\"y' });
  });

  it('keeps backslashes literal inside single quotes', () => {
    assert.equal(action(String.raw`deploy checkout prod a='x\y'`).params.a, 'x\\y');
  });

  it('accepts an explicitly quoted empty value for a param', () => {
    assert.deepEqual(action(`${base} note="" other=''`).params, { note: '', other: '' });
  });

  it('accepts a quoted value holding = and an unquoted one holding a quote mid-way', () => {
    assert.equal(action(`${base} q="a = b"`).params.q, 'a = b');
  });
});

describe('parseCommandText: help and built-ins', () => {
  it('reads help, help <command>, and empty text as help', () => {
    assert.deepEqual(parsed('help'), { kind: 'help' });
    assert.deepEqual(parsed('/ops help deploy'), { kind: 'help', command: 'deploy' });
    assert.deepEqual(parsed(''), { kind: 'help' });
    assert.deepEqual(parsed('/ops'), { kind: 'help' });
    assert.deepEqual(parsed('   \n'), { kind: 'help' });
  });

  it('reads incident and runbook generically: positional args, then pairs', () => {
    assert.deepEqual(parsed('/ops incident declare checkout prod sev=2 title="db down"'), {
      kind: 'builtin',
      verb: 'incident',
      args: ['declare', 'checkout', 'prod'],
      params: { sev: '2', title: 'db down' },
    });
    assert.deepEqual(parsed('runbook start db-failover incident=INC-7'), {
      kind: 'builtin',
      verb: 'runbook',
      args: ['start', 'db-failover'],
      params: { incident: 'INC-7' },
    });
    assert.deepEqual(parsed('incident status'), {
      kind: 'builtin',
      verb: 'incident',
      args: ['status'],
      params: {},
    });
  });

  it('reads approve, deny, cancel and status-of with one request id', () => {
    assert.deepEqual(parsed('approve REQ-01J9ZK'), {
      kind: 'builtin',
      verb: 'approve',
      args: ['REQ-01J9ZK'],
      params: {},
    });
    assert.deepEqual(parsed('/ops deny REQ-1 reason=\u201cnot in the window\u201d'), {
      kind: 'builtin',
      verb: 'deny',
      args: ['REQ-1'],
      params: { reason: 'not in the window' },
    });
    assert.deepEqual(parsed('cancel REQ-1 reason=typo').kind, 'builtin');
    assert.deepEqual(parsed('status-of REQ-1'), {
      kind: 'builtin',
      verb: 'status-of',
      args: ['REQ-1'],
      params: {},
    });
  });

  it('checks link and reason values inside built-ins too', () => {
    assert.equal(
      parseError('runbook start db-failover incident=7'),
      'incident=7 is not an incident id like INC-7 or an https URL; did you mean incident=INC-7?',
    );
    assert.equal(parseError('deny REQ-1 reason=""'), 'reason must not be empty');
  });

  it('reserves help and the built-in verbs as command ids', () => {
    assert.deepEqual([...RESERVED_COMMAND_IDS].sort(), [
      'approve',
      'cancel',
      'deny',
      'help',
      'incident',
      'runbook',
      'status-of',
    ]);
  });
});

describe('parseCommandText: errors name the token that failed', () => {
  const cases: [string, string][] = [
    [`${base} reason="roll back`, 'unterminated quote in reason="roll back'],
    [`${base} reason=\u201croll back`, 'unterminated quote in reason=\u201croll back'],
    [`${base} title='db down`, "unterminated quote in title='db down"],
    [`${base} "a b`, 'unterminated quote in "a b'],
    [`${base} a="x\\"`, 'unterminated quote in a="x\\"'],
    [`${base} 1.4.2`, 'expected name=value, got "1.4.2"; did you mean version=1.4.2?'],
    [`${base} v1.4.2`, 'expected name=value, got "v1.4.2"; did you mean version=1.4.2?'],
    [`${base} CHG-1`, 'expected name=value, got "CHG-1"; did you mean ticket=CHG-1?'],
    [`${base} INC-7`, 'expected name=value, got "INC-7"; did you mean incident=INC-7?'],
    [`${base} org/repo#12`, 'expected name=value, got "org/repo#12"; did you mean pr=org/repo#12?'],
    [
      `${base} "roll back"`,
      'expected name=value, got "\\"roll back\\""; did you mean reason="roll back"?',
    ],
    [
      `${base} reason=roll back`,
      'expected name=value, got "back"; if it belongs to reason, quote the value: reason="roll back"',
    ],
    [`${base} now`, 'expected name=value, got "now"; parameters are written name=value'],
    [`${base} version=1 version=2`, 'duplicate parameter version'],
    [`${base} ticket=CHG-1 ticket=CHG-2`, 'duplicate parameter ticket'],
    [`${base} reason=a reason=b`, 'duplicate parameter reason'],
    ['deploy', 'missing service'],
    ['deploy checkout', 'missing environment'],
    ['deploy version=1.4.2', 'missing service before version=1.4.2'],
    ['deploy checkout version=1.4.2', 'missing environment before version=1.4.2'],
    [`${base} --force`, 'unknown flag --force'],
    [`${base} --break-glass=yes`, 'unknown flag --break-glass=yes'],
    [`${base} --break-glass --break-glass`, 'duplicate flag --break-glass'],
    ['--break-glass', 'missing command before --break-glass'],
    ['Deploy checkout prod', 'invalid command "Deploy"; did you mean deploy?'],
    [
      'deploy Checkout_API prod',
      'invalid service "Checkout_API"; use lower-case letters, digits and -, starting with a letter',
    ],
    ['deploy checkout PROD', 'invalid environment "PROD"; did you mean prod?'],
    [
      `deploy ${'a'.repeat(64)} prod`,
      `invalid service "${'a'.repeat(60)}…"; use lower-case letters, digits and -, starting with a letter`,
    ],
    ['version=1 deploy', 'expected a command, got "version=1"'],
    [
      `${base} Version=1`,
      'invalid parameter name "Version" in "Version=1"; did you mean version=…?',
    ],
    [
      `${base} 9lives=1`,
      'invalid parameter name "9lives" in "9lives=1"; names are lower-case letters, digits, _ and -, starting with a letter',
    ],
    [`${base} =1.4.2`, 'missing parameter name in "=1.4.2"'],
    [`${base} version=`, 'missing value in version='],
    [`${base} ticket=`, 'missing value in ticket='],
    [`${base} ticket=""`, 'empty value for ticket'],
    [`${base} pr=''`, 'empty value for pr'],
    [`${base} incident=\u201c\u201d`, 'empty value for incident'],
    [`${base} ticket="CHG 1"`, 'ticket must not contain whitespace, got "CHG 1"'],
    [
      `${base} ticket=chg-1`,
      'ticket=chg-1 is not a ticket key like CHG-1 or OPS-42 or an https URL; did you mean ticket=CHG-1?',
    ],
    [`${base} ticket=foo`, 'ticket=foo is not a ticket key like CHG-1 or OPS-42 or an https URL'],
    [`${base} ticket=#12`, 'ticket=#12 is not a ticket key like CHG-1 or OPS-42 or an https URL'],
    [
      `${base} incident=inc-7`,
      'incident=inc-7 is not an incident id like INC-7 or an https URL; did you mean incident=INC-7?',
    ],
    [
      `${base} pr=12`,
      'pr=12 is not a pull request like org/repo#12 or #12 or an https URL; did you mean pr=#12?',
    ],
    [
      `${base} pr=org/repo`,
      'pr=org/repo is not a pull request like org/repo#12 or #12 or an https URL',
    ],
    [
      `${base} pr=http://github.com/o/r/pull/1`,
      'pr=http://github.com/o/r/pull/1 must be an https URL',
    ],
    [
      `${base} pr=https://user@evil.example/x`,
      'pr=https://user@evil.example/x is not a pull request like org/repo#12 or #12 or an https URL',
    ],
    [
      `${base} ticket=javascript:alert(1)`,
      'ticket=javascript:alert(1) is not a ticket key like CHG-1 or OPS-42 or an https URL',
    ],
    [`${base} reason=""`, 'reason must not be empty'],
    [`${base} reason="   "`, 'reason must not be empty'],
    ['help Deploy', 'invalid command "Deploy"; did you mean deploy?'],
    ['help deploy now', 'unexpected "now" after help deploy'],
    ['help x=1', 'help takes no parameters, got "x=1"'],
    ['help --break-glass', '--break-glass does not apply to help'],
    ['incident', 'missing incident subcommand'],
    ['runbook Start x', 'invalid runbook subcommand "Start"; did you mean start?'],
    [
      'runbook start x=1 db',
      'expected name=value, got "db"; if it belongs to x, quote the value: x="1 db"',
    ],
    ['incident declare --break-glass', '--break-glass does not apply to incident'],
    ['incident declare --sev', 'unknown flag --sev'],
    ['approve', 'missing request id after approve'],
    ['approve REQ-1 REQ-2', 'unexpected "REQ-2" after approve REQ-1'],
    ['approve "REQ 1"', 'invalid request id "REQ 1"'],
    ['approve REQ-1 kind=window-ack', 'approve does not take kind=; accepted: reason'],
    ['status-of REQ-1 reason=x', 'status-of does not take reason=; accepted: none'],
    ['deny REQ-1', 'missing reason="…" for deny'],
    ['deny REQ-1 --break-glass', '--break-glass does not apply to deny'],
    ['cancel', 'missing request id after cancel'],
  ];
  for (const [text, message] of cases) {
    it(`${JSON.stringify(text)} → ${message}`, () => {
      assert.equal(parseError(text), message);
    });
  }

  it('puts the failing token, hint and usage in details', () => {
    const e = refusal(`${base} 1.4.2`);
    assert.equal(e.details.token, '1.4.2');
    assert.equal(e.details.hint, 'did you mean version=1.4.2?');
    assert.equal(e.details.usage, ACTION_USAGE);
  });

  it('shows the usage of the verb that failed', () => {
    assert.equal(refusal('deny REQ-1').details.usage, USAGE.deny);
    assert.equal(refusal('/ops runbook start x="a').details.usage, USAGE.runbook);
    assert.equal(refusal('help a b').details.usage, USAGE.help);
    assert.equal(refusal('deploy').details.usage, ACTION_USAGE);
  });

  it('gives the position of an unterminated quote in characters', () => {
    assert.equal(refusal(`/ops ${base} 🚀=1 reason="x`).details.position, 38);
    assert.equal(refusal('deploy a b r="x').details.position, 14);
    assert.equal(refusal('deploy a b r=\u201cx').details.position, 14);
  });

  it('cuts a long failing token in the message', () => {
    const message = parseError(`${base} reason="${'x'.repeat(500)}`);
    assert.equal(message, `unterminated quote in reason="${'x'.repeat(52)}…`);
  });

  it('keeps messages short however long the failing token', () => {
    const long = 'y'.repeat(3000);
    for (const text of [
      `${base} ${long}`,
      `${base} reason=a ${long}`,
      `${base} 1.2.3${long}`,
      `${base} --${long}`,
      `deploy x=${long}`,
      `${base} ${long}=1`,
      `${base} reason="${long}`,
      `${base} pr=${long}`,
      `help --${long}`,
    ]) {
      assert.ok(parseError(text).length < 250, text.slice(0, 40));
    }
  });
});

describe('parseCommandText: limits', () => {
  it(`accepts ${MAX_COMMAND_LENGTH} characters and refuses one more as PAYLOAD_TOO_LARGE`, () => {
    const fill = (n: number) => `${base} note="${'x'.repeat(n - base.length - 8)}"`;
    assert.equal(fill(MAX_COMMAND_LENGTH).length, MAX_COMMAND_LENGTH);
    assert.equal(action(fill(MAX_COMMAND_LENGTH)).kind, 'action');
    const e = refusal(fill(MAX_COMMAND_LENGTH + 1));
    assert.equal(e.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(e.message, 'command text is 4001 characters; at most 4000 are accepted');
  });

  it('refuses 1 MB of input at once, without scanning it', () => {
    const huge = `${base} reason="${'a'.repeat(1024 * 1024)}"`;
    const started = performance.now();
    const e = refusal(huge);
    assert.equal(e.code, 'PAYLOAD_TOO_LARGE');
    assert.ok(performance.now() - started < 50);
    assert.equal(refusal('\u0000'.repeat(1024 * 1024)).code, 'PAYLOAD_TOO_LARGE');
  });

  it('accepts 50 parameters and refuses 51', () => {
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join(' ');
    assert.equal(Object.keys(action(`${base} ${pairs(50)}`).params).length, 50);
    assert.equal(parseError(`${base} ${pairs(51)}`), 'too many parameters: 51, at most 50');
    assert.equal(
      parseError(`${base} ${pairs(49)} ticket=CHG-1 reason=x`),
      'too many parameters: 51, at most 50',
    );
  });

  it('accepts a 1000-character reason, counting emoji as one character each', () => {
    assert.equal(action(`${base} reason="${'r'.repeat(1000)}"`).reason?.length, 1000);
    assert.equal(action(`${base} reason="${'🚀'.repeat(1000)}"`).reason?.length, 2000);
    assert.equal(
      parseError(`${base} reason="${'r'.repeat(1001)}"`),
      'reason is 1001 characters; at most 1000',
    );
  });

  it('accepts a 200-character link and refuses 201', () => {
    const url = (n: number) => `https://x.example/${'p'.repeat(n - 18)}`;
    assert.equal(action(`${base} pr=${url(200)}`).links.pr?.length, 200);
    assert.equal(parseError(`${base} pr=${url(201)}`), 'pr is 201 characters; at most 200');
  });
});

describe('parseCommandText: characters', () => {
  it('refuses every C0 control but tab and newline, naming its position', () => {
    for (let c = 1; c < 0x20; c++) {
      if (c === 0x09 || c === 0x0a) continue;
      const hex = c.toString(16).toUpperCase().padStart(4, '0');
      assert.equal(
        parseError(`deploy a${String.fromCharCode(c)} b`),
        `control character U+${hex} at position 9`,
      );
    }
  });

  it('refuses DEL, C1 controls and NUL', () => {
    assert.equal(parseError(`${base} x=\u007f`), 'control character U+007F at position 24');
    assert.equal(parseError(`${base} x="a\u0085b"`), 'control character U+0085 at position 26');
    assert.equal(parseError('deploy\u0000 a b'), 'NUL character U+0000 at position 7');
    assert.equal(parseError(`${base} reason="a\u0000"`), 'NUL character U+0000 at position 31');
  });

  it('refuses carriage returns too (only tab and newline are layout)', () => {
    assert.equal(parseError(`${base}\r\n`), 'control character U+000D at position 21');
  });

  it('refuses lone surrogates, high or low, in names and values', () => {
    assert.equal(parseError(`${base} x="a\ud83d"`), 'lone surrogate U+D83D at position 26');
    assert.equal(parseError(`${base} x=\ude80`), 'lone surrogate U+DE80 at position 24');
    assert.equal(parseError(`${base} x\ud800=1`), 'lone surrogate U+D800 at position 23');
    assert.equal(parseError(`${base} x=\ude80\ud83d`), 'lone surrogate U+DE80 at position 24');
  });

  it('refuses every bidi override and isolate, in names and values', () => {
    for (const c of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      const ch = String.fromCharCode(c);
      const hex = c.toString(16).toUpperCase();
      assert.equal(
        parseError(`${base} reason="a${ch}b"`),
        `bidi control character U+${hex} at position 31`,
      );
      assert.equal(
        parseError(`${base} na${ch}me=1`),
        `bidi control character U+${hex} at position 24`,
      );
      assert.equal(
        parseError(`deploy check${ch}out prod`),
        `bidi control character U+${hex} at position 13`,
      );
    }
  });

  it('counts a 4-byte character as one position', () => {
    assert.equal(
      parseError(`${base} reason="🚀\u0007"`),
      'control character U+0007 at position 31',
    );
  });

  it('accepts emoji, combining marks, ZWJ sequences and non-Latin text in values', () => {
    const reason = 'déploiement 👩‍💻 e\u0301 中文 🇬🇧';
    assert.equal(action(`${base} reason="${reason}"`).reason, reason);
  });
});

describe('formatCanonicalCommand', () => {
  it('renders params sorted, then links, reason and the flag', () => {
    const text = formatCanonicalCommand(
      action(`${base} reason="roll back" --break-glass zeta=1 pr=#3 alpha="a b" ticket=CHG-1`),
    );
    assert.equal(
      text,
      'deploy checkout prod alpha="a b" zeta=1 ticket=CHG-1 pr=#3 reason="roll back" --break-glass',
    );
  });

  it('quotes only values that need it', () => {
    assert.equal(formatValue('1.4.2'), '1.4.2');
    assert.equal(formatValue('a"b'), 'a"b');
    assert.equal(formatValue('a\\b'), 'a\\b');
    assert.equal(formatValue(''), '""');
    assert.equal(formatValue('a b'), '"a b"');
    assert.equal(formatValue('"x'), '"\\"x"');
    assert.equal(formatValue("'x"), '"\'x"');
    assert.equal(formatValue('\u201cx'), '"\\\u201cx"');
    assert.equal(formatValue('a b\\'), '"a b\\\\"');
    assert.equal(formatValue('say "hi" now'), '"say \\"hi\\" now"');
    assert.equal(formatValue('x\u00a0y'), '"x\u00a0y"');
  });
});

// ---------------------------------------------------------------------------------------
// Round-trip property over generated inputs

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '0',
  '9',
  '-',
  '_',
  '.',
  '/',
  '=',
  '==',
  '"',
  "'",
  '\u201c',
  '\u201d',
  '\u2018',
  '\u2019',
  '\\',
  '\\\\',
  '\\"',
  ' ',
  '  ',
  '\t',
  '\n',
  '\u00a0',
  '\u2028',
  '🚀',
  '👩‍💻',
  'é',
  'e\u0301',
  '中',
  '$(reboot)',
  '; rm -rf /',
  '../',
  'file:///etc/passwd',
  '|',
  '&',
  '*',
  '#',
  '\u2014',
  '--',
  '--break-glass',
  'ticket=CHG-1',
  'reason=x',
  '%',
  '`',
  '{',
  '}',
  '<!here>',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function genValue(rand: () => number, maxPieces: number): string {
  const n = Math.floor(rand() * (maxPieces + 1));
  return Array.from({ length: n }, () => pick(rand, PIECES)).join('');
}

function genSlug(rand: () => number, tail: string): string {
  const n = Math.floor(rand() * 10);
  const first = pick(rand, [...'abcdefghijklmnopqrstuvwxyz']);
  return first + Array.from({ length: n }, () => pick(rand, [...tail])).join('');
}

const SLUG_TAIL = 'abcdefghijklmnopqrstuvwxyz0123456789-';
const RESERVED_PARAM_NAMES = new Set(['ticket', 'incident', 'pr', 'reason']);

function genAction(rand: () => number): ParsedAction {
  let command = genSlug(rand, SLUG_TAIL);
  if (RESERVED_COMMAND_IDS.includes(command)) command = `x${command}`;
  const params: Record<string, string> = {};
  const count = Math.floor(rand() * 7);
  for (let i = 0; i < count; i++) {
    const name = genSlug(rand, `${SLUG_TAIL}_`);
    if (!RESERVED_PARAM_NAMES.has(name)) params[name] = genValue(rand, 8);
  }
  const n = () => 1 + Math.floor(rand() * 100000);
  const links: ParsedAction['links'] = {};
  if (rand() < 0.4)
    links.ticket = pick(rand, [
      `CHG-${n()}`,
      `OPS${n()}`,
      `https://jira.example.com/browse/CHG-${n()}`,
    ]);
  if (rand() < 0.4)
    links.incident = pick(rand, [`INC-${n()}`, 'INC-01J9ZK3XQ7', `https://pd.example/i/${n()}`]);
  if (rand() < 0.4)
    links.pr = pick(rand, [`#${n()}`, `org/repo#${n()}`, `https://github.com/o/r/pull/${n()}`]);
  const result: ParsedAction = {
    kind: 'action',
    command,
    service: genSlug(rand, SLUG_TAIL),
    environment: genSlug(rand, SLUG_TAIL),
    params,
    links,
    breakGlass: rand() < 0.3,
  };
  if (rand() < 0.5) {
    const reason = genValue(rand, 12);
    return { ...result, reason: reason.trim() === '' ? `${reason}r` : reason };
  }
  return result;
}

describe('round trip: parse(format(x)) equals x', () => {
  it('holds for 3000 generated actions', () => {
    const rand = prng(0xc0ffee);
    for (let i = 0; i < 3000; i++) {
      const x = genAction(rand);
      const text = formatCanonicalCommand(x);
      const back = parseCommandText(text);
      if (!back.ok)
        assert.fail(`case ${i}: ${JSON.stringify(text)} refused: ${back.error.message}`);
      assert.deepStrictEqual(back.value, x, `case ${i}: ${JSON.stringify(text)}`);
      assert.equal(formatCanonicalCommand(back.value as ParsedAction), text);
    }
  });

  it('holds after /ops, in any token order, with any spacing between tokens', () => {
    const rand = prng(7);
    const space = () => pick(rand, [' ', '  ', '\t', '\n', ' \n\t']);
    for (let i = 0; i < 1000; i++) {
      const x = genAction(rand);
      const named = [
        ...Object.entries(x.params),
        ...Object.entries(x.links),
        ...(x.reason === undefined ? [] : [['reason', x.reason]]),
      ].map(([name, value]) => `${name}=${formatValue(value ?? '')}`);
      if (x.breakGlass) named.push(pick(rand, ['--break-glass', '\u2014break-glass']));
      named.sort(() => rand() - 0.5);
      const tokens = ['/ops', x.command, x.service, x.environment, ...named];
      const text = space() + tokens.map((t) => t + space()).join('');
      const back = parseCommandText(text);
      if (!back.ok)
        assert.fail(`case ${i}: ${JSON.stringify(text)} refused: ${back.error.message}`);
      assert.deepStrictEqual(back.value, x, `case ${i}: ${JSON.stringify(text)}`);
    }
  });

  it('never throws on random text, and every accepted action survives a round trip', () => {
    const rand = prng(42);
    const words = [
      ...PIECES,
      'deploy',
      'svc',
      'prod',
      '/ops',
      'help',
      'approve',
      'REQ-1',
      'incident',
      'declare',
      'x=',
      'y=1',
      'version=1.4.2',
      ' ',
      ' ',
      ' ',
      '\u2014break-glass',
      '"a b"',
      '\u201ca b\u201d',
      "'a b'",
    ];
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const n = 1 + Math.floor(rand() * 10);
      const prefix = rand() < 0.7 ? 'deploy svc prod ' : '';
      const word = () => (rand() < 0.5 ? `k${Math.floor(rand() * 5)}=` : '') + pick(rand, words);
      const text = prefix + Array.from({ length: n }, word).join(pick(rand, ['', ' ', ' ']));
      const r = parseCommandText(text);
      if (!r.ok) {
        assert.ok(['PARSE_ERROR', 'PAYLOAD_TOO_LARGE'].includes(r.error.code));
        assert.ok(r.error.message.length > 0 && r.error.message.length < 400, r.error.message);
        continue;
      }
      if (r.value.kind !== 'action') continue;
      accepted++;
      const again = parseCommandText(formatCanonicalCommand(r.value));
      assert.ok(again.ok, JSON.stringify(text));
      assert.deepStrictEqual(again.value, r.value, JSON.stringify(text));
    }
    assert.ok(accepted > 50, `only ${accepted} random texts parsed as actions`);
  });
});
