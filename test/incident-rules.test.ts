/**
 * Issue 5's rules at their edges, through the public interfaces (hooks, the HTTP API, the
 * outbox dispatcher): who may act on someone else's runbook step, and what a person with
 * no grant at all learns; stale and out-of-order steps; work on a resolved incident; a
 * pre-approving rule that changed between opening and execution, that does not cover the
 * environment, or that names a destructive command; one incident per alert group however
 * the alarm flaps or the effect is retried; severity proposals and confirmations; status
 * reminders on their cadence. Every refusal answers with its code and changes nothing.
 * SQLite, and PostgreSQL (a fresh database per harness) when one is available.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sha256hex } from '../src/adapters/system.ts';
import { expireRequests } from '../src/app/expire-requests.ts';
import type { CatalogSource } from '../src/app/ports.ts';
import { handleResponseEffect, sweepResponse } from '../src/app/response-effects.ts';
import { demoWith, replace } from '../src/config/catalog-test-kit.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { Catalog, Person } from '../src/domain/catalog.ts';
import type { IncidentHeaderView } from '../src/domain/incident-model.ts';
import { DEMO_DIR, type Harness, harness } from './support/harness.ts';
import {
  alarmEvent as alarm,
  PROD_ACCOUNT,
  recordingChat,
  STAGING_ACCOUNT,
} from './support/incidents.ts';
import { freshDatabase, type TestPostgres, testPostgres } from './support/postgres.ts';

const V1 = '/api/v1';
const ALARM = 'checkout-api-5xx-rate';
const MINUTE = 60_000;

/** Someone the catalog knows, with a token (`cs_demo_zed`), but no role: no grant at all. */
const ZED: Person = {
  id: 'zed',
  name: 'Zed Nobody',
  team: 'payments',
  roles: [],
  slack: 'U01ZED',
  console: 'zed',
  tokens: [{ name: 'demo', sha256: sha256hex('cs_demo_zed') }],
};

let demoCatalog: Catalog | undefined;
const demo = async () => {
  demoCatalog ??= await loadCatalogOrThrow(DEMO_DIR);
  return demoCatalog;
};

/** The demo with its one mitigation rule replaced by `edit` of it (digest recomputed). */
async function demoWithRule(edit: (rule: Catalog['mitigations'][number]) => object) {
  const base = await demo();
  const rule = base.mitigations[0]!;
  const { digest: _old, ...rest } = { ...rule, ...edit(rule) };
  return {
    ...base,
    mitigations: [{ ...rest, digest: sha256hex(JSON.stringify(rest)) }],
  } as Catalog;
}

type Opts = Parameters<typeof harness>[0];

