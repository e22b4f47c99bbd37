/**
 * The incident half of the `Store` contract (incidents, timelines, runbook runs, changes,
 * report paging, and the outbox and change writes of ingestion), run against SQLite (a
 * temp folder) and PostgreSQL (a throwaway cluster or COUNTERSIGN_TEST_DATABASE_URL;
 * skipped with a notice when neither exists). Every test gets an empty database.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../src/adapters/store/open-store.ts';
import type { Store } from '../src/app/ports.ts';
import { DomainError } from '../src/domain/errors.ts';
import type {
  ChangeRecord,
  Incident,
  TimelineDraft,
  TimelineEntry,
} from '../src/domain/incident-model.ts';
import type { ActionRequest } from '../src/domain/request-model.ts';
import type { RunbookRun } from '../src/domain/runbook-model.ts';
import { freshDatabase, testPostgres } from './support/postgres.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const T0 = 1_700_000_000_000;
const clock = { now: () => T0 };

interface Site {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

function sqliteSite(): Site {
  const dir = mkdtempSync(join(tmpdir(), 'cs-incidents-'));
  return {
    open: () => openStore({ dataDir: join(dir, 'data'), sha256, clock }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

const server = await testPostgres();
after(() => server?.cleanup());

async function postgresSite(): Promise<Site> {
  if (!server) throw new Error('no PostgreSQL');
  const db = await freshDatabase(server.url);
  return {
    open: () => openStore({ databaseUrl: db.url, dataDir: '/nonexistent', sha256, clock }),
    cleanup: () => db.cleanup(),
  };
}

const pad = (n: number) => String(n).padStart(6, '0');

/** Incident n: alert-opened from group `GRP-n` when n is odd, declared when even. */
function incident(n: number, over: Partial<Incident> = {}): Incident {
  return {
    id: `INC-${pad(n)}`,
    title: `Incident ${n} — héllo`,
    service: n % 2 ? 'api' : 'web',
    environment: n % 3 ? 'prod' : 'staging',
    team: 'payments',
    severity: { level: 'sev2', confirmed: false },
    status: 'open',
    roles: { commander: 'alice', responders: ['bob'] },
    origin:
      n % 2
        ? { kind: 'alert', route: 'cloudwatch', groupId: `GRP-${pad(n)}`, alert: 'HighLatency' }
        : { kind: 'declared', by: 'alice', surface: 'slack' },
    alertGroups: n % 2 ? [`GRP-${pad(n)}`] : [],
    runbooks: ['rb-latency'],
    requests: [],
    runs: [],
    createdAt: T0 + n,
    updatedAt: T0 + n,
    version: 1,
    ...over,
  };
}

function run(n: number, over: Partial<RunbookRun> = {}): RunbookRun {
  return {
    id: `RBR-${pad(n)}`,
    runbook: 'rb-latency',
    runbookDigest: sha256('rb-latency'),
    incident: `INC-${pad(n % 3)}`,
    service: 'api',
    environment: 'prod',
    startedBy: 'alice',
    state: 'active',
    steps: [{ stepId: 'check-dashboards', status: 'current', startedAt: T0 + n }],
    createdAt: T0 + n,
    updatedAt: T0 + n,
    version: 1,
    ...over,
  };
}

function note(incidentId: string, n: number, over: Partial<TimelineDraft> = {}): TimelineDraft {
  return {
    incidentId,
    at: T0 + n,
    kind: 'note',
    actor: 'alice',
    text: `note ${n}`,
    detail: { n },
    ...over,
  };
}

function change(id: string, kind: ChangeRecord['kind'], at: number): ChangeRecord {
  return {
    id,
    service: 'api',
    environment: 'prod',
    kind,
    source: kind === 'deploy' ? 'countersign' : 'config',
    summary: `${kind} ${id}`,
    at,
  };
}

function request(n: number): ActionRequest {
  return {
    id: `REQ-${pad(n)}`,
    command: 'scale',
    service: 'api',
    environment: 'prod',
    class: 'mutating',
    params: { replicas: n },
    links: { incident: 'INC-000001' },
    requester: 'alice',
    surface: 'slack',
    digest: sha256(String(n)),
    state: 'pending',
    requirements: [],
    signOffs: [],
    createdAt: T0 + n,
    updatedAt: T0 + n,
    expiresAt: T0 + 1000 + n,
    version: 1,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof DomainError && e.code === code);
}

const ids = (xs: readonly { id: string }[]) => xs.map((x) => x.id);
const seqs = (es: readonly TimelineEntry[]) => es.map((e) => `${e.incidentId}#${e.seq}`);

