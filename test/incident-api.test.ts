/**
 * Incidents through the HTTP API, on the demo catalog (severities confirmed by
 * incident-commanders, i.e. dave): an incident declared, read, updated, its severity
 * proposed and confirmed, resolved, and its postmortem drafted; and for every route of
 * issue 5 (runbooks, runs, the report and `/commands` too) the 401, the OpenAPI entry, the
 * 400 naming the field and the 413. Every refusal answers with its code and changes
 * nothing. SQLite, and PostgreSQL when one is available. Runs, `/commands` and the report
 * are walked in `runbook-api.test.ts`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, harness } from './support/harness.ts';
import { testPostgres } from './support/postgres.ts';

const V1 = '/api/v1';
const UNKNOWN_INC = 'INC-00000000000000000000000000';
const UNKNOWN_RUN = 'RBR-00000000000000000000000000';

/** Every route of this issue, with a body that would be valid, for the 401 sweep. */
const ROUTES: ['GET' | 'POST', string, unknown?][] = [
  ['GET', '/incidents'],
  [
    'POST',
    '/incidents',
    { service: 'checkout-api', environment: 'prod', severity: 'sev2', title: 'x' },
  ],
  ['GET', `/incidents/${UNKNOWN_INC}`],
  ['GET', `/incidents/${UNKNOWN_INC}/timeline`],
  ['GET', `/incidents/${UNKNOWN_INC}/postmortem`],
  ['POST', `/incidents/${UNKNOWN_INC}/severity`, { severity: 'sev2' }],
  ['POST', `/incidents/${UNKNOWN_INC}/severity/confirm`, {}],
  ['POST', `/incidents/${UNKNOWN_INC}/roles`, { role: 'scribe', person: 'bob' }],
  ['POST', `/incidents/${UNKNOWN_INC}/updates`, { text: 'x' }],
  ['POST', `/incidents/${UNKNOWN_INC}/mitigate`, {}],
  ['POST', `/incidents/${UNKNOWN_INC}/resolve`, {}],
  ['GET', '/runbooks'],
  ['GET', '/runbooks/high-error-rate'],
  ['POST', '/runbook-runs', { runbook: 'high-error-rate', incident: UNKNOWN_INC }],
  ['GET', '/runbook-runs'],
  ['GET', `/runbook-runs/${UNKNOWN_RUN}`],
  ['POST', `/runbook-runs/${UNKNOWN_RUN}/steps/look`, { action: 'ack' }],
  ['GET', '/report'],
  ['POST', '/commands', { text: 'incident list' }],
];

