/**
 * The binary COPY reader without a server: the CopyData messages pg would hand over, split
 * wherever the wire might split them, give the same row; a server error or a stream that is
 * not binary COPY rejects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type pg from 'pg';
import { copyOneRow } from './audit-verify-copy.ts';

/** A binary COPY stream of one row: an int8, a text and a NULL, then the trailer. */
function stream(text: string): Buffer {
  const header = Buffer.concat([
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]),
  ]);
  const int8 = Buffer.alloc(8);
  int8.writeBigInt64BE(42n);
  const bytes = Buffer.from(text);
  const row = Buffer.concat([
    Buffer.from([0, 3, 0, 0, 0, 8]),
    int8,
    Buffer.from([0, 0, 0, bytes.length]),
    bytes,
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
  ]);
  return Buffer.concat([header, row, Buffer.from([0xff, 0xff])]);
}

/** A pg client that answers any submittable with `messages`, or with `error`. */
function fakeClient(messages: Buffer[], error?: Error): pg.ClientBase {
  return {
    query(q: pg.Submittable & Record<string, (...args: unknown[]) => void>) {
      q.submit({ query: () => undefined } as unknown as pg.Connection);
      setImmediate(() => {
        if (error) return q.handleError!(error);
        for (const m of messages) {
          // pg reuses a message's memory once the handler returns: so must the reader.
          const chunk = Buffer.from(m);
          q.handleCopyData!({ chunk });
          chunk.fill(0);
        }
        q.handleCommandComplete!();
        q.handleReadyForQuery!();
      });
      return q;
    },
  } as unknown as pg.ClientBase;
}

const read = (client: pg.ClientBase) =>
  copyOneRow(client, 'copy (select 1) to stdout (format binary)', 3, ([n, text, none]) => ({
    n: Number(n!.readBigInt64BE()),
    text: text!.toString(),
    none,
  }));

describe('binary COPY of one row', () => {
  const whole = stream('héllo\u001ewörld');
  const expected = { n: 42, text: 'héllo\u001ewörld', none: null };

  it('reads the header and the row from one message, as PostgreSQL sends them', async () => {
    const row = whole.length - 2;
    assert.deepEqual(
      await read(fakeClient([whole.subarray(0, row), whole.subarray(row)])),
      expected,
    );
  });

  it('reads them split at every byte', async () => {
    for (let cut = 1; cut < whole.length; cut++) {
      const parts = [whole.subarray(0, cut), whole.subarray(cut)];
      assert.deepEqual(await read(fakeClient(parts)), expected, `cut at ${cut}`);
    }
    const bytes = [...whole].map((b) => Buffer.from([b]));
    assert.deepEqual(await read(fakeClient(bytes)), expected);
  });

  it('rejects with the server error', async () => {
    await assert.rejects(read(fakeClient([], new Error('relation does not exist'))), /relation/);
  });

  it('rejects a stream that is not binary COPY, or has no row', async () => {
    await assert.rejects(read(fakeClient([Buffer.from('1\tabc\n'.repeat(4))])), /binary COPY/);
    await assert.rejects(read(fakeClient([whole.subarray(0, 19)])), /no row/);
  });
});
