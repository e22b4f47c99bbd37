/**
 * Runbooks and guided runs through the HTTP API, on the demo catalog (runbook
 * `high-error-rate`: check `look`, decision `cause`, …): the catalog list, a run started
 * from an incident, a step out of order refused with nothing changed, the run walked; the
 * `/commands` box (incident and runbook verbs, catalog commands as `/requests` does,
 * `approve` refused); and the review report over what these made. The response metrics'
 * names and labels. SQLite, and PostgreSQL when one is available.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { responseMetrics } from '../src/adapters/metrics.ts';
import { type Harness, harness } from './support/harness.ts';
import { testPostgres } from './support/postgres.ts';

const V1 = '/api/v1';

function suite(name: string, databaseUrl: () => string | undefined) {
  describe(`runbook runs, commands and the report over the API (${name})`, () => {
    let h: Harness;
    before(async () => {
      h = await harness({ databaseUrl: databaseUrl() });
    });
    after(async () => h?.close());

    const api = (method: 'GET' | 'POST', path: string, as: string | undefined, body?: unknown) =>
      h.api(method, `${V1}${path}`, as, body);
    const declare = async (title: string, severity = 'sev2', as = 'alice') => {
      const res = await api('POST', '/incidents', as, {
        service: 'checkout-api',
        environment: 'prod',
        severity,
        title,
        runbooks: ['high-error-rate'],
      });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return res.json.incident;
    };
    const incident = async (id: string) => (await api('GET', `/incidents/${id}`, 'carol')).json;

    it('runbooks: the catalog list and one runbook', async () => {
      const list = await api('GET', '/runbooks', 'carol');
      assert.equal(list.status, 200);
      const book = list.json.runbooks.find((b: { id: string }) => b.id === 'high-error-rate');
      assert.equal(book.team, 'payments');
      assert.deepEqual(book.services, ['checkout-api']);
      assert.match(book.digest, /^[0-9a-f]{64}$/);
      assert.deepEqual(book.steps[0], {
        id: 'look',
        kind: 'check',
        title: 'Look at the error dashboard and the last deploy in the header',
      });
      const one = await api('GET', '/runbooks/high-error-rate', 'carol');
      assert.equal(one.json.runbook.steps.length, book.steps.length);
    });

    it('a run: unknown runbook 404, started from an incident, a step out of order 409 and nothing changed, then walked', async () => {
      const inc = await declare('Checkout is slow', 'sev3');
      const unknown = await api('POST', '/runbook-runs', 'alice', {
        runbook: 'no-such-runbook',
        incident: inc.id,
      });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.code, 'UNKNOWN_RUNBOOK');

      const started = await api('POST', '/runbook-runs', 'alice', {
        runbook: 'high-error-rate',
        incident: inc.id,
      });
      assert.equal(started.status, 201, JSON.stringify(started.json));
      const view = started.json;
      assert.match(view.run.id, /^RBR-/);
      assert.equal(view.run.state, 'active');
      assert.equal(view.runbook.id, 'high-error-rate');
      assert.equal(view.current.step.id, 'look');
      assert.ok(view.current.actions.includes('ack'));

      const runId = view.run.id;
      const beforeRun = (await api('GET', `/runbook-runs/${runId}`, 'carol')).json;
      const early = await api('POST', `/runbook-runs/${runId}/steps/cause`, 'alice', {
        action: 'choose',
        branch: 'none',
      });
      assert.equal(early.status, 409, JSON.stringify(early.json));
      assert.equal(early.json.code, 'STEP_OUT_OF_ORDER');
      const afterRun = (await api('GET', `/runbook-runs/${runId}`, 'carol')).json;
      assert.deepEqual(afterRun.run, beforeRun.run, 'nothing changed');

      const viewer = await api('POST', `/runbook-runs/${runId}/steps/look`, 'carol', {
        action: 'ack',
      });
      assert.equal(viewer.status, 403);

      const acked = await api('POST', `/runbook-runs/${runId}/steps/look`, 'alice', {
        action: 'ack',
        note: 'deploy at 11:52',
      });
      assert.equal(acked.status, 200, JSON.stringify(acked.json));
      assert.equal(acked.json.current.step.id, 'cause');
      assert.equal(acked.json.history[0].operator, 'alice');

      const chose = await api('POST', `/runbook-runs/${runId}/steps/cause`, 'alice', {
        action: 'choose',
        branch: 'none',
      });
      assert.equal(chose.status, 200, JSON.stringify(chose.json));
      assert.notEqual(chose.json.run.steps.length, acked.json.run.steps.length);

      const runs = await api('GET', `/runbook-runs?incident=${inc.id}`, 'carol');
      assert.equal(runs.status, 200);
      assert.deepEqual(
        runs.json.runs.map((r: { id: string }) => r.id),
        [runId],
      );
      const header = await incident(inc.id);
      assert.ok(header.incident.runs.includes(runId));
    });

    it('/commands: incident and runbook verbs, a catalog command as /requests does, refusals', async () => {
      const declared = await api('POST', '/commands', 'alice', {
        text: 'incident declare checkout-api staging sev=3 title="Queue backing up"',
      });
      assert.equal(declared.status, 200, JSON.stringify(declared.json));
      assert.match(declared.json.text, /^Declared INC-/);
      const id = declared.json.incident.id;
      const status = await api('POST', '/commands', 'carol', { text: `incident status ${id}` });
      assert.equal(status.status, 200);
      assert.match(status.json.text, /Queue backing up/);
      const list = await api('POST', '/commands', 'carol', { text: 'incident list' });
      assert.ok(list.json.incidents.some((i: { id: string }) => i.id === id));

      const ran = await api('POST', '/commands', 'carol', { text: 'status checkout-api prod' });
      assert.equal(ran.status, 200, JSON.stringify(ran.json));
      assert.equal(ran.json.ran.ok, true);
      assert.equal(ran.json.text, ran.json.ran.output);

      const requested = await api('POST', '/commands', 'alice', {
        text: `deploy checkout-api prod version=1.4.3 incident=${id}`,
      });
      assert.equal(requested.status, 201, JSON.stringify(requested.json));
      assert.equal(requested.json.request.state, 'pending');
      assert.match(requested.json.text, /^REQ-\S+ pending deploy checkout-api prod\n {2}needs /);

      const approve = await api('POST', '/commands', 'bob', {
        text: `approve ${requested.json.request.id}`,
      });
      assert.equal(approve.status, 400);
      assert.match(approve.json.detail, /approve with its digest/);
      const seen = await api('POST', '/commands', 'carol', {
        text: `status-of ${requested.json.request.id}`,
      });
      assert.equal(seen.json.request.id, requested.json.request.id);
      const denied = await api('POST', '/commands', 'bob', {
        text: `deny ${requested.json.request.id} reason="not now"`,
      });
      assert.equal(denied.status, 200, JSON.stringify(denied.json));
      assert.equal(denied.json.request.state, 'denied');

      const parse = await api('POST', '/commands', 'alice', { text: 'incident declare' });
      assert.equal(parse.status, 400);
      assert.equal(parse.json.code, 'PARSE_ERROR');
      const help = await api('POST', '/commands', 'alice', { text: 'help' });
      assert.match(help.json.text, /incident declare/);
      assert.match(help.json.text, /deploy/);
    });

    it('the report: the window, each workflow, the totals; only the window counts', async () => {
      const now = h.clock.now();
      const res = await api('GET', '/report?since=7d', 'carol');
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const report = res.json;
      assert.deepEqual(report.window, { since: now - 7 * 86_400_000, until: now + 1 });
      assert.ok(report.totals.incidents >= 2, JSON.stringify(report.totals));
      assert.equal(report.totals.runs, 1);
      assert.equal(report.totals.requests, 1, 'the deploy; a read-only command keeps no request');
      const flows = new Map(
        report.workflows.map((w: { workflow: string; count: number }) => [w.workflow, w]),
      );
      assert.equal((flows.get('command:deploy') as { count: number }).count, 1);
      assert.equal((flows.get('runbook:high-error-rate') as { count: number }).count, 1);
      for (const key of ['requestToApproval', 'approvalToResult', 'alertToFirstAction']) {
        assert.equal(typeof report.totals[key].samples, 'number', key);
      }
      const iso = await api(
        'GET',
        `/report?since=${new Date(now - 3_600_000).toISOString()}&until=${new Date(now + 60_000).toISOString()}`,
        'carol',
      );
      assert.equal(iso.status, 200, JSON.stringify(iso.json));
      assert.equal(iso.json.totals.runs, 1);
      const empty = await api(
        'GET',
        '/report?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z',
        'carol',
      );
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.json.workflows, []);
      assert.equal(empty.json.totals.incidents, 0);
      const tooLong = await api('GET', '/report?since=400d', 'carol');
      assert.equal(tooLong.status, 400);
    });
  });
}

describe('response metrics', () => {
  it('registers the counters and histograms under their names', async () => {
    const registry = new Registry();
    const m = responseMetrics(registry);
    m.incidentOpened('alert');
    m.incidentOpened('declared');
    m.preapprovedRun('checkout-5xx-restart');
    m.runbookStep('high-error-rate', 'done');
    m.alertToAction('checkout-5xx', 42);
    m.requestToApproval('deploy', 120);
    m.approvalToResult('deploy', 'succeeded', 3.5);
    const text = await registry.metrics();
    for (const line of [
      'countersign_incidents_opened_total{origin="alert"} 1',
      'countersign_incidents_opened_total{origin="declared"} 1',
      'countersign_preapproved_runs_total{rule="checkout-5xx-restart"} 1',
      'countersign_runbook_steps_total{runbook="high-error-rate",status="done"} 1',
      'countersign_alert_to_action_seconds_count{route="checkout-5xx"} 1',
      'countersign_request_to_approval_seconds_sum{command="deploy"} 120',
      'countersign_approval_to_result_seconds_count{command="deploy",outcome="succeeded"} 1',
    ]) {
      assert.ok(text.includes(line), `missing ${line}`);
    }
  });
});

suite('sqlite', () => undefined);

const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('postgres', () => pg?.url);
});
