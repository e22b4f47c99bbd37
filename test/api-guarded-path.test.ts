/**
 * The guarded command path through the HTTP API, on the demo catalog: every refusal the
 * issue names, each with a clear error and no state change, and the approved path running
 * exactly once. Runs on SQLite, and on PostgreSQL when one is available.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, harness, SATURDAY_NOON, WEDNESDAY_NOON } from './support/harness.ts';
import { testPostgres } from './support/postgres.ts';

const DEPLOY = 'deploy checkout-api prod version=1.4.2 ticket=CHG-1';

async function snapshot(h: Harness) {
  const requests = await h.store.listRequests({ limit: 500 });
  return {
    requests: requests.map((r) => `${r.id}:${r.state}:${r.version}`),
    outbox: await h.store.countOutbox(),
  };
}

function suite(name: string, databaseUrl: () => string | undefined) {
  describe(`guarded command path (${name})`, () => {
    let h: Harness;
    before(async () => {
      h = await harness({ databaseUrl: databaseUrl() });
    });
    after(async () => h?.close());

    const request = async (text: string, as = 'alice') => {
      const res = await h.api('POST', '/api/v1/requests', as, { text });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return res.json.request;
    };
    const approve = (id: string, as: string, body: Record<string, unknown>) =>
      h.api('POST', `/api/v1/requests/${id}/approve`, as, body);
    const get = async (id: string) =>
      (await h.api('GET', `/api/v1/requests/${id}`, 'carol')).json.request;

    it('read-only status runs at once for a viewer', async () => {
      const res = await h.api('POST', '/api/v1/requests', 'carol', {
        text: 'status checkout-api prod',
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.ran.ok, true);
      assert.match(res.json.ran.output, /1\.4\.1/);
    });

    it('a prod deploy is previewed, approved by bob, runs once and changes what status reports', async () => {
      const r = await request(DEPLOY);
      assert.equal(r.state, 'pending');
      assert.deepEqual(r.preview.changes, ['version 1.4.1 → 1.4.2']);
      assert.equal(r.missing.length, 1);
      const ok = await approve(r.id, 'bob', { digest: r.digest });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.request.state, 'approved');
      await h.dispatcher.drain();
      const done = await get(r.id);
      assert.equal(done.state, 'succeeded', JSON.stringify(done.execution));
      const status = await h.api('POST', '/api/v1/requests', 'carol', {
        text: 'status checkout-api prod',
      });
      assert.match(status.json.ran.output, /1\.4\.2/);
      const audit = await h.api('GET', `/api/v1/audit?target=${r.id}`, 'carol');
      assert.deepEqual(
        audit.json.entries.map((e: { action: string }) => e.action),
        [
          'request.created',
          'approval.given',
          'request.approved',
          'execution.started',
          'execution.finished',
        ],
      );
    });

    it('refuses a mutating request without a link, naming what is missing', async () => {
      const before = await snapshot(h);
      const res = await h.api('POST', '/api/v1/requests', 'alice', {
        text: 'deploy checkout-api prod version=1.4.2',
      });
      assert.equal(res.status, 422);
      assert.equal(res.json.code, 'LINK_REQUIRED');
      assert.match(res.json.detail, /ticket=.*incident=.*pr=/);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.deepEqual(await snapshot(h), before);
      const audit = await h.api('GET', '/api/v1/audit?action=request.refused', 'carol');
      const last = audit.json.entries.at(-1);
      assert.deepEqual(
        [last.actor, last.result, last.target],
        ['alice', 'LINK_REQUIRED', 'deploy:checkout-api:prod'],
      );
    });

    it('§8.16 refuses self-approval, and §8.17 approval without the approve grant', async () => {
      const r = await request(DEPLOY);
      const before = await snapshot(h);
      const self = await approve(r.id, 'alice', { digest: r.digest });
      assert.equal(self.status, 403);
      assert.equal(self.json.code, 'SELF_APPROVAL');
      const viewer = await approve(r.id, 'carol', { digest: r.digest });
      assert.equal(viewer.status, 403);
      assert.equal(viewer.json.code, 'NOT_AN_APPROVER');
      assert.deepEqual(await snapshot(h), before);
      const audit = await h.api(
        'GET',
        `/api/v1/audit?target=${r.id}&action=approval.given.refused`,
        'carol',
      );
      assert.deepEqual(
        audit.json.entries.map((e: { actor: string; result: string }) => `${e.actor}:${e.result}`),
        ['alice:SELF_APPROVAL', 'carol:NOT_AN_APPROVER'],
      );
    });

    it('refuses a request from someone without the request grant', async () => {
      const before = await snapshot(h);
      const res = await h.api('POST', '/api/v1/requests', 'carol', { text: DEPLOY });
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'FORBIDDEN');
      assert.deepEqual(await snapshot(h), before);
    });

    it('§8.20 refuses approval after expiry and records the expiry', async () => {
      const r = await request(DEPLOY);
      h.clock.advance(61 * 60_000);
      const late = await approve(r.id, 'bob', { digest: r.digest });
      assert.equal(late.status, 410);
      assert.equal(late.json.code, 'EXPIRED');
      assert.equal((await get(r.id)).state, 'expired');
      h.clock.t = WEDNESDAY_NOON;
    });

    it('§8.21 an approval of the request before it changed is refused; it needs a fresh one', async () => {
      const r = await request(DEPLOY);
      const amended = await h.api('PATCH', `/api/v1/requests/${r.id}`, 'alice', {
        params: { version: '1.4.3' },
      });
      assert.equal(amended.status, 200, JSON.stringify(amended.json));
      assert.notEqual(amended.json.request.digest, r.digest);
      const before = await snapshot(h);
      const stale = await approve(r.id, 'bob', { digest: r.digest });
      assert.equal(stale.status, 409);
      assert.equal(stale.json.code, 'DIGEST_MISMATCH');
      assert.deepEqual(await snapshot(h), before);
      const fresh = await approve(r.id, 'bob', { digest: amended.json.request.digest });
      assert.equal(fresh.json.request.state, 'approved');
      await h.dispatcher.drain();
    });

    it('a destructive command needs the typed target and two approvers', async () => {
      const r = await request('flush-cache checkout-api prod ticket=CHG-9');
      assert.equal(r.class, 'destructive');
      assert.equal(r.confirmationText, 'checkout-api/prod');
      const before = await snapshot(h);
      const bare = await approve(r.id, 'bob', { digest: r.digest });
      assert.equal(bare.status, 422);
      assert.equal(bare.json.code, 'CONFIRMATION_REQUIRED');
      const wrong = await approve(r.id, 'bob', {
        digest: r.digest,
        confirmation: 'checkout-api/staging',
      });
      assert.equal(wrong.json.code, 'CONFIRMATION_REQUIRED');
      assert.deepEqual(await snapshot(h), before);
      const one = await approve(r.id, 'bob', {
        digest: r.digest,
        confirmation: 'checkout-api/prod',
      });
      assert.equal(one.json.request.state, 'pending');
      const two = await approve(r.id, 'dave', {
        digest: r.digest,
        confirmation: 'checkout-api/prod',
      });
      assert.equal(two.json.request.state, 'approved');
      await h.dispatcher.drain();
      assert.equal((await get(r.id)).state, 'succeeded');
    });

    it('outside the change window an approval alone does not run it; a window acknowledgement does', async () => {
      h.clock.t = SATURDAY_NOON;
      try {
        const r = await request(DEPLOY);
        assert.deepEqual(
          r.requirements.map((q: { kind: string }) => q.kind),
          ['approval', 'window-ack'],
        );
        const a = await approve(r.id, 'bob', { digest: r.digest });
        assert.equal(a.json.request.state, 'pending');
        assert.equal((await h.dispatcher.drain()) >= 0, true);
        assert.equal((await get(r.id)).state, 'pending', 'nothing ran without the acknowledgement');
        const bobAck = await approve(r.id, 'bob', { digest: r.digest, kind: 'window-ack' });
        assert.equal(bobAck.json.code, 'NOT_AN_APPROVER', 'bob holds no acknowledging role');
        const ack = await approve(r.id, 'dave', { digest: r.digest, kind: 'window-ack' });
        assert.equal(ack.json.request.state, 'approved');
        await h.dispatcher.drain();
      } finally {
        h.clock.t = WEDNESDAY_NOON;
      }
    });

    it('§8.18 §8.22 two approvals at the same moment: one wins, one execution', async () => {
      const r = await request(DEPLOY);
      const [x, y] = await Promise.all([
        approve(r.id, 'bob', { digest: r.digest }),
        approve(r.id, 'dave', { digest: r.digest }),
      ]);
      assert.deepEqual([x.status, y.status].sort(), [200, 409]);
      const loser = x.status === 409 ? x : y;
      assert.equal(loser.json.code, 'NOT_PENDING');
      await h.dispatcher.drain();
      const audit = await h.api(
        'GET',
        `/api/v1/audit?target=${r.id}&action=execution.started`,
        'carol',
      );
      assert.equal(audit.json.entries.length, 1);
      assert.equal((await get(r.id)).state, 'succeeded');
    });

    it('deny needs a reason and stops the request; cancel is for the requester only', async () => {
      const r = await request(DEPLOY);
      const noReason = await h.api('POST', `/api/v1/requests/${r.id}/deny`, 'bob', {});
      assert.equal(noReason.status, 400);
      const denied = await h.api('POST', `/api/v1/requests/${r.id}/deny`, 'bob', {
        reason: 'wrong build',
      });
      assert.equal(denied.json.request.state, 'denied');
      const r2 = await request(DEPLOY);
      const notMine = await h.api('POST', `/api/v1/requests/${r2.id}/cancel`, 'bob', {});
      assert.equal(notMine.json.code, 'NOT_REQUESTER');
      const mine = await h.api('POST', `/api/v1/requests/${r2.id}/cancel`, 'alice', {
        reason: 'not needed',
      });
      assert.equal(mine.json.request.state, 'cancelled');
    });

    it('§8.28 break-glass runs without approval, loudly, and leaves a review item', async () => {
      const noReason = await h.api('POST', '/api/v1/requests', 'dave', {
        text: 'restart checkout-api prod incident=INC-7 --break-glass',
      });
      assert.equal(noReason.json.code, 'REASON_REQUIRED');
      const notAllowed = await h.api('POST', '/api/v1/requests', 'alice', {
        text: 'restart checkout-api prod incident=INC-7 reason="site down" --break-glass',
      });
      assert.equal(notAllowed.json.code, 'BREAK_GLASS_NOT_ALLOWED');
      const res = await h.api('POST', '/api/v1/requests', 'dave', {
        text: 'restart checkout-api prod incident=INC-7 reason="site down" --break-glass',
      });
      assert.equal(res.status, 201);
      assert.equal(res.json.request.state, 'approved');
      await h.dispatcher.drain();
      assert.equal((await get(res.json.request.id)).state, 'succeeded');
      assert.ok(h.notifications.some((n) => n.loud && n.requestId === res.json.request.id));
      const items = await h.api('GET', '/api/v1/review-items', 'carol');
      assert.ok(
        items.json.items.some((i: { requestId: string }) => i.requestId === res.json.request.id),
      );
    });

    it('Idempotency-Key replays the first answer, refuses a different body', async () => {
      const key = { 'idempotency-key': `k-${name}-1` };
      const first = await h.api('POST', '/api/v1/requests', 'alice', { text: DEPLOY }, key);
      const again = await h.api('POST', '/api/v1/requests', 'alice', { text: DEPLOY }, key);
      assert.equal(again.status, first.status);
      assert.equal(again.json.request.id, first.json.request.id);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      const other = await h.api(
        'POST',
        '/api/v1/requests',
        'alice',
        { text: `${DEPLOY} reason=x` },
        key,
      );
      assert.equal(other.status, 422);
      assert.equal(other.json.code, 'IDEMPOTENCY_MISMATCH');
    });

    it('hostile and malformed input gets a clear error and changes nothing', async () => {
      const before = await snapshot(h);
      const cases: [unknown, number, string][] = [
        ['{not json', 400, 'INVALID_INPUT'],
        [{ text: 'launch-missiles checkout-api prod ticket=CHG-1' }, 404, 'UNKNOWN_COMMAND'],
        [{ text: 'deploy checkout-api qa version=1.4.2 ticket=CHG-1' }, 404, 'UNKNOWN_ENVIRONMENT'],
        [
          { text: 'deploy checkout-api prod version=latest ticket=CHG-1' },
          400,
          'INVALID_PARAMETER',
        ],
        [
          { text: 'deploy checkout-api prod version=1.4.2 colour=red ticket=CHG-1' },
          400,
          'INVALID_PARAMETER',
        ],
        [
          { text: 'deploy checkout-api prod version="1.4.2\u0007" ticket=CHG-1' },
          400,
          'INVALID_INPUT',
        ],
        [{ text: 42 }, 400, 'INVALID_INPUT'],
        [
          {
            command: 'deploy',
            service: 'checkout-api',
            environment: 'prod',
            params: { version: ['1'] },
          },
          400,
          'INVALID_INPUT',
        ],
        [
          {
            command: 'deploy',
            service: 'checkout-api',
            environment: 'prod',
            params: { version: 'x'.repeat(1_100_000) },
          },
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        [{ text: 'x'.repeat(5000) }, 400, 'INVALID_INPUT'],
      ];
      for (const [body, status, code] of cases) {
        const res = await h.api('POST', '/api/v1/requests', 'alice', body);
        assert.equal(
          res.status,
          status,
          `${JSON.stringify(body).slice(0, 80)} → ${JSON.stringify(res.json).slice(0, 200)}`,
        );
        assert.equal(res.json.code, code);
        assert.doesNotMatch(JSON.stringify(res.json), /at .*\.ts:\d+/, 'no stack trace');
      }
      assert.deepEqual(await snapshot(h), before);
    });

    it('unauthenticated and unknown tokens get 401', async () => {
      assert.equal((await h.api('GET', '/api/v1/requests', undefined)).status, 401);
      const forged = await h.api('GET', '/api/v1/requests', undefined, undefined, {
        authorization: 'Bearer cs_demo_mallory',
      });
      assert.equal(forged.status, 401);
      assert.equal(forged.json.code, 'UNAUTHENTICATED');
    });

    it('the audit chain written by all of the above verifies', async () => {
      const { verifyAudit } = await import('../src/app/verify-audit.ts');
      const report = await verifyAudit(h.store, h.deps.sha256);
      assert.equal(report.ok, true, report.message);
      assert.ok(report.checked > 30);
    });
  });
}

suite('sqlite', () => undefined);

const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('postgres', () => pg?.url);
});
