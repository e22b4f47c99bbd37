import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testCatalog } from '../../test/support/catalog-fixture.ts';
import type { Incident, TimelineEntry } from './incident-model.ts';
import {
  duration,
  escapeMarkdown,
  type PostmortemInput,
  postmortemMarkdown,
} from './postmortem.ts';
import type { ActionRequest } from './request-model.ts';
import type { RunbookRun } from './runbook-model.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const M = 60_000;
const S = 1000;

const incident: Incident = {
  id: 'INC-1',
  title: 'Checkout 5xx rising',
  service: 'checkout-api',
  environment: 'prod',
  team: 'payments',
  severity: { level: 'sev2', confirmed: true, confirmedBy: 'dave' },
  status: 'resolved',
  roles: { commander: 'bob', responders: ['alice', 'erin'] },
  origin: { kind: 'alert', route: 'checkout-5xx', groupId: 'G1', alert: 'High5xx' },
  alertGroups: ['G1'],
  runbooks: ['rb-5xx'],
  requests: ['REQ-1', 'REQ-2'],
  runs: ['RBR-1'],
  createdAt: T0,
  updatedAt: T0 + 62 * M + 30 * S,
  firstActionAt: T0 + 3 * M,
  mitigatedAt: T0 + 15 * M + 5 * S,
  resolvedAt: T0 + 62 * M + 30 * S,
  version: 9,
};

const entry = (seq: number, at: number, actor: string, text: string, ref?: string) =>
  ({
    incidentId: 'INC-1',
    seq,
    at,
    kind: 'note',
    actor,
    text,
    ...(ref ? { ref } : {}),
    detail: {},
  }) satisfies TimelineEntry;

const timeline: TimelineEntry[] = [
  entry(3, T0 + 3 * M, 'alice', 'alice requested rollback checkout-api prod', 'REQ-1'),
  entry(
    1,
    T0,
    'system',
    'opened from alert High5xx (route checkout-5xx), sev2 awaiting confirmation',
    'G1',
  ),
  entry(2, T0 + M, 'dave', 'dave confirmed sev2'),
  entry(4, T0 + 4 * M, 'alice', 'alice started runbook rb-5xx', 'RBR-1'),
  entry(5, T0 + 15 * M + 5 * S, 'bob', 'bob marked it mitigated'),
  entry(6, T0 + 62 * M + 30 * S, 'bob', 'bob resolved it'),
];

const request = (extra: Partial<ActionRequest>): ActionRequest => ({
  id: 'REQ-1',
  command: 'rollback',
  service: 'checkout-api',
  environment: 'prod',
  class: 'mutating',
  params: {},
  links: { incident: 'INC-1' },
  requester: 'alice',
  surface: 'slack',
  digest: 'd1',
  state: 'succeeded',
  requirements: [
    { kind: 'approval', count: 1, roles: [], because: 'policy prod-changes' },
    { kind: 'rollback-confirm', count: 1, roles: [], because: 'command rollback' },
  ],
  signOffs: [
    { kind: 'approval', by: 'bob', surface: 'slack', at: T0 + 4 * M, digest: 'd1' },
    { kind: 'rollback-confirm', by: 'dave', surface: 'slack', at: T0 + 5 * M, digest: 'd1' },
  ],
  execution: { attempt: 1, startedAt: T0 + 6 * M, finishedAt: T0 + 10 * M, outcome: 'succeeded' },
  createdAt: T0 + 3 * M,
  updatedAt: T0 + 10 * M,
  expiresAt: T0 + 63 * M,
  version: 5,
  ...extra,
});

const requests: ActionRequest[] = [
  request({
    id: 'REQ-2',
    command: 'deploy',
    params: { version: '1.4.3', note: 'hotfix' },
    state: 'failed',
    requirements: [{ kind: 'approval', count: 1, roles: [], because: 'policy prod-changes' }],
    signOffs: [{ kind: 'approval', by: 'bob', surface: 'api', at: T0 + 20 * M, digest: 'd1' }],
    execution: { attempt: 1, startedAt: T0 + 20 * M, finishedAt: T0 + 21 * M, outcome: 'failed' },
    createdAt: T0 + 20 * M,
  }),
  request({}),
];

const run: RunbookRun = {
  id: 'RBR-1',
  runbook: 'rb-5xx',
  runbookDigest: 'abc',
  incident: 'INC-1',
  service: 'checkout-api',
  environment: 'prod',
  startedBy: 'alice',
  state: 'completed',
  steps: [
    {
      stepId: 'dashboards',
      status: 'done',
      startedAt: T0 + 4 * M,
      finishedAt: T0 + 5 * M,
      operator: 'alice',
      output: '\nerror rate 12%\nmore lines',
    },
    {
      stepId: 'decide',
      status: 'done',
      startedAt: T0 + 5 * M,
      finishedAt: T0 + 6 * M,
      operator: 'bob',
      choice: 'rollback',
    },
    {
      stepId: 'rollback',
      status: 'done',
      startedAt: T0 + 6 * M,
      finishedAt: T0 + 10 * M,
      operator: 'alice',
      requestId: 'REQ-1',
      output: 'rolled back to 1.4.1',
    },
    {
      stepId: 'notify',
      status: 'skipped',
      startedAt: T0 + 10 * M,
      finishedAt: T0 + 10 * M,
      operator: 'bob',
      reason: 'already posted',
    },
  ],
  createdAt: T0 + 4 * M,
  updatedAt: T0 + 14 * M,
  finishedAt: T0 + 14 * M,
  version: 8,
};

