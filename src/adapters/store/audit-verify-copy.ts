/**
 * A one-row `COPY (…) TO STDOUT (FORMAT binary)` through pg's submittable interface (the one
 * pg-copy-streams builds on): the row's fields reach `visit` as raw bytes, straight from
 * the socket buffer. A query result would have been decoded into a JS string first, to be
 * encoded back; for a range of thousands of audit entries that cost more than the SQL.
 */
import type pg from 'pg';

/** The binary COPY file header: signature, then 32-bit flags and header-extension length. */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER = SIGNATURE.length + 8;

/**
 * Runs `sql` (a COPY of exactly one row of `fields` columns) and resolves to what `visit`
 * returns for that row, or rejects with the server's error. `visit` runs synchronously
 * while the fields' memory is valid; it must not keep them.
 */
export function copyOneRow<T>(
  client: pg.ClientBase,
  sql: string,
  fields: number,
  visit: (row: (Buffer | null)[]) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client.query(new CopyOneRow(sql, fields, visit, resolve, reject));
  });
}

class CopyOneRow<T> implements pg.Submittable {
  /** Bytes of the stream not parsed yet, when a message ended inside the header or the row. */
  private pending: Buffer | undefined;
  private headerSeen = false;
  private result: { value: T } | undefined;
  private failed: unknown;

  constructor(
    private readonly sql: string,
    private readonly fields: number,
    private readonly visit: (row: (Buffer | null)[]) => T,
    private readonly resolve: (value: T) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  submit(connection: pg.Connection): void {
    connection.query(this.sql);
  }

  /** PostgreSQL sends the header with the row in one message; any split still parses. */
  handleCopyData(msg: { chunk: Buffer }): void {
    if (this.result || this.failed) return;
    const b = this.pending ? Buffer.concat([this.pending, msg.chunk]) : msg.chunk;
    this.pending = undefined;
    try {
      const start = this.headerEnd(b);
      const row = start === undefined ? undefined : this.row(b, start);
      if (row) this.result = { value: this.visit(row) };
      // pg reuses the message's memory once this returns, so an unparsed tail is copied.
      else this.pending = Buffer.from(b.subarray(start ?? 0));
    } catch (err) {
      this.failed = err;
    }
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    if (this.result) this.resolve(this.result.value);
    else this.reject(this.failed ?? new Error('COPY returned no row'));
  }

  handleError(err: unknown): void {
    this.reject(err);
  }

  /** Where the row starts: after the header, which is checked once it has all arrived. */
  private headerEnd(b: Buffer): number | undefined {
    if (this.headerSeen) return 0;
    if (b.length < HEADER) return undefined;
    if (!b.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not binary COPY');
    const end = HEADER + b.readInt32BE(HEADER - 4);
    if (b.length < end) return undefined;
    this.headerSeen = true;
    return end;
  }

  /** The row at `i`, or undefined when it has not all arrived. */
  private row(b: Buffer, i: number): (Buffer | null)[] | undefined {
    if (b.length < i + 2) return undefined;
    if (b.readInt16BE(i) !== this.fields) throw new Error('unexpected binary COPY row');
    const row: (Buffer | null)[] = [];
    for (let at = i + 2, f = 0; f < this.fields; f++) {
      if (b.length < at + 4) return undefined;
      const len = b.readInt32BE(at);
      at += 4;
      if (len >= 0 && b.length < at + len) return undefined;
      row.push(len < 0 ? null : b.subarray(at, at + len));
      at += Math.max(len, 0);
    }
    return row;
  }
}
