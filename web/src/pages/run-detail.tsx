/**
 * The guided view of a runbook run: the current step with its buttons (run, acknowledge,
 * choose a branch, skip with a reason), the next safe step, and the evidence so far. A
 * command step's request follows policy like any other; the run moves on when it ends.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { postJson } from '../api.ts';
import { formatParams, shortDigest } from '../format.ts';
import { Link } from '../router.tsx';
import type { RunView, StepAction } from '../types.ts';
import { Badge, ErrorNote, Facts, Loading, Page, Time, useAction, useLoad } from '../ui.tsx';

/** While a run is active, how often the view looks again (waits and requests move on their own). */
const REFRESH_MS = 5_000;

/** What the current step does, in words: the command it runs, what it waits for. */
function StepText({ view }: { view: RunView }) {
  const { step, record } = view.current!;
  return (
    <>
      {step.description ? <p>{step.description}</p> : null}
      {step.kind === 'command' ? (
        <p>
          Runs <code>{`${step.command ?? ''} ${formatParams(step.params ?? {})}`.trim()}</code> on{' '}
          {view.run.service}/{view.run.environment}; policy and approvals apply.
        </p>
      ) : null}
      {step.kind === 'wait' ? (
        <p>
          Waits for the incident&rsquo;s alarms to return to OK
          {record.deadline ? (
            <>
              , until <Time at={record.deadline} />
            </>
          ) : null}
          .
        </p>
      ) : null}
      {step.kind === 'notify' && step.text ? <blockquote>{step.text}</blockquote> : null}
      {record.status === 'requested' && record.requestId ? (
        <p>
          Waiting on request <Link to={`/requests/${record.requestId}`}>{record.requestId}</Link>{' '}
          (approval or execution).
        </p>
      ) : null}
    </>
  );
}

/** Skipping needs a reason, asked for in place. */
function SkipForm({
  busy,
  onSkip,
  onBack,
}: {
  busy: boolean;
  onSkip: (reason: string) => void;
  onBack: () => void;
}) {
  const [reason, setReason] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSkip(reason.trim());
  };
  return (
    <form onSubmit={submit} className="decide-form">
      <div className="field">
        <label htmlFor="skip-reason">Why skip this step? (required)</label>
        <textarea
          id="skip-reason"
          rows={2}
          required
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
      <div className="button-row">
        <button type="submit" disabled={busy || !reason.trim()}>
          Skip the step
        </button>
        <button type="button" onClick={onBack}>
          Back
        </button>
      </div>
    </form>
  );
}

function CurrentStep({ view, onDone }: { view: RunView; onDone: (v: RunView) => void }) {
  const action = useAction();
  const [skipping, setSkipping] = useState(false);
  if (!view.current) return null;
  const { step, actions } = view.current;
  const act = (a: StepAction, extra: Record<string, string> = {}) =>
    action.run(async () => {
      const path = `/runbook-runs/${view.run.id}/steps/${encodeURIComponent(step.id)}`;
      onDone(await postJson<RunView>(path, { action: a, ...extra }));
      setSkipping(false);
    });
  const button = (
    a: StepAction,
    label: string,
    extra?: Record<string, string>,
    key: string = a,
  ) => (
    <button
      key={key}
      type="button"
      className={a === 'run' || a === 'ack' ? 'primary' : ''}
      disabled={action.busy}
      onClick={() => void act(a, extra)}
    >
      {label}
    </button>
  );

  return (
    <section aria-labelledby="current-heading" className="card current-step">
      <h2 id="current-heading">
        Now: {step.title} <span className="badge tone-info">{step.kind}</span>
      </h2>
      <StepText view={view} />
      <div className="button-row">
        {actions.includes('run') ? button('run', `Run ${step.command ?? ''}`) : null}
        {actions.includes('ack') ? button('ack', 'Done — acknowledge') : null}
        {actions.includes('choose')
          ? (step.branches ?? []).map((b) => button('choose', b.label, { branch: b.id }, b.id))
          : null}
        {actions.includes('skip') && !skipping ? (
          <button type="button" disabled={action.busy} onClick={() => setSkipping(true)}>
            Skip…
          </button>
        ) : null}
      </div>
      {skipping ? (
        <SkipForm
          busy={action.busy}
          onSkip={(reason) => void act('skip', { reason })}
          onBack={() => setSkipping(false)}
        />
      ) : null}
      {view.next ? (
        <p className="hint">
          Next safe step: <strong>{view.next.title}</strong>
        </p>
      ) : null}
      <ErrorNote error={action.error} />
    </section>
  );
}

function History({ view }: { view: RunView }) {
  return (
    <ol className="timeline">
      {view.history.map((h) => (
        <li key={`${h.stepId}-${h.startedAt}`}>
          <strong>{h.title}</strong> <Badge value={h.status} />{' '}
          <span className="muted">
            <Time at={h.startedAt} />
            {h.finishedAt ? (
              <>
                {' → '}
                <Time at={h.finishedAt} />
              </>
            ) : null}
            {h.operator ? ` · ${h.operator}` : ''}
          </span>
          {h.choice ? <span> · chose {h.choice}</span> : null}
          {h.reason ? <span> · reason: {h.reason}</span> : null}
          {h.requestId ? (
            <>
              {' · '}
              <Link to={`/requests/${h.requestId}`}>{h.requestId}</Link>
            </>
          ) : null}
          {h.output ? <pre className="output">{h.output}</pre> : null}
        </li>
      ))}
    </ol>
  );
}

export function RunDetailPage({ id }: { id: string }) {
  const one = useLoad<RunView>(`/runbook-runs/${encodeURIComponent(id)}`);
  const view = one.data;
  const active = view?.run.state === 'active';
  const { reload } = one;
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(t);
  }, [active, reload]);

  return (
    <Page title={view ? `${view.runbook.title} — ${id}` : `Runbook run ${id}`}>
      <ErrorNote error={one.error} />
      <Loading when={one.loading && !view} />
      {view ? (
        <>
          <Facts
            rows={[
              ['State', <Badge key="s" value={view.run.state} />],
              ['Runbook', `${view.runbook.id} (version ${shortDigest(view.runbook.digest)})`],
              ['Target', `${view.run.service}/${view.run.environment}`],
              [
                'For',
                view.run.incident ? (
                  <Link key="i" to={`/incidents/${view.run.incident}`}>
                    {view.run.incident}
                  </Link>
                ) : (
                  view.run.ticket
                ),
              ],
              ['Started by', view.run.startedBy],
              ['Started', <Time key="t" at={view.run.createdAt} />],
              ['Finished', view.run.finishedAt ? <Time key="f" at={view.run.finishedAt} /> : ''],
            ]}
          />
          <CurrentStep view={view} onDone={one.setData} />
          <section aria-labelledby="history-heading">
            <h2 id="history-heading">Evidence</h2>
            <History view={view} />
          </section>
        </>
      ) : null}
    </Page>
  );
}
