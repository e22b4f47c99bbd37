/**
 * The review report over a hand-built month. Every expected median and p90 below is worked
 * out by hand in the comment beside it (nearest rank: the p-th of n sorted samples is the
 * one at rank ceil(p/100 × n)).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testCatalog } from '../../test/support/catalog-fixture.ts';
import type { Incident } from './incident-model.ts';
import type { ActionRequest, SignOff } from './request-model.ts';
import { formatReport, percentile, type ReviewInput, reviewReport } from './review-report.ts';
import type { RunbookRun } from './runbook-model.ts';

const T0 = Date.UTC(2026, 10, 1);
const S = 1000;
const M = 60 * S;
const H = 60 * M;

const approval = { kind: 'approval' as const, count: 1, roles: [], because: 'test' };
const signOff = (
  by: string,
  at: number,
  kind: SignOff['kind'] = 'approval',
  digest = 'd',
): SignOff => ({
  kind,
  by,
  surface: 'slack',
  at,
  digest,
});

function req(id: string, createdAt: number, extra: Partial<ActionRequest> = {}): ActionRequest {
  return {
    id,
    command: 'deploy',
    service: 'checkout-api',
    environment: 'prod',
    class: 'mutating',
    params: {},
    links: { ticket: 'CHG-1' },
    requester: 'alice',
    surface: 'slack',
    digest: 'd',
    state: 'succeeded',
    requirements: [approval],
    signOffs: [],
    createdAt,
    updatedAt: createdAt,
    expiresAt: createdAt + H,
    version: 1,
    ...extra,
  };
}
const ran = (
  startedAt: number,
  finishedAt: number,
  outcome: 'succeeded' | 'failed' | 'unknown' = 'succeeded',
) => ({
  execution: { attempt: 1, startedAt, finishedAt, outcome },
});

const requests: ActionRequest[] = [
  // D1: approval 2m, result 3m; rolled back by R1 (within 24 h)
  req('REQ-D1', T0, { signOffs: [signOff('bob', T0 + 2 * M)], ...ran(T0 + 2 * M, T0 + 5 * M) }),
  // D2: approval 10m, result 2m, failed; rolled back by R1
  req('REQ-D2', T0 + H, {
    state: 'failed',
    signOffs: [signOff('bob', T0 + H + 10 * M)],
    ...ran(T0 + H + 10 * M, T0 + H + 12 * M, 'failed'),
  }),
  // D3: approval 4m (a later sign-off of an old digest does not count), result 6m
  req('REQ-D3', T0 + 2 * H, {
    signOffs: [
      signOff('bob', T0 + 2 * H + 4 * M),
      signOff('erin', T0 + 2 * H + 8 * M, 'approval', 'old'),
    ],
    ...ran(T0 + 2 * H + 4 * M, T0 + 2 * H + 10 * M),
  }),
  // D4: staging, nothing needed: no approval sample, result 1m from creation
  req('REQ-D4', T0 + 3 * H, {
    environment: 'staging',
    requirements: [],
    ...ran(T0 + 3 * H, T0 + 3 * H + M),
  }),
  // D5: still pending
  req('REQ-D5', T0 + 4 * H, { state: 'pending' }),
  // D6: break glass, outcome unknown: result 3m from creation
  req('REQ-D6', T0 + 5 * H, {
    state: 'unknown',
    breakGlass: { reason: 'site down' },
    ...ran(T0 + 5 * H, T0 + 5 * H + 3 * M, 'unknown'),
  }),
  // D7: outside the window
  req('REQ-D7', T0 + 40 * 24 * H, { signOffs: [signOff('bob', T0 + 40 * 24 * H + M)] }),
  // R1: approval 5m (the later of two sign-offs), result 2m
  req('REQ-R1', T0 + H + 20 * M, {
    command: 'rollback',
    requirements: [approval, { ...approval, kind: 'rollback-confirm' }],
    signOffs: [
      signOff('bob', T0 + H + 22 * M),
      signOff('dave', T0 + H + 25 * M, 'rollback-confirm'),
    ],
    ...ran(T0 + H + 25 * M, T0 + H + 27 * M),
  }),
  // R2: pre-approved by a mitigation rule, result 1m; 25 h after D6: no rollback of it
  req('REQ-R2', T0 + 30 * H, {
    command: 'rollback',
    requester: 'rule:drain',
    origin: {
      kind: 'mitigation',
      rule: 'drain',
      ruleDigest: 'x',
      team: 'payments',
      incident: 'INC-3',
    },
    ...ran(T0 + 30 * H, T0 + 30 * H + M),
  }),
  // S1: a runbook step's read-only command, result 30s
  req('REQ-S1', T0 + 10 * M, {
    command: 'status',
    class: 'read-only',
    requirements: [],
    origin: { kind: 'runbook', run: 'RBR-1', step: 'check' },
    ...ran(T0 + 10 * M, T0 + 10 * M + 30 * S),
  }),
];

const run = (id: string, runbook: string, createdAt: number): RunbookRun => ({
  id,
  runbook,
  runbookDigest: 'x',
  service: 'checkout-api',
  environment: 'prod',
  startedBy: 'alice',
  state: 'completed',
  steps: [],
  createdAt,
  updatedAt: createdAt,
  version: 1,
});
const runs = [
  run('RBR-1', 'rb-5xx', T0 + 9 * M),
  run('RBR-2', 'rb-5xx', T0 + 3 * H),
  run('RBR-3', 'rb-db', T0 + 4 * H),
];

function incident(
  id: string,
  route: string | undefined,
  createdAt: number,
  extra: Partial<Incident> = {},
): Incident {
  return {
    id,
    title: id,
    service: 'checkout-api',
    environment: 'prod',
    team: 'payments',
    severity: { level: 'sev2', confirmed: false },
    status: 'open',
    roles: { responders: [] },
    origin: route
      ? { kind: 'alert', route, groupId: `G-${id}`, alert: 'High5xx' }
      : { kind: 'declared', by: 'alice', surface: 'slack' },
    alertGroups: [],
    runbooks: [],
    requests: [],
    runs: [],
    createdAt,
    updatedAt: createdAt,
    version: 1,
    ...extra,
  };
}
const incidents = [
  // I1: first action 1m after the alert: the run RBR-1 → route and runbook:rb-5xx
  incident('INC-1', 'checkout-5xx', T0 + 8 * M, { firstActionAt: T0 + 9 * M, runs: ['RBR-1'] }),
  // I2: first action 10m after: the request REQ-D2 → route and command:deploy
  incident('INC-2', 'checkout-5xx', T0 + 50 * M, { firstActionAt: T0 + H, requests: ['REQ-D2'] }),
  // I3: no action yet
  incident('INC-3', 'checkout-5xx', T0 + 6 * H),
  // I4: first action 5m after, nothing linked: the route only
  incident('INC-4', 'db-latency', T0 + 4 * H - 3 * M, { firstActionAt: T0 + 4 * H + 2 * M }),
  // I5: declared, not a route's
  incident('INC-5', undefined, T0 + 7 * H, { firstActionAt: T0 + 7 * H + M }),
];

const input: ReviewInput = {
  requests,
  incidents,
  runs,
  catalog: testCatalog(),
  window: { since: T0, until: T0 + 30 * 24 * H },
};

describe('review report', () => {
  const report = reviewReport(input);
  const stats = (w: string) => {
    const s = report.workflows.find((x) => x.workflow === w);
    assert.ok(s, w);
    return s;
  };

  it('lists workflows busiest first, ties by name', () => {
    assert.deepEqual(
      report.workflows.map((w) => [w.workflow, w.count]),
      [
        ['command:deploy', 6],
        ['route:checkout-5xx', 3],
        ['command:rollback', 2],
        ['runbook:rb-5xx', 2],
        ['command:status', 1],
        ['route:db-latency', 1],
        ['runbook:rb-db', 1],
      ],
    );
  });

  it('command:deploy', () => {
    assert.deepEqual(stats('command:deploy'), {
      workflow: 'command:deploy',
      count: 6,
      // I2's 10m, attributed by its first action REQ-D2
      alertToFirstAction: { samples: 1, median: 10 * M, p90: 10 * M },
      // [2, 4, 10]m: median rank ceil(1.5) = 2 → 4m; p90 rank ceil(2.7) = 3 → 10m
      requestToApproval: { samples: 3, median: 4 * M, p90: 10 * M },
      // [1, 2, 3, 3, 6]m: median rank ceil(2.5) = 3 → 3m; p90 rank ceil(4.5) = 5 → 6m
      approvalToResult: { samples: 5, median: 3 * M, p90: 6 * M },
      // D1 D2 D3 D4 D6 finished; D2 failed, D6 unknown
      finished: 5,
      failed: 2,
      failureRate: 0.4,
      // D1 D2 D3 D4 D6 ran; R1 follows D1 and D2 on prod within 24 h
      rollbackEligible: 5,
      rolledBack: 2,
      rollbackRate: 0.4,
      preApproved: 0,
      breakGlass: 1,
    });
  });

  it('command:rollback: its own rollback is none, so no rollback rate', () => {
    assert.deepEqual(stats('command:rollback'), {
      workflow: 'command:rollback',
      count: 2,
      alertToFirstAction: { samples: 0 },
      requestToApproval: { samples: 1, median: 5 * M, p90: 5 * M },
      // [1, 2]m: median rank 1 → 1m; p90 rank ceil(1.8) = 2 → 2m
      approvalToResult: { samples: 2, median: M, p90: 2 * M },
      finished: 2,
      failed: 0,
      failureRate: 0,
      rollbackEligible: 0,
      rolledBack: 0,
      preApproved: 1,
      breakGlass: 0,
    });
  });

  it('routes: time from alert to first action', () => {
    // [1, 10]m: median rank 1 → 1m; p90 rank 2 → 10m
    assert.deepEqual(stats('route:checkout-5xx').alertToFirstAction, {
      samples: 2,
      median: M,
      p90: 10 * M,
    });
    assert.deepEqual(stats('route:db-latency').alertToFirstAction, {
      samples: 1,
      median: 5 * M,
      p90: 5 * M,
    });
    assert.equal(stats('route:checkout-5xx').finished, 0);
    assert.equal(stats('route:checkout-5xx').failureRate, undefined);
  });

  it('runbooks: runs counted, their steps’ requests and first actions attributed', () => {
    const rb = stats('runbook:rb-5xx');
    assert.equal(rb.count, 2);
    assert.deepEqual(rb.alertToFirstAction, { samples: 1, median: M, p90: M });
    assert.deepEqual(rb.approvalToResult, { samples: 1, median: 30 * S, p90: 30 * S });
    assert.equal(rb.finished, 1);
    assert.equal(stats('runbook:rb-db').finished, 0);
  });

  it('totals count every record once', () => {
    assert.deepEqual(report.totals, {
      requests: 9,
      incidents: 5,
      runs: 3,
      // [1, 5, 10]m: median rank 2 → 5m; p90 rank 3 → 10m (the declared INC-5 is not an alert's)
      alertToFirstAction: { samples: 3, median: 5 * M, p90: 10 * M },
      // [2, 4, 5, 10]m: median rank 2 → 4m; p90 rank ceil(3.6) = 4 → 10m
      requestToApproval: { samples: 4, median: 4 * M, p90: 10 * M },
      // [0.5, 1, 1, 2, 2, 3, 3, 6]m: median rank 4 → 2m; p90 rank ceil(7.2) = 8 → 6m
      approvalToResult: { samples: 8, median: 2 * M, p90: 6 * M },
      finished: 8,
      failed: 2,
      failureRate: 0.25,
      rollbackEligible: 5,
      rolledBack: 2,
      rollbackRate: 0.4,
      preApproved: 1,
      breakGlass: 1,
    });
  });

  it('an empty window has no samples and no rates', () => {
    const empty = reviewReport({ ...input, window: { since: 0, until: 1 } });
    assert.deepEqual(empty.workflows, []);
    assert.equal(empty.totals.requestToApproval.median, undefined);
    assert.equal(empty.totals.failureRate, undefined);
    assert.equal(empty.totals.requests, 0);
  });
});

describe('nearest-rank percentile', () => {
  it('always picks a real sample', () => {
    assert.equal(percentile([], 50), undefined);
    assert.equal(percentile([7], 90), 7);
    assert.equal(percentile([4, 1, 3, 2], 50), 2); // rank 2 of [1,2,3,4]
    assert.equal(percentile([4, 1, 3, 2], 90), 4); // rank ceil(3.6) = 4
    const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    assert.equal(percentile(ten, 50), 5); // rank 5
    assert.equal(percentile(ten, 90), 9); // rank 9
    assert.equal(percentile(ten, 100), 10);
  });
});

describe('formatReport', () => {
  it('prints an aligned plain-text table', () => {
    const small = reviewReport({
      ...input,
      requests: requests.filter((r) => r.id === 'REQ-D1'),
      incidents: incidents.filter((i) => i.id === 'INC-4'),
      runs: [],
    });
    assert.equal(
      formatReport(small),
      [
        'Review report 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z',
        '1 requests, 1 incidents, 0 runbook runs. Durations: median / p90 (nearest rank).',
        '',
        'Workflow          Count  Alert→action p50 / p90  Request→approval p50 / p90  Approval→result p50 / p90  Failed    Rolled back  Pre-approved  Break glass',
        'command:deploy        1  - / -                   2m 00s / 2m 00s             3m 00s / 3m 00s            0% (0/1)  0% (0/1)                0            0',
        'route:db-latency      1  5m 00s / 5m 00s         - / -                       - / -                      -         -                       0            0',
        'total                    5m 00s / 5m 00s         2m 00s / 2m 00s             3m 00s / 3m 00s            0% (0/1)  0% (0/1)                0            0',
        '',
      ].join('\n'),
    );
  });
});