function suite(name: string, pg: () => TestPostgres | undefined) {
  describe(`incident rules (${name})`, () => {
    const open: { h: Harness; db?: TestPostgres }[] = [];
    after(async () => {
      for (const { h, db } of open) {
        await h.close();
        await db?.cleanup();
      }
    });

    /** A harness of its own (a fresh database on PostgreSQL) with a recording incident chat. */
    async function start(opts: Opts = {}) {
      const server = pg();
      const db = server ? await freshDatabase(server.url) : undefined;
      const h = await harness({ ...opts, ...(db ? { databaseUrl: db.url } : {}) });
      open.push({ h, ...(db ? { db } : {}) });
      const seen = recordingChat();
      h.deps.incidentChat = seen.chat;
      await h.pipeline.start();
      const api = (
        method: 'GET' | 'POST',
        path: string,
        as: string | undefined,
        body?: unknown,
        headers?: Record<string, string>,
      ) => h.api(method, `${V1}${path}`, as, body, headers);
      const ok = async (method: 'GET' | 'POST', path: string, as: string, body?: unknown) => {
        const res = await api(method, path, as, body);
        assert.ok(res.status < 300, `${method} ${path} as ${as}: ${JSON.stringify(res.json)}`);
        return res.json;
      };
      /** Lets ingest and the outbox finish everything there is to do. */
      const settle = async () => {
        for (let i = 0; i < 6; i++) {
          await h.pipeline.drain();
          if ((await h.dispatcher.drain()) === 0) return;
        }
      };
      const fire = async (state: 'ALARM' | 'OK', alarmName = ALARM, account = PROD_ACCOUNT) => {
        const res = await h.hook(
          '/hooks/eventbridge',
          alarm(alarmName, state, h.clock.now(), account),
        );
        assert.equal(res.status, 200, JSON.stringify(res.json));
      };
      const declare = async (severity: string, as = 'alice', environment = 'prod') =>
        (
          await ok('POST', '/incidents', as, {
            service: 'checkout-api',
            environment,
            severity,
            title: `Checkout answers 5xx (${severity})`,
            runbooks: ['high-error-rate'],
          })
        ).incident;
      const startRun = async (incident: string, as = 'alice') =>
        (await ok('POST', '/runbook-runs', as, { runbook: 'high-error-rate', incident })).run;
      const timeline = async (id: string) => h.store.timeline(id);
      const audit = (filter: { target?: string; action?: string }) =>
        h.store.queryAudit({ ...filter, limit: 1000 });
      const mitigations = async () =>
        (await h.store.listRequests({ limit: 500 })).filter((r) => r.origin?.kind === 'mitigation');
      return {
        h,
        seen,
        api,
        ok,
        settle,
        fire,
        declare,
        startRun,
        timeline,
        audit,
        mitigations,
      };
    }

    it("acting on someone else's step without a request grant: 403 FORBIDDEN and nothing changed; no grant at all: 404 like a run that does not exist", async () => {
      const base = await demo();
      const t = await start({ catalog: { ...base, people: [...base.people, ZED] } });
      const inc = await t.declare('sev2');
      const run = await t.startRun(inc.id);

      const refusedBy = async (as: string, step: string, body: Record<string, unknown>) => {
        const before = await t.h.store.getRun(run.id);
        const res = await t.api('POST', `/runbook-runs/${run.id}/steps/${step}`, as, body);
        const after = await t.h.store.getRun(run.id);
        assert.deepEqual(after, before, `${as} ${body.action} ${step}: the run is unchanged`);
        return res;
      };
      const tries: [string, Record<string, unknown>][] = [
        ['look', { action: 'ack', note: 'carol was here' }],
        ['look', { action: 'skip', reason: 'carol skips' }],
      ];
      for (const [step, body] of tries) {
        const res = await refusedBy('carol', step, body);
        assert.equal(res.status, 403, JSON.stringify(res.json));
        assert.equal(res.json.code, 'FORBIDDEN');
      }
      await t.ok('POST', `/runbook-runs/${run.id}/steps/look`, 'alice', { action: 'ack' });
      const choose = await refusedBy('carol', 'cause', { action: 'choose', branch: 'scale' });
      assert.equal(choose.status, 403);
      assert.equal(choose.json.code, 'FORBIDDEN');
      await t.ok('POST', `/runbook-runs/${run.id}/steps/cause`, 'alice', {
        action: 'choose',
        branch: 'scale',
      });
      const requestsBefore = await t.h.store.listRequests({ limit: 500 });
      const ran = await refusedBy('carol', 'scale-out', { action: 'run' });
      assert.equal(ran.status, 403);
      assert.equal(ran.json.code, 'FORBIDDEN');
      assert.deepEqual(
        await t.h.store.listRequests({ limit: 500 }),
        requestsBefore,
        'no request was made for carol',
      );

      const refusals = (await t.audit({ target: run.id })).filter(
        (e) => e.action === 'runbook.step.refused',
      );
      assert.equal(refusals.length, 4, JSON.stringify(refusals));
      for (const e of refusals) {
        assert.equal(e.actor, 'carol');
        assert.equal(e.result, 'FORBIDDEN');
      }

      // zed has no grant at all: the run, its incident and its steps do not exist for him.
      const unknownRun = 'RBR-00000000000000000000000000';
      const nothing = await t.api('POST', `/runbook-runs/${unknownRun}/steps/scale-out`, 'zed', {
        action: 'run',
      });
      const hidden = await refusedBy('zed', 'scale-out', { action: 'run' });
      assert.equal(hidden.status, 404, JSON.stringify(hidden.json));
      assert.equal(hidden.json.code, 'NOT_FOUND');
      const same = (body: Record<string, unknown>, id: string) =>
        JSON.parse(JSON.stringify(body).replaceAll(id, '<id>'));
      assert.deepEqual(
        same(hidden.json, run.id),
        same(nothing.json, unknownRun),
        'the answer is the same as for a run that does not exist',
      );
      for (const action of ['ack', 'skip', 'choose'] as const) {
        const res = await refusedBy('zed', 'scale-out', { action, reason: 'x', branch: 'x' });
        assert.equal(res.status, 404, `${action}: ${JSON.stringify(res.json)}`);
      }
      assert.equal((await t.api('GET', `/runbook-runs/${run.id}`, 'zed')).status, 404);
      const listed = await t.api('GET', `/runbook-runs?incident=${inc.id}`, 'zed');
      assert.deepEqual(listed.json.runs, []);
      const incident = await t.api('GET', `/incidents/${inc.id}`, 'zed');
      assert.equal(incident.status, 404);
      assert.equal(incident.json.code, 'UNKNOWN_INCIDENT');

      // Starting a run on an incident he cannot see answers as for one that does not exist.
      const unknownInc = 'INC-00000000000000000000000000';
      const startHidden = await t.api('POST', '/runbook-runs', 'zed', {
        runbook: 'high-error-rate',
        incident: inc.id,
      });
      const startNothing = await t.api('POST', '/runbook-runs', 'zed', {
        runbook: 'high-error-rate',
        incident: unknownInc,
      });
      assert.equal(startHidden.status, 404, JSON.stringify(startHidden.json));
      assert.deepEqual(same(startHidden.json, inc.id), same(startNothing.json, unknownInc));
      const acting = await t.api('POST', `/incidents/${inc.id}/updates`, 'zed', { text: 'hi' });
      assert.equal(acting.status, 404);
      assert.equal(acting.json.code, 'UNKNOWN_INCIDENT');
      assert.equal((await t.h.store.listRuns({ limit: 500 })).length, 1, 'no run for zed');
    });

    it('a stale or out-of-order step: 409 STEP_OUT_OF_ORDER naming the current step; a finished run: 409 RUN_FINISHED', async () => {
      const t = await start();
      const inc = await t.declare('sev3');
      const run = await t.startRun(inc.id);
      const step = (stepId: string, body: Record<string, unknown>, as = 'alice') =>
        t.api('POST', `/runbook-runs/${run.id}/steps/${stepId}`, as, body);

      // Ahead of the current step, and a step of another branch.
      for (const [stepId, body] of [
        ['cause', { action: 'choose', branch: 'scale' }],
        ['scale-out', { action: 'run' }],
        ['recover', { action: 'skip', reason: 'jumping ahead' }],
        ['no-such-step', { action: 'ack' }],
      ] as const) {
        const before = await t.h.store.getRun(run.id);
        const res = await step(stepId, body);
        assert.equal(res.status, 409, `${stepId}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json.code, 'STEP_OUT_OF_ORDER');
        assert.equal(res.json.current, 'look');
        assert.match(res.json.detail, /current step is 1 'Look at the error dashboard/);
        assert.deepEqual(await t.h.store.getRun(run.id), before, 'nothing changed');
      }
      assert.equal((await t.h.store.listRequests({ limit: 500 })).length, 0, 'nothing requested');

      // The same ack twice at once (a double click): one moves the run, the other is stale.
      const both = await Promise.all([
        step('look', { action: 'ack', note: 'first' }),
        step('look', { action: 'ack', note: 'second' }),
      ]);
      assert.deepEqual(
        both.map((r) => r.status).sort(),
        [200, 409],
        JSON.stringify(both.map((r) => r.json)),
      );
      const stale = both.find((r) => r.status === 409)!;
      assert.equal(stale.json.code, 'STEP_OUT_OF_ORDER');
      let stored = await t.h.store.getRun(run.id);
      assert.deepEqual(
        stored?.steps.map((s) => [s.stepId, s.status]),
        [
          ['look', 'done'],
          ['cause', 'current'],
        ],
      );

      // A step already done, acted on again: stale, naming where the run is now.
      const before = await t.h.store.getRun(run.id);
      const again = await step('look', { action: 'ack' });
      assert.equal(again.status, 409);
      assert.equal(again.json.code, 'STEP_OUT_OF_ORDER');
      assert.equal(again.json.current, 'cause');
      assert.match(again.json.detail, /current step is 2 'Did a deploy start it\?'/);
      assert.deepEqual(await t.h.store.getRun(run.id), before);

      // "Neither" ends the run (the escalation notify is the last step).
      await t.ok('POST', `/runbook-runs/${run.id}/steps/cause`, 'alice', {
        action: 'choose',
        branch: 'none',
      });
      stored = await t.h.store.getRun(run.id);
      assert.equal(stored?.state, 'completed');
      for (const [stepId, body] of [
        ['cause', { action: 'choose', branch: 'scale' }],
        ['escalate', { action: 'ack' }],
        ['look', { action: 'skip', reason: 'done already' }],
      ] as const) {
        const res = await step(stepId, body);
        assert.equal(res.status, 409, `${stepId}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json.code, 'RUN_FINISHED');
        assert.deepEqual(await t.h.store.getRun(run.id), stored, 'nothing changed');
      }
      const refused = (await t.audit({ target: run.id })).filter(
        (e) => e.action === 'runbook.step.refused',
      );
      const count = (code: string) => refused.filter((e) => e.result === code).length;
      assert.equal(count('STEP_OUT_OF_ORDER'), 6, 'four ahead, the double click, the stale ack');
      assert.equal(count('RUN_FINISHED'), 3);
    });

    it('a resolved incident: resolving again and starting a runbook 409 INCIDENT_CLOSED; a run needs a link, a known incident and a known runbook', async () => {
      const t = await start();
      const inc = await t.declare('sev2');
      await t.ok('POST', `/incidents/${inc.id}/resolve`, 'alice', { note: 'fixed' });
      const before = await t.h.store.getIncident(inc.id);
      const lines = (await t.timeline(inc.id)).length;

      const again = await t.api('POST', `/incidents/${inc.id}/resolve`, 'alice', {
        note: 'again',
      });
      assert.equal(again.status, 409, JSON.stringify(again.json));
      assert.equal(again.json.code, 'INCIDENT_CLOSED');
      const run = await t.api('POST', '/runbook-runs', 'alice', {
        runbook: 'high-error-rate',
        incident: inc.id,
      });
      assert.equal(run.status, 409, JSON.stringify(run.json));
      assert.equal(run.json.code, 'INCIDENT_CLOSED');
      for (const [path, body] of [
        ['updates', { text: 'still here' }],
        ['severity', { severity: 'sev1' }],
        ['mitigate', {}],
        ['roles', { role: 'commander', person: 'dave' }],
      ] as const) {
        const res = await t.api('POST', `/incidents/${inc.id}/${path}`, 'alice', body);
        assert.equal(res.status, 409, `${path}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json.code, 'INCIDENT_CLOSED', path);
      }
      assert.deepEqual(await t.h.store.getIncident(inc.id), before, 'nothing changed');
      assert.equal((await t.timeline(inc.id)).length, lines, 'no timeline line');
      assert.deepEqual(await t.h.store.listRuns({ limit: 500 }), [], 'no run');
      const trail = await t.audit({ target: inc.id });
      assert.deepEqual(
        trail.filter((e) => e.action === 'incident.resolved.refused').map((e) => e.result),
        ['INCIDENT_CLOSED'],
      );
      const startRefused = await t.audit({ action: 'runbook.start.refused' });
      assert.deepEqual(
        startRefused.map((e) => [e.target, e.result]),
        [['runbook:high-error-rate', 'INCIDENT_CLOSED']],
      );

      const unlinked = await t.api('POST', '/runbook-runs', 'alice', {
        runbook: 'high-error-rate',
      });
      assert.equal(unlinked.status, 422, JSON.stringify(unlinked.json));
      assert.equal(unlinked.json.code, 'LINK_REQUIRED');
      const unknown = await t.api('POST', '/runbook-runs', 'alice', {
        runbook: 'high-error-rate',
        incident: 'INC-00000000000000000000000000',
      });
      assert.equal(unknown.status, 404, JSON.stringify(unknown.json));
      assert.equal(unknown.json.code, 'UNKNOWN_INCIDENT');
      const book = await t.api('POST', '/runbook-runs', 'alice', {
        runbook: 'no-such-runbook',
        incident: inc.id,
      });
      assert.equal(book.status, 404, JSON.stringify(book.json));
      assert.equal(book.json.code, 'UNKNOWN_RUNBOOK');
      assert.deepEqual(await t.h.store.listRuns({ limit: 500 }), [], 'still no run');
    });

    for (const [why, swap] of [
      [
        'the rule was narrowed (its digest changed)',
        async () =>
          loadCatalogOrThrow(
            await demoWith({
              'incidents.yaml': replace('environments: ["*"]', 'environments: [staging]'),
            }),
          ),
      ],
      ['the rule was removed', async () => ({ ...(await demo()), mitigations: [] })],
      [
        'its command became destructive',
        async () => {
          const base = await demo();
          return {
            ...base,
            commands: base.commands.map((c) =>
              c.id === 'restart' ? { ...c, class: 'destructive' as const } : c,
            ),
          };
        },
      ],
    ] as const) {
      it(`the pre-approving rule changed before execution (${why}): the mitigation is refused at time of use, never run`, async () => {
        let inForce = await demo();
        const source: CatalogSource = { current: () => inForce };
        const t = await start({ catalogSource: source });
        await t.fire('ALARM');
        await t.h.pipeline.drain();

        // Open the incident, and nothing else: the execution is still in the outbox.
        const claimed = await t.h.store.claimOutbox(t.h.clock.now(), 16, 60_000);
        assert.deepEqual(
          claimed.map((e) => e.kind),
          ['open-incident'],
        );
        await handleResponseEffect(t.h.deps, claimed[0]!);
        const [incident] = await t.h.store.listIncidents({});
        assert.ok(incident?.mitigation, 'the incident has its first mitigation');
        const request = await t.h.store.getRequest(incident.mitigation.requestId);
        assert.equal(request?.state, 'approved');

        inForce = await swap();
        t.h.clock.advance(5_000);
        await t.settle();

        const after = await t.h.store.getRequest(request.id);
        assert.notEqual(after?.state, 'succeeded');
        assert.equal(after?.execution, undefined, 'never ran');
        const trail = await t.audit({ target: request.id });
        assert.deepEqual(
          trail.filter((e) => e.action.startsWith('execution.')).map((e) => e.action),
          ['execution.refused'],
        );
        const refused = trail.find((e) => e.action === 'execution.refused');
        assert.match(String(refused?.detail.why), /rule that pre-approved it changed or is gone/);
        // Nobody can now sign off what the rule alone approved.
        const approve = await t.api('POST', `/requests/${request.id}/approve`, 'bob', {
          digest: request.digest,
        });
        assert.equal(approve.status, 409, JSON.stringify(approve.json));
        assert.equal(approve.json.code, 'NOT_NEEDED');
        // It waits, unrun, until it expires; the incident's timeline says so.
        t.h.clock.advance(61 * MINUTE);
        await expireRequests(t.h.deps);
        await t.settle();
        const ended = await t.h.store.getRequest(request.id);
        assert.equal(ended?.state, 'expired');
        assert.equal(ended?.execution, undefined, 'never ran');
        const lines = (await t.timeline(incident.id)).map((e) => e.text);
        assert.ok(
          lines.some((l) => l.startsWith(`${request.id} expired restart`)),
          lines.join('\n'),
        );
      });
    }

    it('no rule for that environment: the incident opens, no mitigation is requested, nothing runs', async () => {
      const stagingOnly = await demoWithRule(() => ({ environments: ['staging'] }));
      const t = await start({ catalog: stagingOnly });
      await t.fire('ALARM');
      await t.settle();
      const [incident, ...more] = await t.h.store.listIncidents({});
      assert.equal(more.length, 0);
      assert.equal(incident?.environment, 'prod');
      assert.equal(incident?.status, 'open');
      assert.equal(incident?.mitigation, undefined);
      assert.equal(incident?.firstActionAt, undefined, 'nothing was done yet');
      assert.deepEqual(await t.h.store.listRequests({ limit: 500 }), [], 'no request');
      const lines = await t.timeline(incident.id);
      assert.deepEqual(
        lines.filter((e) => e.kind === 'mitigation'),
        [],
      );
      assert.deepEqual(await t.audit({ action: 'mitigation.refused' }), []);
      assert.deepEqual(await t.audit({ action: 'execution.started' }), []);

      // The same alarm in staging is covered by the rule: there it runs, once.
      await t.fire('ALARM', ALARM, STAGING_ACCOUNT);
      await t.settle();
      const staging = (await t.h.store.listIncidents({})).find((i) => i.environment === 'staging');
      assert.ok(staging?.mitigation, 'the staging incident has its mitigation');
      const ran = await t.h.store.getRequest(staging.mitigation.requestId);
      assert.equal(ran?.state, 'succeeded');
      assert.equal(ran?.environment, 'staging');
    });

    it('a destructive command named by a rule: the incident opens, the timeline says the mitigation was not run, audited mitigation.refused, nothing executed', async () => {
      const catalog = await demoWithRule(() => ({ command: 'flush-cache' }));
      const t = await start({ catalog });
      await t.fire('ALARM');
      await t.settle();
      const [incident, ...more] = await t.h.store.listIncidents({});
      assert.equal(more.length, 0);
      assert.equal(incident?.status, 'open');
      assert.equal(incident?.mitigation, undefined);
      assert.deepEqual(incident?.requests, []);
      const lines = await t.timeline(incident.id);
      const line = lines.find((e) => e.kind === 'mitigation');
      assert.match(
        line?.text ?? '',
        /first mitigation flush-cache not run: flush-cache is destructive/,
        lines.map((e) => e.text).join('\n'),
      );
      const refused = await t.audit({ action: 'mitigation.refused' });
      assert.equal(refused.length, 1);
      assert.equal(refused[0]?.actor, 'rule:checkout-5xx-restart');
      assert.equal(refused[0]?.target, incident.id);
      assert.equal(refused[0]?.result, 'FORBIDDEN');
      assert.match(String(refused[0]?.detail.why), /destructive/);
      assert.equal(refused[0]?.detail.ruleDigest, catalog.mitigations[0]?.digest);
      assert.deepEqual(await t.h.store.listRequests({ limit: 500 }), [], 'no request');
      assert.equal(
        (await t.h.store.queryAudit({ limit: 1000 })).filter((e) =>
          e.action.startsWith('execution.'),
        ).length,
        0,
      );
    });

    it('one incident per alert group: ALARM → OK → ALARM within the window is one incident with its header updated; another alarm of the route joins it while it is open, and opens its own once it is resolved', async () => {
      const t = await start();
      const shown = (id: string) => t.seen.headers.filter((v) => v.incident.id === id).length;
      await t.fire('ALARM');
      await t.settle();
      const [incident] = await t.h.store.listIncidents({});
      assert.ok(incident);
      let headers = shown(incident.id);
      assert.ok(headers > 0);

      for (const state of ['OK', 'ALARM', 'OK', 'ALARM'] as const) {
        t.h.clock.advance(2 * MINUTE);
        await t.fire(state);
        await t.settle();
        const all = await t.h.store.listIncidents({});
        assert.equal(all.length, 1, `after ${state}: one incident`);
        assert.ok(shown(incident.id) > headers, `after ${state}: the header was shown again`);
        headers = shown(incident.id);
        const last: IncidentHeaderView | undefined = t.seen.headers.findLast(
          (v) => v.incident.id === incident.id,
        );
        assert.equal(last?.alerts[0]?.state, state === 'OK' ? 'resolved' : 'firing', state);
      }
      const alertLines = (await t.timeline(incident.id))
        .filter((e) => e.kind === 'alert')
        .map((e) => e.text);
      assert.deepEqual(alertLines, [
        `${ALARM} is OK`,
        `${ALARM} is firing (1)`,
        `${ALARM} is OK`,
        `${ALARM} is firing (1)`,
      ]);
      assert.equal((await t.mitigations()).length, 1, 'the mitigation ran once');

      // Another alarm of the route (no group_by: a group of its own) while the incident is
      // unresolved joins it: one incident, one first mitigation, both alarms in the header.
      await t.fire('ALARM', 'checkout-api-payments-5xx-count');
      await t.settle();
      let all = await t.h.store.listIncidents({});
      assert.equal(all.length, 1);
      assert.equal(all[0]?.alertGroups.length, 2);
      assert.ok(
        (await t.timeline(incident.id)).some((e) =>
          /checkout-api-payments-5xx-count joined/.test(e.text),
        ),
      );
      const header = t.seen.headers.findLast((v) => v.incident.id === incident.id);
      assert.deepEqual(header?.alerts.map((a) => a.title).sort(), [
        ALARM,
        'checkout-api-payments-5xx-count',
      ]);
      assert.equal((await t.mitigations()).length, 1, 'still one mitigation');

      // Once it is resolved, a new alarm of the route opens an incident of its own.
      await t.ok('POST', `/incidents/${incident.id}/resolve`, 'alice', {});
      t.h.clock.advance(MINUTE);
      await t.fire('ALARM', 'checkout-api-search-5xx-rate');
      await t.settle();
      all = await t.h.store.listIncidents({});
      assert.equal(all.length, 2);
      const other = all.find((i) => i.id !== incident.id);
      assert.equal(other?.title, 'checkout-api-search-5xx-rate');
      assert.equal(other?.status, 'open');
      assert.equal((await t.mitigations()).length, 2, 'one mitigation per incident');
    });

    it('the mitigation runs at most once per incident, however often or concurrently the open-incident effect is handled', async () => {
      const t = await start();
      // Three changes of one group, each processed in its own batch before the outbox runs:
      // three open-incident effects, each seeing the group firing.
      for (const state of ['ALARM', 'OK', 'ALARM'] as const) {
        await t.fire(state);
        await t.h.pipeline.drain();
        t.h.clock.advance(MINUTE);
      }
      const claimed = await t.h.store.claimOutbox(t.h.clock.now(), 16, 60_000);
      assert.deepEqual(
        claimed.map((e) => e.kind),
        ['open-incident', 'open-incident', 'open-incident'],
      );
      await Promise.all(claimed.map((e) => handleResponseEffect(t.h.deps, e)));
      await t.settle();
      const incidents = await t.h.store.listIncidents({});
      assert.equal(incidents.length, 1);
      const [mitigation, ...more] = await t.mitigations();
      assert.equal(more.length, 0, 'one mitigation request');
      assert.equal(mitigation?.state, 'succeeded');
      assert.equal((await t.audit({ action: 'request.pre-approved' })).length, 1);
      assert.equal((await t.audit({ action: 'execution.started' })).length, 1);

      // The same group's effect delivered again later (a retry): a timeline line, no new run.
      const groupId = incidents[0]!.alertGroups[0]!;
      const lines = (await t.timeline(incidents[0]!.id)).length;
      await t.h.store.transaction((tx) =>
        tx.enqueue([
          {
            kind: 'open-incident',
            key: `group:${groupId}:retried`,
            payload: { groupId, route: 'checkout-5xx', firing: 1 },
            availableAt: t.h.clock.now(),
          },
        ]),
      );
      await t.settle();
      assert.equal((await t.timeline(incidents[0]!.id)).length, lines + 1, 'it was handled');
      assert.equal((await t.h.store.listIncidents({})).length, 1);
      assert.equal((await t.mitigations()).length, 1);
      assert.equal((await t.audit({ action: 'execution.started' })).length, 1);
    });

    it('severity: a route proposes, an incident-commander confirms, others are refused with nothing changed; sev1 needs someone other than its proposer', async () => {
      const t = await start();
      await t.fire('ALARM');
      await t.settle();
      const [alerted] = await t.h.store.listIncidents({});
      assert.ok(alerted);
      assert.deepEqual(alerted.severity, { level: 'sev2', confirmed: false });

      const unchanged = async (id: string, as: string, path: string, body: unknown = {}) => {
        const before = await t.h.store.getIncident(id);
        const lines = (await t.timeline(id)).length;
        const res = await t.api('POST', `/incidents/${id}/${path}`, as, body);
        assert.equal(res.status, 403, `${as} ${path}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json.code, 'FORBIDDEN');
        assert.deepEqual(await t.h.store.getIncident(id), before, 'nothing changed');
        assert.equal((await t.timeline(id)).length, lines, 'no timeline line');
      };
      await unchanged(alerted.id, 'bob', 'severity/confirm');
      await unchanged(alerted.id, 'bob', 'severity', { severity: 'sev1' });
      await unchanged(alerted.id, 'alice', 'severity/confirm');
      const confirmed = await t.ok('POST', `/incidents/${alerted.id}/severity/confirm`, 'dave');
      assert.deepEqual(confirmed.incident.severity, {
        level: 'sev2',
        confirmed: true,
        confirmedBy: 'dave',
      });
      const refusals = await t.audit({ action: 'incident.severity-confirmed.refused' });
      assert.deepEqual(
        refusals.map((e) => [e.actor, e.result]),
        [
          ['bob', 'FORBIDDEN'],
          ['alice', 'FORBIDDEN'],
        ],
      );

      // alice declares sev2 (she may not confirm, so it waits) and proposes sev1.
      const inc = await t.declare('sev2');
      assert.deepEqual(inc.severity, { level: 'sev2', confirmed: false });
      const proposed = await t.ok('POST', `/incidents/${inc.id}/severity`, 'alice', {
        severity: 'sev1',
      });
      assert.equal(proposed.incident.severity.level, 'sev2', 'sev1 is not in force yet');
      assert.equal(proposed.incident.severity.proposed.level, 'sev1');
      assert.equal(proposed.incident.severity.proposed.by, 'alice');
      await unchanged(inc.id, 'alice', 'severity/confirm');
      const sev1 = await t.ok('POST', `/incidents/${inc.id}/severity/confirm`, 'dave');
      assert.equal(sev1.incident.severity.level, 'sev1');
      assert.equal(sev1.incident.severity.confirmed, true);
      assert.equal(sev1.incident.severity.proposed, undefined);
      assert.equal(
        sev1.incident.nextReminderAt,
        sev1.incident.createdAt + 15 * MINUTE,
        "sev1's cadence",
      );

      // dave proposes sev1 himself: never in force at once, and he may not confirm it.
      const own = await t.declare('sev1', 'dave');
      assert.deepEqual(own.severity, { level: 'sev1', confirmed: false });
      await unchanged(own.id, 'dave', 'severity/confirm');
      const sev3 = await t.declare('sev3', 'dave');
      assert.deepEqual(sev3.severity, { level: 'sev3', confirmed: true, confirmedBy: 'dave' });
    });

    it('reminders: an open sev2 gets one reminder per due time from the dispatcher, and none after it is resolved', async () => {
      const t = await start();
      const inc = await t.declare('sev2');
      await t.ok('POST', `/incidents/${inc.id}/severity/confirm`, 'dave');
      await t.settle();
      const reminders = () =>
        t.seen.posts.filter((p) => p.incident === inc.id && /^Reminder:/.test(p.text));

      // Not yet due.
      t.h.clock.advance(29 * MINUTE);
      await sweepResponse(t.h.deps);
      await t.settle();
      assert.equal(reminders().length, 0);

      // Due: the dispatcher's own loop sweeps and posts it.
      t.h.clock.advance(MINUTE + 1_000);
      t.h.dispatcher.start();
      for (let waited = 0; reminders().length === 0 && waited < 10_000; waited += 25) {
        await new Promise((r) => setTimeout(r, 25));
      }
      await t.h.dispatcher.stop();
      assert.equal(reminders().length, 1, 'the dispatcher posted the reminder');
      assert.match(reminders()[0]!.text, new RegExp(`${inc.id} \\(sev2\\) is open`));

      // The same due time swept again, even twice at once: no second reminder.
      await Promise.all([sweepResponse(t.h.deps), sweepResponse(t.h.deps)]);
      await t.settle();
      assert.equal(reminders().length, 1);
      const stored = await t.h.store.getIncident(inc.id);
      assert.equal(stored?.nextReminderAt, t.h.clock.now() + 30 * MINUTE);

      // A status update pushes the next one back a full cadence.
      t.h.clock.advance(10 * MINUTE);
      await t.ok('POST', `/incidents/${inc.id}/updates`, 'alice', { text: 'rolling back' });
      t.h.clock.advance(25 * MINUTE);
      await sweepResponse(t.h.deps);
      await t.settle();
      assert.equal(reminders().length, 1, 'not due: the update reset the cadence');
      t.h.clock.advance(5 * MINUTE);
      await sweepResponse(t.h.deps);
      await t.settle();
      assert.equal(reminders().length, 2);

      await t.ok('POST', `/incidents/${inc.id}/resolve`, 'alice', {});
      assert.equal((await t.h.store.getIncident(inc.id))?.nextReminderAt, undefined);
      for (let i = 0; i < 3; i++) {
        t.h.clock.advance(31 * MINUTE);
        await sweepResponse(t.h.deps);
        await t.settle();
      }
      assert.equal(reminders().length, 2, 'none after resolve');
      assert.ok(t.seen.posts.some((p) => p.incident === inc.id && /^Resolved by/.test(p.text)));
    });
  });
}

suite('SQLite', () => undefined);
const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('PostgreSQL', () => pg);
});
