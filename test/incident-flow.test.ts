/**
 * Issue 5's end-to-end path on the demo catalog, through the public interfaces (hooks and
 * the HTTP API): a deploy, then a CloudWatch 5xx alarm in EventBridge's format opens an
 * incident in #checkout-alerts with the last deploy in its header; the pre-approved restart
 * runs once and is audited as the rule's; a runbook is walked to the end with an approval
 * in the middle; the alarm's OK closes the alert and moves the run on; the incident is
 * resolved, and the postmortem draft holds every step in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { responseMetrics } from '../src/adapters/metrics.ts';
import { type Harness, harness } from './support/harness.ts';
import { alarmEvent, recordingChat } from './support/incidents.ts';

/** The alarm at an ISO time as CloudWatch writes it (`…+0000`). */
const alarm = (name: string, state: 'ALARM' | 'OK', at: string) =>
  alarmEvent(name, state, Date.parse(at.replace('+0000', 'Z')));

import { testPostgres } from './support/postgres.ts';

function suite(name: string, databaseUrl: () => string | undefined) {
  describe(`incident response end to end (${name})`, () => {
    let h: Harness;
    const seen = recordingChat();
    const registry = new Registry();
    before(async () => {
      const url = databaseUrl();
      h = await harness(url ? { databaseUrl: url } : {});
      h.deps.incidentChat = seen.chat;
      h.deps.responseMetrics = responseMetrics(registry);
      await h.pipeline.start();
    });
    after(() => h.close());

    /** Lets ingest and the outbox finish everything there is to do. */
    async function settle() {
      for (let i = 0; i < 5; i++) {
        await h.pipeline.drain();
        if ((await h.dispatcher.drain()) === 0) return;
      }
    }

    const api = async (method: 'GET' | 'POST', url: string, as: string, body?: unknown) => {
      const res = await h.api(method, url, as, body);
      assert.ok(
        res.status < 300,
        `${method} ${url} as ${as}: ${res.status} ${JSON.stringify(res.json)}`,
      );
      return res.json;
    };

    test('alarm → incident with the last deploy → pre-approved restart → runbook with an approval → OK → resolved → postmortem', async () => {
      // A deploy of checkout-api prod, approved by bob: the header's "last deploy".
      const asked = await api('POST', '/api/v1/requests', 'alice', {
        text: 'deploy checkout-api prod version=1.4.2 ticket=CHG-1',
      });
      await api('POST', `/api/v1/requests/${asked.request.id}/approve`, 'bob', {
        digest: asked.request.digest,
      });
      await settle();

      // The alarm, exactly as EventBridge delivers it.
      h.clock.advance(60_000);
      const fired = await h.hook(
        '/hooks/eventbridge',
        alarm('checkout-api-5xx-rate', 'ALARM', '2026-11-25T12:00:30.000+0000'),
      );
      assert.equal(fired.status, 200, JSON.stringify(fired.json));
      await settle();

      const incidents = await h.store.listIncidents({});
      assert.equal(incidents.length, 1, 'one incident for the alert group');
      const incident = incidents[0]!;
      assert.equal(incident.service, 'checkout-api');
      assert.equal(incident.environment, 'prod');
      assert.equal(incident.channel, 'C01ALERTS');
      assert.equal(incident.severity.level, 'sev2');
      assert.equal(incident.severity.confirmed, false, 'an alert only proposes its severity');
      assert.deepEqual(incident.runbooks, ['high-error-rate']);
      const header = seen.headers.findLast((v) => v.incident.id === incident.id);
      assert.ok(header, 'the header was shown');
      assert.match(header.lastDeploy?.summary ?? '', /deploy version=1\.4\.2/);

      // The pre-approved first mitigation: one request, approved by the rule, run once.
      const mitigation = await h.store.getRequest(incident.mitigation?.requestId ?? '');
      assert.ok(mitigation, 'the mitigation request exists');
      assert.equal(mitigation.command, 'restart');
      assert.equal(mitigation.requester, 'rule:checkout-5xx-restart');
      assert.equal(mitigation.state, 'succeeded');
      const trail = await h.store.queryAudit({ target: mitigation.id, limit: 100 });
      const preApproved = trail.find((e) => e.action === 'request.pre-approved');
      assert.ok(preApproved, 'audited as pre-approved');
      assert.equal(preApproved.actor, 'rule:checkout-5xx-restart');
      assert.equal(preApproved.detail.owner, 'payments');
      assert.match(String(preApproved.detail.ruleDigest), /^[0-9a-f]{64}$/);
      assert.equal(trail.filter((e) => e.action === 'execution.started').length, 1, 'ran once');

      // The same alarm delivered again changes nothing.
      await h.hook(
        '/hooks/eventbridge',
        alarm('checkout-api-5xx-rate', 'ALARM', '2026-11-25T12:00:30.000+0000'),
      );
      await settle();
      assert.equal((await h.store.listIncidents({})).length, 1);

      // alice walks the runbook; the scale-out needs bob's approval in prod.
      const started = await api('POST', '/api/v1/runbook-runs', 'alice', {
        runbook: 'high-error-rate',
        incident: incident.id,
      });
      const runId: string = started.run?.id ?? started.id;
      const step = (stepId: string, body: Record<string, unknown>) =>
        api('POST', `/api/v1/runbook-runs/${runId}/steps/${stepId}`, 'alice', body);
      await step('look', { action: 'ack' });
      await step('cause', { action: 'choose', branch: 'scale' });
      await step('scale-out', { action: 'run' });
      let run = await h.store.getRun(runId);
      const scaleRecord = run?.steps.at(-1);
      assert.equal(scaleRecord?.status, 'requested');
      const scale = await h.store.getRequest(scaleRecord?.requestId ?? '');
      assert.equal(scale?.state, 'pending', 'policy applies to a runbook step as anywhere');
      await api('POST', `/api/v1/requests/${scale!.id}/approve`, 'bob', { digest: scale!.digest });
      await settle();
      run = await h.store.getRun(runId);
      assert.equal(run?.steps.at(-1)?.stepId, 'recover', 'waits for the alarms');
      assert.match(run?.steps.find((s) => s.stepId === 'scale-out')?.output ?? '', /8/);

      // The alarm's OK closes the alert and moves the run past its wait.
      h.clock.advance(120_000);
      await h.hook(
        '/hooks/eventbridge',
        alarm('checkout-api-5xx-rate', 'OK', '2026-11-25T12:03:00.000+0000'),
      );
      await settle();
      const [alert] = await h.store.ingest.listAlerts({ service: 'checkout-api' });
      assert.equal(alert?.state, 'resolved');
      run = await h.store.getRun(runId);
      assert.equal(run?.state, 'completed', JSON.stringify(run?.steps));
      assert.ok(
        seen.posts.some((p) => /back to normal/.test(p.text)),
        'the notify step posted',
      );

      await api('POST', `/api/v1/incidents/${incident.id}/resolve`, 'alice', { note: 'recovered' });
      const again = await h.api('POST', `/api/v1/incidents/${incident.id}/resolve`, 'alice', {});
      assert.equal(again.status, 409);
      assert.equal(again.json.code, 'INCIDENT_CLOSED');

      const doc = await h.app.inject({
        method: 'GET',
        url: `/api/v1/incidents/${incident.id}/postmortem`,
        headers: { authorization: 'Bearer cs_demo_alice' },
      });
      assert.equal(doc.statusCode, 200, doc.body);
      const order = [
        /opened/i,
        /first mitigation restart/,
        /started runbook high-error-rate/,
        /Look at the error dashboard/,
        /chose scale/,
        /ran "Scale out to 8 replicas"/,
        /approved scale/,
        /is OK/,
        /Wait for the error-rate alarms to clear/,
        /[Rr]esolved/,
      ];
      let from = 0;
      for (const line of order) {
        const at = doc.body.slice(from).search(line);
        assert.ok(at >= 0, `${line} after position ${from} in:\n${doc.body}`);
        from += at;
      }

      // The review metrics saw it: one alert incident, one pre-approved run, the steps, and
      // two approvals (the deploy and the scale-out) each followed by a result.
      const text = await registry.metrics();
      const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
      assert.equal(value(/countersign_incidents_opened_total\{origin="alert"\} (\d+)/), 1);
      assert.equal(
        value(/countersign_preapproved_runs_total\{rule="checkout-5xx-restart"\} (\d+)/),
        1,
      );
      assert.equal(
        value(/countersign_runbook_steps_total\{runbook="high-error-rate",status="done"\} (\d+)/),
        5,
      );
      assert.equal(
        value(/countersign_request_to_approval_seconds_count\{command="scale"\} (\d+)/),
        1,
      );
      assert.equal(
        value(
          /countersign_approval_to_result_seconds_count\{command="restart",outcome="succeeded"\} (\d+)/,
        ),
        1,
      );
      assert.equal(
        value(/countersign_alert_to_action_seconds_count\{route="checkout-5xx"\} (\d+)/),
        1,
      );
    });
  });
}

suite('SQLite', () => undefined);
const pg = await testPostgres();
if (pg) {
  after(() => pg.cleanup());
  suite('PostgreSQL', () => pg.url);
}