function contract(makeSite: () => Site | Promise<Site>): void {
  const withStore = (body: (store: Store) => Promise<void>) => async () => {
    const site = await makeSite();
    const store = await site.open();
    try {
      await body(store);
    } finally {
      await store.close();
      await site.cleanup();
    }
  };

  it(
    'round-trips an incident and updates it only over the previous version',
    withStore(async (store) => {
      const i = incident(1, {
        mitigation: { rule: 'restart', ruleDigest: sha256('r'), requestId: 'REQ-1' },
        nextReminderAt: T0 + 60_000,
      });
      const seen = await store.transaction(async (tx) => {
        await tx.insertIncident(i);
        return tx.getIncident(i.id);
      });
      assert.deepEqual(seen, i);
      assert.deepEqual(await store.getIncident(i.id), i);
      assert.equal(await store.getIncident('INC-missing'), undefined);
      const next = { ...i, status: 'mitigated' as const, mitigatedAt: T0 + 5, version: 2 };
      await store.transaction((tx) => tx.updateIncident(next));
      await rejectsWith(
        store.transaction((tx) => tx.updateIncident(next)),
        'CONFLICT',
      );
      await rejectsWith(
        store.transaction((tx) => tx.updateIncident({ ...i, version: 4 })),
        'CONFLICT',
      );
      await rejectsWith(
        store.transaction((tx) => tx.updateIncident(incident(9, { version: 2 }))),
        'CONFLICT',
      );
      assert.deepEqual(await store.getIncident(i.id), next);
    }),
  );

  it(
    'holds one incident per alert group: a second insert is CONFLICT and changes nothing',
    withStore(async (store) => {
      const first = incident(1);
      await store.transaction((tx) => tx.insertIncident(first));
      const rival = incident(3, {
        origin: { kind: 'alert', route: 'cloudwatch', groupId: 'GRP-000001', alert: 'X' },
      });
      await rejectsWith(
        store.transaction((tx) => tx.insertIncident(rival)),
        'CONFLICT',
      );
      // The transaction stays usable after the conflict (on PostgreSQL too): the loser
      // reads the winner and its other writes commit.
      const winner = await store.transaction(async (tx) => {
        await assert.rejects(tx.insertIncident(rival), DomainError);
        await tx.insertIncident(incident(5));
        return tx.incidentForGroup('GRP-000001');
      });
      assert.deepEqual(winner, first);
      assert.equal(await store.getIncident(rival.id), undefined);
      assert.deepEqual(ids(await store.listIncidents({})), ['INC-000005', 'INC-000001']);
      await rejectsWith(
        store.transaction((tx) => tx.insertIncident({ ...first, origin: incident(2).origin })),
        'CONFLICT',
      );
      // Declared incidents have no group and never collide with each other.
      await store.transaction(async (tx) => {
        await tx.insertIncident(incident(2));
        await tx.insertIncident(incident(4));
      });
      assert.equal(await store.transaction((tx) => tx.incidentForGroup('GRP-none')), undefined);
    }),
  );

  it(
    'lets exactly one of two concurrent inserts for a group win',
    withStore(async (store) => {
      const group = incident(1).origin;
      const results = await Promise.allSettled(
        [1, 3].map((n) =>
          store.transaction(async (tx) => {
            await tx.insertIncident(incident(n, { origin: group }));
            await new Promise((resolve) => setTimeout(resolve, 20));
          }),
        ),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const lost = results.find((r) => r.status === 'rejected');
      assert.ok(lost?.status === 'rejected' && lost.reason instanceof DomainError);
      assert.equal(lost.reason.code, 'CONFLICT');
      assert.equal((await store.listIncidents({})).length, 1);
    }),
  );

  it(
    'numbers timeline entries per incident, in order, across incidents and transactions',
    withStore(async (store) => {
      const a = 'INC-000001';
      const b = 'INC-000002';
      const first = await store.transaction((tx) =>
        tx.appendTimeline([note(a, 1), note(b, 2), note(a, 3, { ref: 'REQ-9', kind: 'request' })]),
      );
      assert.deepEqual(seqs(first), [`${a}#1`, `${b}#1`, `${a}#2`]);
      assert.deepEqual(first[2], { ...note(a, 3, { ref: 'REQ-9', kind: 'request' }), seq: 2 });
      const second = await store.transaction(async (tx) => [
        ...(await tx.appendTimeline([note(b, 4)])),
        ...(await tx.appendTimeline([note(a, 5), note(a, 6)])),
        ...(await tx.appendTimeline([])),
      ]);
      assert.deepEqual(seqs(second), [`${b}#2`, `${a}#3`, `${a}#4`]);
      const all = await store.timeline(a);
      assert.deepEqual(all, [first[0], first[2], second[1], second[2]]);
      assert.equal(all[0] && 'ref' in all[0], false);
      assert.deepEqual(seqs(await store.timeline(a, 1, 2)), [`${a}#2`, `${a}#3`]);
      assert.deepEqual(seqs(await store.timeline(b)), [`${b}#1`, `${b}#2`]);
      assert.deepEqual(await store.timeline(a, 4), []);
      assert.deepEqual(await store.timeline(a, 0, 0), []);
      assert.deepEqual(await store.timeline('INC-none'), []);
    }),
  );

  it(
    'serialises read-modify-write transactions on one incident, timeline included',
    withStore(async (store) => {
      await store.transaction((tx) => tx.insertIncident(incident(1)));
      await Promise.all(
        Array.from({ length: 8 }, (_, k) =>
          store.transaction(async (tx) => {
            const i = await tx.getIncident('INC-000001');
            assert.ok(i);
            await new Promise((resolve) => setTimeout(resolve, 2));
            await tx.appendTimeline([note(i.id, k)]);
            await tx.updateIncident({ ...i, version: i.version + 1 });
          }),
        ),
      );
      assert.equal((await store.getIncident('INC-000001'))?.version, 9);
      const entries = await store.timeline('INC-000001');
      assert.deepEqual(
        entries.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
    }),
  );

  it(
    'round-trips a runbook run and updates it only over the previous version',
    withStore(async (store) => {
      const r = run(1, { ticket: 'CHG-1' });
      const seen = await store.transaction(async (tx) => {
        await tx.insertRun(r);
        return tx.getRun(r.id);
      });
      assert.deepEqual(seen, r);
      assert.deepEqual(await store.getRun(r.id), r);
      assert.equal(await store.getRun('RBR-missing'), undefined);
      const done = { ...r, state: 'completed' as const, finishedAt: T0 + 9, version: 2 };
      await store.transaction((tx) => tx.updateRun(done));
      await rejectsWith(
        store.transaction((tx) => tx.updateRun(done)),
        'CONFLICT',
      );
      await rejectsWith(
        store.transaction((tx) => tx.updateRun(run(7, { version: 2 }))),
        'CONFLICT',
      );
      assert.deepEqual(await store.getRun(r.id), done);
    }),
  );

  it(
    'lists incidents newest first with filters, paging and limits',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        for (let n = 1; n <= 520; n++) {
          await tx.insertIncident(incident(n, { status: n % 4 ? 'open' : 'resolved' }));
        }
      });
      assert.equal((await store.listIncidents({})).length, 50);
      assert.equal((await store.listIncidents({}))[0]?.id, 'INC-000520');
      assert.equal((await store.listIncidents({ limit: 10_000 })).length, 500);
      assert.equal((await store.listIncidents({ limit: 0 })).length, 0);
      assert.deepEqual(ids(await store.listIncidents({ before: 'INC-000003' })), [
        'INC-000002',
        'INC-000001',
      ]);
      const resolved = await store.listIncidents({ status: ['resolved'], limit: 500 });
      assert.equal(resolved.length, 130);
      assert.ok(resolved.every((i) => i.status === 'resolved'));
      assert.equal((await store.listIncidents({ status: [], limit: 500 })).length, 500);
      const some = await store.listIncidents({
        status: ['open', 'mitigated'],
        service: 'api',
        environment: 'staging',
        before: 'INC-000500',
        limit: 3,
      });
      assert.deepEqual(ids(some), ['INC-000495', 'INC-000489', 'INC-000483']);
    }),
  );

  it(
    'lists runs newest first by incident and state',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        for (let n = 1; n <= 12; n++) {
          await tx.insertRun(run(n, { state: n % 4 ? 'active' : 'completed' }));
        }
        await tx.insertRun(run(13, { incident: undefined, ticket: 'CHG-13' }));
      });
      assert.deepEqual(ids(await store.listRuns({ limit: 3 })), [
        'RBR-000013',
        'RBR-000012',
        'RBR-000011',
      ]);
      assert.deepEqual(ids(await store.listRuns({ incident: 'INC-000001' })), [
        'RBR-000010',
        'RBR-000007',
        'RBR-000004',
        'RBR-000001',
      ]);
      assert.deepEqual(ids(await store.listRuns({ states: ['completed', 'failed'] })), [
        'RBR-000012',
        'RBR-000008',
        'RBR-000004',
      ]);
      assert.deepEqual(ids(await store.listRuns({ incident: 'INC-000001', states: ['active'] })), [
        'RBR-000010',
        'RBR-000007',
        'RBR-000001',
      ]);
      assert.equal((await store.listRuns({ limit: 0 })).length, 0);
      assert.equal((await store.listRuns({ states: [] })).length, 13);
    }),
  );

  it(
    'records a change once and finds the newest deploy and config change at or before a time',
    withStore(async (store) => {
      assert.deepEqual(await store.lastChanges('api', 'prod', T0), {});
      await store.transaction(async (tx) => {
        await tx.recordChange(change('REQ-1', 'deploy', T0 + 10));
        await tx.recordChange(change('REQ-2', 'deploy', T0 + 20));
        await tx.recordChange(change('EV-1', 'config', T0 + 15));
        await tx.recordChange(change('EV-2', 'config', T0 + 40));
        await tx.recordChange({ ...change('EV-3', 'deploy', T0 + 25), environment: 'staging' });
        await tx.recordChange({ ...change('EV-4', 'deploy', T0 + 25), service: 'web' });
      });
      // A second record with the same id is ignored, whatever it says.
      await store.transaction((tx) => tx.recordChange(change('REQ-2', 'deploy', T0 + 1)));
      await store.transaction((tx) => tx.recordChange(change('REQ-2', 'config', T0 + 30)));
      assert.deepEqual(await store.lastChanges('api', 'prod', T0 + 30), {
        deploy: change('REQ-2', 'deploy', T0 + 20),
        config: change('EV-1', 'config', T0 + 15),
      });
      assert.deepEqual(await store.lastChanges('api', 'prod', T0 + 20), {
        deploy: change('REQ-2', 'deploy', T0 + 20),
        config: change('EV-1', 'config', T0 + 15),
      });
      assert.deepEqual(await store.lastChanges('api', 'prod', T0 + 12), {
        deploy: change('REQ-1', 'deploy', T0 + 10),
      });
      assert.deepEqual((await store.lastChanges('api', 'prod', T0 + 99)).config?.id, 'EV-2');
      assert.deepEqual((await store.lastChanges('api', 'staging', T0 + 99)).deploy?.id, 'EV-3');
    }),
  );

  it(
    'finds open and mitigated incidents due a reminder, the longest overdue first',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        await tx.insertIncident(incident(1, { nextReminderAt: T0 + 300 }));
        await tx.insertIncident(incident(2, { nextReminderAt: T0 + 100 }));
        await tx.insertIncident(incident(3, { status: 'mitigated', nextReminderAt: T0 + 200 }));
        await tx.insertIncident(incident(4, { status: 'resolved', nextReminderAt: T0 }));
        await tx.insertIncident(incident(5));
        await tx.insertIncident(incident(6, { nextReminderAt: T0 + 900 }));
      });
      assert.deepEqual(ids(await store.incidentsDueReminder(T0 + 300, 10)), [
        'INC-000002',
        'INC-000003',
        'INC-000001',
      ]);
      assert.deepEqual(ids(await store.incidentsDueReminder(T0 + 300, 2)), [
        'INC-000002',
        'INC-000003',
      ]);
      assert.deepEqual(await store.incidentsDueReminder(T0 + 99, 10), []);
      assert.deepEqual(await store.incidentsDueReminder(T0 + 300, 0), []);
      const i = await store.getIncident('INC-000002');
      assert.ok(i);
      const { nextReminderAt: _, ...rest } = i;
      await store.transaction((tx) => tx.updateIncident({ ...rest, version: 2 }));
      assert.deepEqual(ids(await store.incidentsDueReminder(T0 + 300, 10)), [
        'INC-000003',
        'INC-000001',
      ]);
    }),
  );

  it(
    'pages requests, incidents and runs created since a time, in id order',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        for (let n = 1; n <= 9; n++) {
          await tx.insertRequest(request(n));
          await tx.insertIncident(incident(n));
          await tx.insertRun(run(n));
        }
      });
      const readers = [
        (after: string | undefined, limit: number) => store.requestsSince(T0 + 3, after, limit),
        (after: string | undefined, limit: number) => store.incidentsSince(T0 + 3, after, limit),
        (after: string | undefined, limit: number) => store.runsSince(T0 + 3, after, limit),
      ];
      for (const read of readers) {
        const pages: string[][] = [];
        for (let afterId: string | undefined; ; ) {
          const page = await read(afterId, 3);
          if (page.length === 0) break;
          pages.push(ids(page).map((id) => id.slice(-2)));
          afterId = page.at(-1)?.id;
        }
        assert.deepEqual(pages, [['03', '04', '05'], ['06', '07', '08'], ['09']]);
        assert.deepEqual(await read(undefined, 0), []);
      }
      assert.deepEqual(await store.incidentsSince(T0 + 100, undefined, 10), []);
    }),
  );

  it(
    'returns at most 5000 records per report page',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        for (let n = 1; n <= 5001; n++) await tx.insertRun(run(n));
      });
      const page = await store.runsSince(T0, undefined, 1_000_000);
      assert.equal(page.length, 5000);
      assert.equal(page.at(-1)?.id, 'RBR-005000');
      assert.deepEqual(ids(await store.runsSince(T0, page.at(-1)?.id, 1_000_000)), ['RBR-005001']);
    }),
  );

  it(
    'enqueues outbox effects from ingestion, skipping known keys and rolling back with it',
    withStore(async (store) => {
      const effect = (key: string) => ({
        kind: 'open-incident' as const,
        key,
        payload: { groupId: key },
        availableAt: T0,
      });
      await store.transaction((tx) => tx.enqueue([effect('open:GRP-1')]));
      await store.ingest.transaction(async (tx) => {
        await tx.enqueue([effect('open:GRP-1'), effect('open:GRP-2')]);
        await tx.enqueue([]);
      });
      await assert.rejects(
        store.ingest.transaction(async (tx) => {
          await tx.enqueue([effect('open:GRP-3')]);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.countOutbox(), 2);
      const claimed = await store.claimOutbox(T0, 10, 1000);
      assert.deepEqual(
        claimed.map((e) => [e.kind, e.key, e.payload, e.createdAt, e.attempts]),
        [
          ['open-incident', 'open:GRP-1', { groupId: 'open:GRP-1' }, T0, 1],
          ['open-incident', 'open:GRP-2', { groupId: 'open:GRP-2' }, T0, 1],
        ],
      );
    }),
  );

  it(
    'records changes from ingestion once, and not when its transaction rolls back',
    withStore(async (store) => {
      await store.ingest.transaction(async (tx) => {
        await tx.recordChange(change('EV-1', 'deploy', T0 + 10));
        await tx.recordChange(change('EV-1', 'deploy', T0 + 30));
      });
      await assert.rejects(
        store.ingest.transaction(async (tx) => {
          await tx.recordChange(change('EV-2', 'deploy', T0 + 20));
          throw new Error('boom');
        }),
        /boom/,
      );
      await store.ingest.transaction((tx) => tx.recordChange(change('EV-3', 'config', T0 + 5)), {
        durable: false,
      });
      assert.deepEqual(await store.lastChanges('api', 'prod', T0 + 99), {
        deploy: change('EV-1', 'deploy', T0 + 10),
        config: change('EV-3', 'config', T0 + 5),
      });
    }),
  );

  it(
    'leaves no incident, timeline, run or change rows behind a transaction that throws',
    withStore(async (store) => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insertIncident(incident(1));
          await tx.appendTimeline([note('INC-000001', 1)]);
          await tx.insertRun(run(1));
          await tx.recordChange(change('REQ-1', 'deploy', T0));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.getIncident('INC-000001'), undefined);
      assert.deepEqual(await store.timeline('INC-000001'), []);
      assert.equal(await store.getRun('RBR-000001'), undefined);
      assert.deepEqual(await store.lastChanges('api', 'prod', T0), {});
      // The group is free again, and the timeline starts at 1.
      await store.transaction(async (tx) => {
        await tx.insertIncident(incident(1));
        const [entry] = await tx.appendTimeline([note('INC-000001', 1)]);
        assert.equal(entry?.seq, 1);
      });
    }),
  );

  it(
    'a transaction with durable: false commits like any other and rolls back on a throw',
    withStore(async (store) => {
      await store.transaction((tx) => tx.insertIncident(incident(7)), { durable: false });
      assert.equal((await store.getIncident('INC-000007'))?.id, 'INC-000007');
      await assert.rejects(
        store.transaction(
          async (tx) => {
            await tx.insertRun(run(7));
            throw new Error('boom');
          },
          { durable: false },
        ),
        /boom/,
      );
      assert.equal(await store.getRun('RBR-000007'), undefined);
      // The connection is back to durable commits afterwards.
      await store.transaction((tx) => tx.insertRun(run(8)));
      assert.equal((await store.getRun('RBR-000008'))?.id, 'RBR-000008');
    }),
  );
}

describe('incident store: sqlite', () => contract(sqliteSite));

describe('incident store: postgres', { skip: server ? false : 'no PostgreSQL available' }, () =>
  contract(postgresSite),
);