const input: PostmortemInput = {
  incident,
  timeline,
  requests,
  runs: [
    {
      run,
      runbookTitle: 'Checkout 5xx',
      stepTitles: {
        dashboards: 'Check the dashboards',
        decide: 'Roll back?',
        rollback: 'Roll back',
      },
    },
  ],
  catalog: testCatalog(),
};

const EXPECTED = `# Postmortem: INC-1 — Checkout 5xx rising

_A draft generated from the incident record. Times are UTC._

## Summary

| Field | Value |
|---|---|
| Incident | INC-1 |
| Service | checkout-api (team payments) |
| Environment | prod |
| Severity | sev2, confirmed by dave |
| Status | resolved |
| Origin | alert High5xx (route checkout-5xx) |
| Commander | bob |
| Scribe | — |
| Responders | alice, erin |
| Opened | 2026-11-25T12:00:00Z |
| First action | 2026-11-25T12:03:00Z |
| Mitigated | 2026-11-25T12:15:05Z |
| Resolved | 2026-11-25T13:02:30Z |
| Time to first action | 3m 00s |
| Time to mitigation | 15m 05s |
| Time to resolution | 1h 02m |
| Pre-approved mitigation | — |

## Timeline

| Time | Who | What | Ref |
|---|---|---|---|
| 12:00:00 | system | opened from alert High5xx (route checkout-5xx), sev2 awaiting confirmation | G1 |
| 12:01:00 | dave | dave confirmed sev2 |  |
| 12:03:00 | alice | alice requested rollback checkout-api prod | REQ-1 |
| 12:04:00 | alice | alice started runbook rb-5xx | RBR-1 |
| 12:15:05 | bob | bob marked it mitigated |  |
| 13:02:30 | bob | bob resolved it |  |

## Actions taken

| Request | Command | Requested by | Approved by | State | Requested | Finished |
|---|---|---|---|---|---|---|
| REQ-1 | rollback checkout-api prod | alice | bob, dave (rollback-confirm) | succeeded | 12:03:00 | 12:10:00 |
| REQ-2 | deploy checkout-api prod version=1.4.3 note=\\[REDACTED\\] | alice | bob | failed | 12:20:00 | 12:21:00 |

## Runbook runs

### RBR-1: Checkout 5xx (rb-5xx), completed

Started by alice at 12:04:00; finished at 12:14:00.

| Step | Status | Operator | Outcome | Started | Finished |
|---|---|---|---|---|---|
| Check the dashboards | done | alice | error rate 12% | 12:04:00 | 12:05:00 |
| Roll back? | done | bob | chose rollback | 12:05:00 | 12:06:00 |
| Roll back | done | alice | rolled back to 1.4.1; REQ-1 | 12:06:00 | 12:10:00 |
| notify | skipped | bob | reason: already posted | 12:10:00 | 12:10:00 |

## Impact

_To be written._

## Root cause

_To be written._

## What went well

_To be written._

## What to improve

_To be written._
`;

