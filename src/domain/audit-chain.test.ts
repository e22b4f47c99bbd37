import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type AuditDraft,
  type AuditEntry,
  ChainVerifier,
  canonicalJson,
  chainEntry,
  describeBreak,
  GENESIS_HASH,
  toRecord,
} from './audit-chain.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function draft(i: number): AuditDraft {
  return {
    actor: i % 2 ? 'alice' : 'bob',
    surface: 'api',
    action: 'request.created',
    target: `REQ-${i}`,
    paramsDigest: sha(String(i)),
    result: 'ok',
    links: { ticket: `CHG-${i}` },
    detail: { n: i },
    at: 1_700_000_000_000 + i,
  };
}

function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const e = chainEntry(draft(i), i, prev, sha);
    out.push(e);
    prev = e.hash;
  }
  return out;
}

function verify(entries: AuditEntry[], head?: { seq: number; hash: string }) {
  const v = new ChainVerifier(sha);
  v.check(entries.map(toRecord));
  return v.finish(head);
}

describe('audit chain', () => {
  it('verifies an intact chain and counts it', () => {
    const c = chain(10);
    const v = new ChainVerifier(sha);
    v.check(c.slice(0, 4).map(toRecord));
    v.check(c.slice(4).map(toRecord));
    assert.equal(v.finish({ seq: 10, hash: c[9]!.hash }), undefined);
    assert.equal(v.count, 10);
  });

  it('names a changed row', () => {
    const c = chain(10);
    c[4] = { ...c[4]!, actor: 'mallory' };
    assert.deepEqual(verify(c), { kind: 'changed', seq: 5 });
  });

  it('names a row changed with its hash recomputed (the next link breaks)', () => {
    const c = chain(10);
    const { hash: _h, ...rest } = { ...c[4]!, result: 'denied' };
    c[4] = { ...rest, hash: sha(JSON.stringify(rest)) };
    const b = verify(c);
    assert.ok(b && b.seq <= 6, JSON.stringify(b));
  });

  it('names a deleted row', () => {
    const c = chain(10);
    c.splice(6, 1);
    assert.deepEqual(verify(c), { kind: 'gap', seq: 8, expected: 7 });
  });

  it('names swapped rows', () => {
    const c = chain(10);
    [c[2], c[3]] = [c[3]!, c[2]!];
    assert.deepEqual(verify(c), { kind: 'gap', seq: 4, expected: 3 });
  });

  it('names rows swapped with their seq numbers rewritten', () => {
    const c = chain(10);
    const a = { ...c[3]!, seq: 3 };
    const b = { ...c[2]!, seq: 4 };
    c[2] = a;
    c[3] = b;
    assert.equal(verify(c)?.seq, 3);
  });

  it('names a truncated tail against the recorded head', () => {
    const c = chain(10);
    const head = { seq: 10, hash: c[9]!.hash };
    const b = verify(c.slice(0, 7), head);
    assert.deepEqual(b, { kind: 'truncated', seq: 8, expected: 10 });
    assert.match(describeBreak(b!), /8\.\.10/);
  });

  it('canonical JSON sorts keys at every level and drops undefined', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }),
      '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });
});
