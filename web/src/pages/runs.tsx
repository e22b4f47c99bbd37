/** Runbook runs: the list, and starting a run from a change ticket (incident runs start on
 * the incident's page). */
import { type FormEvent, useState } from 'react';
import { postJson } from '../api.ts';
import { Link, navigate, useLocation, withQuery } from '../router.tsx';
import type { RunbookRun, RunbookSummary, RunView } from '../types.ts';
import {
  Badge,
  EmptyRow,
  ErrorNote,
  Loading,
  Page,
  TableWrap,
  Time,
  useAction,
  useLoad,
} from '../ui.tsx';

function StartFromTicket({ onClose }: { onClose: () => void }) {
  const books = useLoad<{ runbooks: RunbookSummary[] }>('/runbooks');
  const [form, setForm] = useState({ runbook: '', ticket: '', service: '', environment: '' });
  const action = useAction();
  const runbook = form.runbook || books.data?.runbooks[0]?.id || '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const view = await postJson<RunView>('/runbook-runs', {
        runbook,
        ticket: form.ticket.trim(),
        service: form.service.trim(),
        environment: form.environment.trim(),
      });
      navigate(`/runs/${view.run.id}`);
    });
  };
  const input = (k: 'ticket' | 'service' | 'environment', label: string) => (
    <div className="field">
      <label htmlFor={`s-${k}`}>{label}</label>
      <input
        id={`s-${k}`}
        required
        autoComplete="off"
        value={form[k]}
        onChange={(e) => setForm({ ...form, [k]: e.target.value })}
      />
    </div>
  );
  return (
    <form className="card" onSubmit={submit} aria-labelledby="start-heading">
      <h2 id="start-heading">Start a run for a change</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="s-runbook">Runbook</label>
          <select
            id="s-runbook"
            value={runbook}
            onChange={(e) => setForm({ ...form, runbook: e.target.value })}
          >
            {(books.data?.runbooks ?? []).map((b) => (
              <option key={b.id} value={b.id}>
                {b.title} ({b.id})
              </option>
            ))}
          </select>
        </div>
        {input('ticket', 'Change ticket')}
        {input('service', 'Service')}
        {input('environment', 'Environment')}
      </div>
      <div className="button-row">
        <button type="submit" className="primary" disabled={action.busy || !runbook}>
          Start
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorNote error={books.error} />
      <ErrorNote error={action.error} />
    </form>
  );
}

function RunTable({ runs }: { runs: RunbookRun[] }) {
  return (
    <TableWrap label="Runbook runs table">
      <table>
        <caption>{runs.length} runs</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Runbook</th>
            <th scope="col">State</th>
            <th scope="col">For</th>
            <th scope="col">Target</th>
            <th scope="col">Started by</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                <Link to={`/runs/${r.id}`}>{r.id}</Link>
              </th>
              <td>{r.runbook}</td>
              <td>
                <Badge value={r.state} />
              </td>
              <td>
                {r.incident ? (
                  <Link to={`/incidents/${r.incident}`}>{r.incident}</Link>
                ) : (
                  (r.ticket ?? '—')
                )}
              </td>
              <td>
                {r.service}/{r.environment}
              </td>
              <td>{r.startedBy}</td>
              <td>
                <Time at={r.createdAt} />
              </td>
            </tr>
          ))}
          {runs.length === 0 ? <EmptyRow columns={7}>No runbook runs match.</EmptyRow> : null}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function RunsPage() {
  const { query } = useLocation();
  const state = query.get('state') ?? 'active';
  const [starting, setStarting] = useState(false);
  const list = useLoad<{ runs: RunbookRun[] }>('/runbook-runs', {
    state: state === 'all' ? undefined : state,
    limit: 200,
  });
  const runs = list.data?.runs ?? [];
  return (
    <Page
      title="Runbook runs"
      actions={
        starting ? null : (
          <button type="button" className="primary" onClick={() => setStarting(true)}>
            Start a run for a change
          </button>
        )
      }
    >
      {starting ? <StartFromTicket onClose={() => setStarting(false)} /> : null}
      <div className="toolbar">
        <label htmlFor="r-state">State</label>
        <select
          id="r-state"
          value={state}
          onChange={(e) =>
            navigate(withQuery('/runs', { state: e.target.value }), { replace: true })
          }
        >
          {['active', 'completed', 'failed', 'aborted', 'all'].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={list.error} />
      <Loading when={list.loading && !list.data} />
      <RunTable runs={runs} />
    </Page>
  );
}
