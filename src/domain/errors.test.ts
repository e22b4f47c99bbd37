import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DomainError, ERRORS } from './errors.ts';

describe('error catalog', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| ([^|]+) \|/gm)].map((m) => ({
    code: m[1]!,
    status: Number(m[2]),
    title: m[3]!.trim(),
  }));

  it('docs/errors.md lists exactly the codes in the catalog, with their status and title', () => {
    assert.deepEqual(rows.map((r) => r.code).sort(), Object.keys(ERRORS).sort());
    for (const r of rows) {
      const e = ERRORS[r.code as keyof typeof ERRORS];
      assert.equal(r.status, e.status, r.code);
      assert.equal(r.title, e.title, r.code);
    }
  });

  it('a DomainError carries its code, status and public message', () => {
    const e = new DomainError('SELF_APPROVAL');
    assert.equal(e.status, 403);
    assert.equal(e.message, ERRORS.SELF_APPROVAL.title);
  });
});
