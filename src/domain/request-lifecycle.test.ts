import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  amend,
  cancel,
  deny,
  expire,
  finishExecution,
  isSatisfied,
  missingSignOffs,
  recoverExecution,
  settle,
  signOff,
  startExecution,
} from './request-lifecycle.ts';
import type { ActionRequest } from './request-model.ts';

const T0 = 1_800_000_000_000;

function pending(extra: Partial<ActionRequest> = {}): ActionRequest {
  return {
    id: 'REQ-1',
    command: 'deploy',
    service: 'checkout-api',
    environment: 'prod',
    class: 'mutating',
    params: { version: '1.4.2' },
    links: { ticket: 'CHG-1' },
    requester: 'alice',
    surface: 'api',
    digest: 'd1',
    state: 'pending',
    requirements: [{ kind: 'approval', count: 1, roles: [], because: 'test' }],
    signOffs: [],
    createdAt: T0,
    updatedAt: T0,
    expiresAt: T0 + 60_000,
    version: 1,
    ...extra,
  };
}

const approve = (
  r: ActionRequest,
  by: string,
  extra: Partial<Parameters<typeof signOff>[1]> = {},
) => signOff(r, { kind: 'approval', by, surface: 'api', at: T0 + 1, digest: r.digest, ...extra });

const value = <T>(r: { ok: true; value: T } | { ok: false; error: Error }): T => {
  if (!r.ok) throw r.error;
  return r.value;
};
const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error?.code);

describe('request lifecycle', () => {
  it('one approval of the current digest approves and bumps the version', () => {
    const r = value(approve(pending(), 'bob'));
    assert.equal(r.state, 'approved');
    assert.equal(r.version, 2);
  });

  it('§8.16 the requester cannot approve', () => {
    assert.equal(code(approve(pending(), 'alice')), 'SELF_APPROVAL');
  });

  it('§8.24 one approver clicking N times counts once', () => {
    const r = pending({ requirements: [{ kind: 'approval', count: 2, roles: [], because: 't' }] });
    const once = value(approve(r, 'bob'));
    assert.equal(code(approve(once, 'bob')), 'ALREADY_APPROVED');
    assert.equal(once.state, 'pending');
    assert.deepEqual(missingSignOffs(once), ['1 more approval (t)']);
  });

  it('§8.21 an approval of another digest is refused, and amending voids earlier sign-offs', () => {
    const r = pending({ requirements: [{ kind: 'approval', count: 2, roles: [], because: 't' }] });
    assert.equal(code(approve(r, 'bob', { digest: 'other' })), 'DIGEST_MISMATCH');
    const one = value(approve(r, 'bob'));
    const changed = value(
      amend(one, 'alice', { params: { version: '1.4.3' }, links: r.links, digest: 'd2' }, T0 + 2),
    );
    const two = value(approve(changed, 'erin', { digest: 'd2' }));
    assert.equal(two.state, 'pending', 'bob approved d1, which no longer counts');
    assert.equal(value(approve(two, 'bob', { digest: 'd2' })).state, 'approved');
  });

  it('§8.20 approval after expiry is refused; expiry is its own outcome', () => {
    const r = pending();
    assert.equal(
      code(
        signOff(r, { kind: 'approval', by: 'bob', surface: 'api', at: r.expiresAt, digest: 'd1' }),
      ),
      'EXPIRED',
    );
    assert.equal(value(expire(r, r.expiresAt)).state, 'expired');
    assert.equal(code(expire(r, r.expiresAt - 1)), 'NOT_PENDING');
  });

  it('§8.19 a decided request refuses further decisions', () => {
    const approved = value(approve(pending(), 'bob'));
    assert.equal(code(approve(approved, 'erin')), 'NOT_PENDING');
    assert.equal(code(deny(approved, 'erin', 'no', T0 + 2)), 'NOT_PENDING');
    assert.equal(code(cancel(approved, 'alice', '', T0 + 2)), 'NOT_PENDING');
  });

  it('a destructive approval needs the target typed', () => {
    const r = pending({ class: 'destructive' });
    assert.equal(code(approve(r, 'bob')), 'CONFIRMATION_REQUIRED');
    assert.equal(
      code(approve(r, 'bob', { confirmation: 'checkout-api/staging' })),
      'CONFIRMATION_REQUIRED',
    );
    assert.equal(value(approve(r, 'bob', { confirmation: 'checkout-api/prod' })).state, 'approved');
  });

  it('deny needs a reason; only the requester cancels', () => {
    assert.equal(code(deny(pending(), 'bob', '  ', T0)), 'REASON_REQUIRED');
    assert.equal(value(deny(pending(), 'bob', 'wrong version', T0)).state, 'denied');
    assert.equal(code(cancel(pending(), 'bob', '', T0)), 'NOT_REQUESTER');
    assert.equal(value(cancel(pending(), 'alice', '', T0)).state, 'cancelled');
  });

  it('every kind of requirement must be met', () => {
    const r = pending({
      requirements: [
        { kind: 'approval', count: 1, roles: [], because: 'p' },
        { kind: 'window-ack', count: 1, roles: [], because: 'w' },
      ],
    });
    const a = value(approve(r, 'bob'));
    assert.equal(a.state, 'pending');
    assert.equal(isSatisfied(a), false);
    const b = value(
      signOff(a, { kind: 'window-ack', by: 'dave', surface: 'api', at: T0 + 2, digest: 'd1' }),
    );
    assert.equal(b.state, 'approved');
  });

  it('execution: start, finish; crash recovery ends unknown unless idempotent; settle', () => {
    const approved = value(approve(pending(), 'bob'));
    const running = value(startExecution(approved, T0 + 3));
    assert.equal(code(startExecution(running, T0 + 4)), 'NOT_PENDING', 'cannot start twice');
    assert.equal(
      value(finishExecution(running, { ok: true, output: 'ok' }, T0 + 5)).state,
      'succeeded',
    );
    const unknown = value(recoverExecution(running, false, T0 + 6));
    assert.equal(unknown.state, 'unknown');
    const retried = value(recoverExecution(running, true, T0 + 6));
    assert.equal(retried.state, 'running');
    assert.equal(retried.execution?.attempt, 2);
    assert.equal(code(settle(unknown, 'dave', 'succeeded', '', T0 + 7)), 'REASON_REQUIRED');
    const settled = value(settle(unknown, 'dave', 'succeeded', 'checked the deploy log', T0 + 7));
    assert.equal(settled.state, 'succeeded');
    assert.equal(code(settle(settled, 'dave', 'failed', 'x', T0 + 8)), 'NOT_SETTLEABLE');
  });
});
