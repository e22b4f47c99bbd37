/**
 * One request: what was asked (parameters, digest, link, preview), its sign-offs, the
 * decision buttons while pending, the execution and its output, settling an unknown
 * outcome, and every audit entry about it.
 */
import { type FormEvent, useState } from 'react';
import { postJson } from '../api.ts';
import { formatDuration } from '../format.ts';
import type { ActionRequest, AuditEntry } from '../types.ts';
import {
  Badge,
  ErrorNote,
  Facts,
  Loading,
  Page,
  TableWrap,
  Time,
  useAction,
  useLoad,
} from '../ui.tsx';
import { AuditTable } from './audit-table.tsx';
import { RequestSummary } from './request-parts.tsx';
import { SignOffPanel } from './sign-off.tsx';

function SignOffs({ r }: { r: ActionRequest }) {
  if (r.signOffs.length === 0) return <p className="muted">No sign-offs yet.</p>;
  return (
    <TableWrap label="Sign-offs table">
      <table>
        <caption>Who signed off, and on which digest</caption>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">By</th>
            <th scope="col">From</th>
            <th scope="col">When</th>
            <th scope="col">Digest</th>
          </tr>
        </thead>
        <tbody>
          {r.signOffs.map((s) => (
            <tr key={`${s.kind}-${s.by}-${s.at}`}>
              <td>{s.kind}</td>
              <th scope="row">{s.by}</th>
              <td>{s.surface}</td>
              <td>
                <Time at={s.at} />
              </td>
              <td>{s.digest === r.digest ? 'current' : 'earlier version (does not count)'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function Execution({ r }: { r: ActionRequest }) {
  const x = r.execution;
  if (!x) return <p className="muted">Not run.</p>;
  return (
    <>
      <Facts
        rows={[
          ['Outcome', x.outcome ? <Badge key="o" value={x.outcome} /> : 'running'],
          ['Attempt', String(x.attempt)],
          ['Started', <Time key="s" at={x.startedAt} />],
          [
            'Took',
            x.finishedAt !== undefined ? formatDuration(x.finishedAt - x.startedAt) : undefined,
          ],
          ['Error', x.error],
          ['Settled by', x.settledBy ? `${x.settledBy}: ${x.settleNote ?? ''}` : undefined],
        ]}
      />
      {x.output ? (
        <>
          <h3>Output</h3>
          <pre className="output">{x.output}</pre>
        </>
      ) : null}
    </>
  );
}

/** For an `unknown` outcome: a person with the administer grant records what happened. */
function SettleForm({ r, onDone }: { r: ActionRequest; onDone: (r: ActionRequest) => void }) {
  const [outcome, setOutcome] = useState<'succeeded' | 'failed'>('succeeded');
  const [note, setNote] = useState('');
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const res = await postJson<{ request: ActionRequest }>(`/requests/${r.id}/settle`, {
        outcome,
        note: note.trim(),
      });
      onDone(res.request);
    });
  };
  return (
    <form onSubmit={submit} className="card">
      <h3>Settle the unknown outcome</h3>
      <p className="hint">Check the target first; this records what really happened.</p>
      <fieldset>
        <legend>What happened</legend>
        {(['succeeded', 'failed'] as const).map((o) => (
          <label key={o} className="inline">
            <input
              type="radio"
              name="outcome"
              value={o}
              checked={outcome === o}
              onChange={() => setOutcome(o)}
            />{' '}
            {o}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor="settle-note">What you checked (required)</label>
        <textarea
          id="settle-note"
          rows={2}
          required
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
      </div>
      <button type="submit" className="primary" disabled={action.busy || !note.trim()}>
        Settle
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

export function RequestDetailPage({ id }: { id: string }) {
  const one = useLoad<{ request: ActionRequest }>(`/requests/${encodeURIComponent(id)}`);
  const audit = useLoad<{ entries: AuditEntry[] }>('/audit', { target: id, limit: 1000 });
  const r = one.data?.request;
  const updated = (next: ActionRequest) => {
    one.setData({ request: next });
    audit.reload();
  };
  return (
    <Page
      title={`Request ${id}`}
      actions={
        <button
          type="button"
          onClick={() => {
            one.reload();
            audit.reload();
          }}
        >
          Refresh
        </button>
      }
    >
      <ErrorNote error={one.error} />
      <Loading when={one.loading && !r} />
      {r ? (
        <>
          <section aria-labelledby="what-heading" className="card">
            <h2 id="what-heading">What was asked</h2>
            <RequestSummary r={r} />
            <Facts
              rows={[
                ['Digest', <code key="d">{r.digest}</code>],
                ['From', r.surface],
                ['Decided by', r.decidedBy ? `${r.decidedBy}: ${r.decisionReason ?? ''}` : ''],
              ]}
            />
            <SignOffPanel request={r} onDone={updated} />
          </section>
          <section aria-labelledby="signoffs-heading">
            <h2 id="signoffs-heading">Sign-offs</h2>
            <SignOffs r={r} />
          </section>
          <section aria-labelledby="run-heading">
            <h2 id="run-heading">Execution</h2>
            <Execution r={r} />
            {r.state === 'unknown' ? <SettleForm r={r} onDone={updated} /> : null}
          </section>
        </>
      ) : null}
      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">Audit entries</h2>
        <ErrorNote error={audit.error} />
        <AuditTable entries={audit.data?.entries ?? []} caption={`Audit entries for ${id}`} />
      </section>
    </Page>
  );
}