function suite(name: string, databaseUrl: () => string | undefined) {
  describe(`incident API (${name})`, () => {
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
    const timeline = async (id: string) =>
      (await api('GET', `/incidents/${id}/timeline`, 'carol')).json.entries as {
        seq: number;
        kind: string;
        text: string;
      }[];

    it('every route answers 401 without a token, and with an unknown one', async () => {
      for (const [method, path, body] of ROUTES) {
        const none = await api(method, path, undefined, body);
        assert.equal(none.status, 401, `${method} ${path}: ${JSON.stringify(none.json)}`);
        assert.equal(none.json.code, 'UNAUTHENTICATED');
        const forged = await h.api(method, `${V1}${path}`, undefined, body, {
          authorization: 'Bearer cs_not_a_known_token',
        });
        assert.equal(forged.status, 401, `${method} ${path}`);
      }
    });

    it('every route is in the OpenAPI document, and every documented route exists', async () => {
      const doc = (await h.api('GET', '/api/openapi.json', undefined)).json;
      const template = (p: string) =>
        p
          .replace(/INC-0+|RBR-0+/, '{id}')
          .replace('/high-error-rate', '/{id}')
          .replace('/look', '/{step}');
      for (const [method, path] of ROUTES) {
        const op = doc.paths[template(path)]?.[method.toLowerCase()];
        assert.ok(op, `${method} ${template(path)} is not documented`);
        assert.ok(op.responses[401], `${method} ${template(path)} documents 401`);
      }
      for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
        for (const method of Object.keys(ops)) {
          const url = `${V1}${path.replace(/\{(\w+)\}/g, ':$1')}`;
          assert.ok(
            h.app.hasRoute({ method: method.toUpperCase() as 'GET', url }),
            `${method} ${path} is documented but not served`,
          );
        }
      }
    });

    it('declare → get → timeline → status update → severity proposed, refused, confirmed → resolve → postmortem', async () => {
      const inc = await declare('Checkout answers 5xx');
      assert.match(inc.id, /^INC-/);
      assert.equal(inc.status, 'open');
      assert.equal(inc.severity.level, 'sev2');

      const got = await incident(inc.id);
      assert.equal(got.incident.id, inc.id);
      assert.deepEqual(got.header.runbooks, [
        { id: 'high-error-rate', title: 'checkout-api is answering with 5xx' },
      ]);
      assert.ok(Array.isArray(got.header.alerts));
      assert.ok(Array.isArray(got.header.activeRuns));

      const listed = await api(
        'GET',
        '/incidents?status=open,mitigated&service=checkout-api',
        'carol',
      );
      assert.equal(listed.status, 200);
      assert.ok(listed.json.incidents.some((i: { id: string }) => i.id === inc.id));
      const resolvedOnly = await api('GET', '/incidents?status=resolved', 'carol');
      assert.ok(!resolvedOnly.json.incidents.some((i: { id: string }) => i.id === inc.id));

      const first = await timeline(inc.id);
      assert.equal(first[0]?.kind, 'opened');
      assert.deepEqual(
        first.map((e) => e.seq),
        first.map((_, n) => n + 1),
      );

      const update = await api('POST', `/incidents/${inc.id}/updates`, 'alice', {
        text: 'Rolling back 1.4.2',
      });
      assert.equal(update.status, 200, JSON.stringify(update.json));
      assert.equal(update.json.incident.lastUpdate.text, 'Rolling back 1.4.2');

      const proposed = await api('POST', `/incidents/${inc.id}/severity`, 'alice', {
        severity: 'sev1',
      });
      assert.equal(proposed.status, 200, JSON.stringify(proposed.json));
      assert.equal(proposed.json.incident.severity.proposed.level, 'sev1');
      assert.equal(proposed.json.incident.severity.level, 'sev2');

      const before = await incident(inc.id);
      const beforeTimeline = await timeline(inc.id);
      const refused = await api('POST', `/incidents/${inc.id}/severity/confirm`, 'alice');
      assert.equal(refused.status, 403, JSON.stringify(refused.json));
      assert.equal(refused.json.code, 'FORBIDDEN');
      assert.deepEqual((await incident(inc.id)).incident, before.incident, 'nothing changed');
      assert.equal((await timeline(inc.id)).length, beforeTimeline.length);

      const confirmed = await api('POST', `/incidents/${inc.id}/severity/confirm`, 'dave');
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.json));
      assert.equal(confirmed.json.incident.severity.level, 'sev1');
      assert.equal(confirmed.json.incident.severity.confirmed, true);
      const again = await api('POST', `/incidents/${inc.id}/severity/confirm`, 'dave');
      assert.equal(again.status, 409);
      assert.equal(again.json.code, 'SEVERITY_NOT_PENDING');

      const role = await api('POST', `/incidents/${inc.id}/roles`, 'alice', {
        role: 'commander',
        person: 'dave',
      });
      assert.equal(role.status, 200, JSON.stringify(role.json));
      assert.equal(role.json.incident.roles.commander, 'dave');

      h.clock.advance(60_000);
      const mitigated = await api('POST', `/incidents/${inc.id}/mitigate`, 'alice', {
        note: 'errors back to baseline',
      });
      assert.equal(mitigated.status, 200, JSON.stringify(mitigated.json));
      assert.equal(mitigated.json.incident.status, 'mitigated');

      h.clock.advance(60_000);
      const resolved = await api('POST', `/incidents/${inc.id}/resolve`, 'alice', {
        note: 'rolled back',
      });
      assert.equal(resolved.status, 200, JSON.stringify(resolved.json));
      assert.equal(resolved.json.incident.status, 'resolved');
      const version = resolved.json.incident.version;

      const twice = await api('POST', `/incidents/${inc.id}/resolve`, 'alice', {});
      assert.equal(twice.status, 409);
      assert.equal(twice.json.code, 'INCIDENT_CLOSED');
      assert.equal((await incident(inc.id)).incident.version, version, 'nothing changed');

      const pm = await api('GET', `/incidents/${inc.id}/postmortem`, 'carol');
      assert.equal(pm.status, 200);
      assert.equal(pm.headers['content-type'], 'text/markdown; charset=utf-8');
      const md = String(pm.json);
      assert.ok(md.includes('Checkout answers 5xx'), md);
      const lines = (await timeline(inc.id)).map((e) => e.text);
      const where = lines.map((text) => md.indexOf(text));
      assert.ok(
        where.every((at) => at >= 0),
        `every timeline line is in the postmortem:\n${lines.join('\n')}\n---\n${md}`,
      );
      assert.deepEqual(
        where,
        [...where].sort((a, b) => a - b),
        'in timeline order',
      );
      for (const fact of ['Rolling back 1.4.2', 'sev1', 'rolled back']) {
        assert.ok(md.includes(fact), `postmortem mentions ${fact}`);
      }
    });

    it('a viewer may read but not declare; refusals change nothing', async () => {
      const before = await h.store.listIncidents({ limit: 500 });
      const res = await api('POST', '/incidents', 'carol', {
        service: 'checkout-api',
        environment: 'prod',
        severity: 'sev3',
        title: 'carol tries',
      });
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'FORBIDDEN');
      assert.equal((await h.store.listIncidents({ limit: 500 })).length, before.length);
    });

    it('unknown ids answer 404 with their code', async () => {
      for (const path of [
        `/incidents/${UNKNOWN_INC}`,
        `/incidents/${UNKNOWN_INC}/timeline`,
        `/incidents/${UNKNOWN_INC}/postmortem`,
      ]) {
        const res = await api('GET', path, 'carol');
        assert.equal(res.status, 404, path);
        assert.equal(res.json.code, 'UNKNOWN_INCIDENT', path);
      }
      const resolve = await api('POST', `/incidents/${UNKNOWN_INC}/resolve`, 'alice', {});
      assert.equal(resolve.json.code, 'UNKNOWN_INCIDENT');
      const book = await api('GET', '/runbooks/no-such-runbook', 'carol');
      assert.equal(book.status, 404);
      assert.equal(book.json.code, 'UNKNOWN_RUNBOOK');
      const run = await api('GET', `/runbook-runs/${UNKNOWN_RUN}`, 'carol');
      assert.equal(run.status, 404);
      assert.equal(run.json.code, 'NOT_FOUND');
      const step = await api('POST', `/runbook-runs/${UNKNOWN_RUN}/steps/look`, 'alice', {
        action: 'ack',
      });
      assert.equal(step.status, 404);
    });

    it('malformed input answers 400 naming the field', async () => {
      const cases: ['GET' | 'POST', string, unknown, string][] = [
        [
          'POST',
          '/incidents',
          { service: 'checkout-api', environment: 'prod', severity: 'sev2' },
          'body.title',
        ],
        [
          'POST',
          '/incidents',
          { service: 'checkout-api', environment: 'prod', severity: 'sev9', title: 't' },
          'body.severity',
        ],
        [
          'POST',
          '/incidents',
          { service: 'Checkout API', environment: 'prod', severity: 'sev2', title: 't' },
          'body.service',
        ],
        [
          'POST',
          '/incidents',
          {
            service: 'checkout-api',
            environment: 'prod',
            severity: 'sev2',
            title: 't',
            colour: 'red',
          },
          'colour',
        ],
        ['POST', `/incidents/${UNKNOWN_INC}/severity`, { severity: 5 }, 'body.severity'],
        ['POST', `/incidents/${UNKNOWN_INC}/roles`, { role: 'boss', person: 'bob' }, 'body.role'],
        ['POST', `/incidents/${UNKNOWN_INC}/updates`, { text: '' }, 'body.text'],
        ['POST', `/incidents/${UNKNOWN_INC}/updates`, { text: 'bell\u0007' }, 'body.text'],
        ['POST', '/incidents/not-an-id/resolve', {}, 'path.id'],
        ['GET', '/incidents?status=closed', undefined, 'query.status'],
        ['GET', '/incidents?limit=0', undefined, 'query.limit'],
        ['POST', '/runbook-runs', { incident: UNKNOWN_INC }, 'body.runbook'],
        ['POST', `/runbook-runs/${UNKNOWN_RUN}/steps/look`, { action: 'jump' }, 'body.action'],
        ['GET', '/runbook-runs?state=paused', undefined, 'query.state'],
        ['GET', '/report?since=yesterday', undefined, 'query.since'],
        ['GET', '/report?since=1d&until=2d', undefined, 'query.since'],
        ['POST', '/commands', { line: 'incident list' }, 'body'],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await api(method, path, 'alice', body);
        assert.equal(
          res.status,
          400,
          `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`,
        );
        assert.equal(res.json.code, 'INVALID_INPUT');
        assert.ok(String(res.json.detail).includes(field), `${res.json.detail} names ${field}`);
      }
      const notJson = await h.api('POST', `${V1}/incidents`, 'alice', '{"service":', {
        'content-type': 'application/json',
      });
      assert.equal(notJson.status, 400);
    });

    it('an oversized body answers 413', async () => {
      const res = await api('POST', '/incidents', 'alice', {
        service: 'checkout-api',
        environment: 'prod',
        severity: 'sev2',
        title: 'x'.repeat(1_100_000),
      });
      assert.equal(res.status, 413);
      assert.equal(res.json.code, 'PAYLOAD_TOO_LARGE');
    });

    it('an Idempotency-Key declares once and replays the answer', async () => {
      const body = {
        service: 'checkout-api',
        environment: 'staging',
        severity: 'sev4',
        title: 'Once',
      };
      const headers = { 'idempotency-key': 'declare-once-1' };
      const first = await h.api('POST', `${V1}/incidents`, 'alice', body, headers);
      const second = await h.api('POST', `${V1}/incidents`, 'alice', body, headers);
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.equal(second.json.incident.id, first.json.incident.id);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      const other = await h.api(
        'POST',
        `${V1}/incidents`,
        'alice',
        { ...body, title: 'Twice' },
        headers,
      );
      assert.equal(other.status, 422);
    });
  });
}

suite('sqlite', () => undefined);

const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('postgres', () => pg?.url);
});
