/**
 * Review: is it faster and safer? The report of `GET /report` as charts — time from alert
 * to first action, approval wait, approval to result (median with p90 behind it), and the
 * failure and rollback rates — per command, runbook and route, over a chosen window.
 */
import { type Bar, BarChart } from '../bar-chart.tsx';
import { formatDuration, formatRate } from '../format.ts';
import { navigate, useLocation, withQuery } from '../router.tsx';
import type { DurationStats, OutcomeStats, ReviewReport } from '../types.ts';
import { ErrorNote, Facts, Loading, Page, Time, useLoad } from '../ui.tsx';

const WINDOWS: [string, string][] = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
];

type Workflow = ReviewReport['workflows'][number];

function durationBars(list: Workflow[], pick: (w: OutcomeStats) => DurationStats): Bar[] {
  return list
    .filter((w) => pick(w).samples > 0)
    .map((w) => ({ label: w.workflow, value: pick(w).median, behind: pick(w).p90 }));
}

function Totals({ r }: { r: ReviewReport }) {
  const t = r.totals;
  const d = (s: DurationStats) =>
    s.samples
      ? `${formatDuration(s.median)} median, ${formatDuration(s.p90)} p90 (${s.samples})`
      : '—';
  return (
    <Facts
      rows={[
        [
          'Window',
          <span key="w">
            <Time at={r.window.since} /> to <Time at={r.window.until} />
          </span>,
        ],
        ['Requests · incidents · runs', `${t.requests} · ${t.incidents} · ${t.runs}`],
        ['Alert → first action', d(t.alertToFirstAction)],
        ['Request → approval', d(t.requestToApproval)],
        ['Approval → result', d(t.approvalToResult)],
        ['Failure rate', `${formatRate(t.failureRate)} (${t.failed} of ${t.finished})`],
        [
          'Rollback rate',
          `${formatRate(t.rollbackRate)} (${t.rolledBack} of ${t.rollbackEligible})`,
        ],
        ['Pre-approved · break-glass', `${t.preApproved} · ${t.breakGlass}`],
      ]}
    />
  );
}

function Charts({ flows }: { flows: Workflow[] }) {
  return (
    <section aria-labelledby="charts-heading" className="charts">
      <h2 id="charts-heading">Per workflow</h2>
      <BarChart
        title="Time to action: alert → first action (median, p90 lighter)"
        bars={durationBars(flows, (w) => w.alertToFirstAction)}
        format={formatDuration}
        valueName="Median"
        behindName="p90"
      />
      <BarChart
        title="Approval wait: request → approval (median, p90 lighter)"
        bars={durationBars(flows, (w) => w.requestToApproval)}
        format={formatDuration}
        valueName="Median"
        behindName="p90"
      />
      <BarChart
        title="Approval → result (median, p90 lighter)"
        bars={durationBars(flows, (w) => w.approvalToResult)}
        format={formatDuration}
        valueName="Median"
        behindName="p90"
      />
      <BarChart
        title="Failure rate: failed or unknown of finished requests"
        bars={flows
          .filter((w) => w.finished > 0)
          .map((w) => ({ label: w.workflow, value: w.failureRate }))}
        format={formatRate}
        max={1}
        valueName="Failure rate"
      />
      <BarChart
        title="Rollback rate: runs followed by their rollback within 24 h"
        bars={flows
          .filter((w) => w.rollbackEligible > 0)
          .map((w) => ({ label: w.workflow, value: w.rollbackRate }))}
        format={formatRate}
        max={1}
        valueName="Rollback rate"
      />
    </section>
  );
}

export function ReviewPage() {
  const { query } = useLocation();
  const since = query.get('since') ?? '7d';
  const report = useLoad<ReviewReport>('/report', { since });
  const r = report.data;
  const flows = r?.workflows ?? [];
  return (
    <Page title="Review">
      <p>Is it faster and safer? Every command, runbook and alert route over the window.</p>
      <div className="toolbar">
        <label htmlFor="rv-since">Window</label>
        <select
          id="rv-since"
          value={since}
          onChange={(e) =>
            navigate(withQuery('/review', { since: e.target.value }), { replace: true })
          }
        >
          {WINDOWS.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={report.error} />
      <Loading when={report.loading && !r} />
      {r ? (
        <>
          <section aria-labelledby="totals-heading">
            <h2 id="totals-heading">Totals</h2>
            <Totals r={r} />
          </section>
          <Charts flows={flows} />
        </>
      ) : null}
    </Page>
  );
}