describe('postmortem draft', () => {
  it('renders a small incident exactly', () => {
    assert.equal(postmortemMarkdown(input), EXPECTED);
  });

  it('is deterministic and does not depend on input order', () => {
    const shuffled = {
      ...input,
      timeline: [...timeline].reverse(),
      requests: [...requests].reverse(),
    };
    assert.equal(postmortemMarkdown(shuffled), EXPECTED);
  });

  it('without a catalog no parameter value is shown', () => {
    const doc = postmortemMarkdown({ ...input, catalog: undefined });
    assert.match(doc, /version=\\\[REDACTED\\\] note=\\\[REDACTED\\\]/);
    assert.doesNotMatch(doc, /1\.4\.3/);
  });

  it('an open incident: empty sections and a pending severity proposal', () => {
    const open: Incident = {
      ...incident,
      status: 'open',
      severity: { level: 'sev2', confirmed: false, proposed: { level: 'sev1', by: 'bob', at: T0 } },
      origin: { kind: 'declared', by: 'alice', surface: 'cli' },
      roles: { responders: [] },
      firstActionAt: undefined,
      mitigatedAt: undefined,
      resolvedAt: undefined,
      mitigation: { rule: 'drain', ruleDigest: 'x', requestId: 'REQ-9' },
    };
    const doc = postmortemMarkdown({ incident: open, timeline: [], runs: [], requests: [] });
    assert.match(doc, /\| Severity \| sev2, unconfirmed, sev1 proposed by bob \|/);
    assert.match(doc, /\| Origin \| declared by alice \(cli\) \|/);
    assert.match(doc, /\| Responders \| — \|/);
    assert.match(doc, /\| Time to resolution \| — \|/);
    assert.match(doc, /\| Pre-approved mitigation \| rule drain \(REQ-9\) \|/);
    assert.match(doc, /## Timeline\n\n_No entries._\n\n## Actions taken\n\n_No requests._\n/);
    assert.match(doc, /## Runbook runs\n\n_No runbook runs._\n\n## Impact/);
  });

  it('a pre-approved request and break glass say so', () => {
    const pre = request({
      id: 'REQ-9',
      requirements: [],
      signOffs: [],
      origin: {
        kind: 'mitigation',
        rule: 'drain',
        ruleDigest: 'x',
        team: 'payments',
        incident: 'INC-1',
      },
    });
    const glass = request({
      id: 'REQ-8',
      requirements: [],
      signOffs: [],
      breakGlass: { reason: 'site down' },
    });
    const none = request({
      id: 'REQ-7',
      command: 'status',
      class: 'read-only',
      requirements: [],
      signOffs: [],
    });
    const doc = postmortemMarkdown({ ...input, requests: [pre, glass, none] });
    assert.match(
      doc,
      /\| REQ-9 \| rollback checkout-api prod \| alice \| pre-approved by rule drain \|/,
    );
    assert.match(doc, /\| REQ-8 \| [^\n]* \| break glass: site down \|/);
    assert.match(doc, /\| REQ-7 \| status checkout-api prod \| alice \| not needed \|/);
  });

  it('entries on a later day carry the date', () => {
    const late = entry(7, T0 + 13 * 60 * M, 'bob', 'bob resolved it');
    const doc = postmortemMarkdown({ ...input, timeline: [late] });
    assert.match(doc, /\| 2026-11-26 01:00:00 \| bob \| bob resolved it \| {2}\|/);
  });
});

describe('postmortem escaping', () => {
  it('escapes what could start markup, and collapses newlines', () => {
    assert.equal(escapeMarkdown('# Title'), '\\# Title');
    assert.equal(escapeMarkdown('a | b'), 'a \\| b');
    assert.equal(escapeMarkdown('run `rm -rf`'), 'run \\`rm -rf\\`');
    assert.equal(escapeMarkdown('<!-- hide'), '\\<!-- hide');
    assert.equal(escapeMarkdown('[click](http://x)'), '\\[click\\](http://x)');
    assert.equal(escapeMarkdown('*bold* _it_ ~~s~~ \\'), '\\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\\\');
    assert.equal(escapeMarkdown('line one\n\n## two\r\n|x|'), 'line one \\#\\# two \\|x\\|');
  });

  it('text from chat cannot break the document', () => {
    const hostile = '# Owned | `code\n## Fake section\n<!-- the rest is hidden\n| a | b |';
    const doc = postmortemMarkdown({
      ...input,
      incident: { ...incident, title: hostile, roles: { commander: 'x|y', responders: [] } },
      timeline: [entry(1, T0, 'alice', hostile, 'REQ-1|x')],
      runs: [{ ...input.runs[0]!, runbookTitle: hostile }],
    });
    const lines = doc.split('\n');
    // Only our own headings start with #.
    const headings = lines.filter((l) => l.startsWith('#'));
    assert.deepEqual(
      headings.map((h) => h.replace(/ .*/, '')),
      ['#', '##', '##', '##', '##', '###', '##', '##', '##', '##'],
    );
    assert.ok(
      lines[0]?.startsWith('# Postmortem: INC-1 — \\# Owned \\| \\`code \\#\\# Fake section'),
    );
    // Every row of a table has as many unescaped pipes as its header: no cell was split.
    const pipes = (l: string) => l.match(/(?<!\\)\|/g)?.length ?? 0;
    let header: string | undefined;
    for (const line of lines) {
      if (!line.startsWith('|')) header = undefined;
      else if (!header) header = line;
      else assert.equal(pipes(line), pipes(header), line);
    }
    const row = lines.find((l) => l.startsWith('| 12:00:00'));
    assert.equal(row?.match(/(?<!\\)\|/g)?.length, 5, row);
    assert.doesNotMatch(doc, /(?<!\\)<!--/);
    assert.doesNotMatch(doc, /(?<!\\)`/);
  });
});

describe('durations', () => {
  it('seconds, minutes and seconds, hours and minutes', () => {
    assert.equal(duration(0), '0s');
    assert.equal(duration(59_999), '59s');
    assert.equal(duration(60_000), '1m 00s');
    assert.equal(duration(3_599_000), '59m 59s');
    assert.equal(duration(3_600_000), '1h 00m');
    assert.equal(duration(49 * 3_600_000 + 5 * 60_000), '49h 05m');
    assert.equal(duration(-5), '0s');
  });
});
