/**
 * What a responder changes on an incident, over the same use cases as chat: a status
 * update, the severity (propose, confirm), roles, mitigated, resolved, starting a runbook.
 * Each form reports the server's refusal with its code.
 */
import { type FormEvent, type ReactNode, useState } from 'react';
import { postJson } from '../api.ts';
import { navigate } from '../router.tsx';
import type { Incident, RunbookSummary, RunView } from '../types.ts';
import { ErrorNote, useAction, useLoad } from '../ui.tsx';

type Done = (i: Incident) => void;

/** One small form: fields, a submit button, the refusal. */
function ActionForm({
  title,
  submit,
  disabled,
  children,
  onSubmit,
}: {
  title: string;
  submit: string;
  disabled?: boolean;
  children?: ReactNode;
  onSubmit: () => Promise<void>;
}) {
  const action = useAction();
  const send = (e: FormEvent) => {
    e.preventDefault();
    void action.run(onSubmit);
  };
  return (
    <form className="action-form" onSubmit={send} aria-label={title}>
      <h3>{title}</h3>
      {children}
      <button type="submit" disabled={action.busy || disabled}>
        {submit}
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

type Post = (path: string, body: unknown) => Promise<void>;

function UpdateForm({ post }: { post: Post }) {
  const [text, setText] = useState('');
  return (
    <ActionForm
      title="Post a status update"
      submit="Post update"
      disabled={!text.trim()}
      onSubmit={async () => {
        await post('/updates', { text: text.trim() });
        setText('');
      }}
    >
      <label htmlFor="u-text">What changed</label>
      <textarea
        id="u-text"
        rows={3}
        maxLength={2000}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
    </ActionForm>
  );
}

/** Propose a severity; confirm the one waiting, when there is one. */
function SeverityForms({ incident, post }: { incident: Incident; post: Post }) {
  const sev = incident.severity;
  const [severity, setSeverity] = useState<string>(sev.level);
  const awaiting = sev.proposed ?? (sev.confirmed ? undefined : sev);
  return (
    <>
      <ActionForm
        title="Severity"
        submit="Propose this severity"
        disabled={severity === sev.level}
        onSubmit={() => post('/severity', { severity })}
      >
        <label htmlFor="s-level">Severity</label>
        <select id="s-level" value={severity} onChange={(e) => setSeverity(e.target.value)}>
          {['sev1', 'sev2', 'sev3', 'sev4'].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </ActionForm>
      {awaiting ? (
        <ActionForm
          title={`Confirm ${awaiting.level}`}
          submit={`Confirm ${awaiting.level}`}
          onSubmit={() => post('/severity/confirm', {})}
        >
          <p className="hint">
            Holders of the severity-confirm roles confirm; sev1 needs someone other than its
            proposer.
          </p>
        </ActionForm>
      ) : null}
    </>
  );
}

function RoleForm({ post }: { post: Post }) {
  const [role, setRole] = useState('commander');
  const [person, setPerson] = useState('');
  return (
    <ActionForm
      title="Assign a role"
      submit="Assign"
      disabled={!person.trim()}
      onSubmit={async () => {
        await post('/roles', { role, person: person.trim() });
        setPerson('');
      }}
    >
      <label htmlFor="r-role">Role</label>
      <select id="r-role" value={role} onChange={(e) => setRole(e.target.value)}>
        <option value="commander">commander</option>
        <option value="scribe">scribe</option>
        <option value="responder">responder</option>
      </select>
      <label htmlFor="r-person">Person (id)</label>
      <input
        id="r-person"
        autoComplete="off"
        value={person}
        onChange={(e) => setPerson(e.target.value)}
      />
    </ActionForm>
  );
}

/** Every change a responder can make; a resolved incident takes none. */
export function IncidentActions({ incident, onDone }: { incident: Incident; onDone: Done }) {
  const post: Post = async (path, body) =>
    onDone(
      (await postJson<{ incident: Incident }>(`/incidents/${incident.id}${path}`, body)).incident,
    );
  if (incident.status === 'resolved') {
    return <p className="muted">Resolved: the timeline and the postmortem remain.</p>;
  }
  return (
    <div className="action-grid">
      <UpdateForm post={post} />
      <SeverityForms incident={incident} post={post} />
      <RoleForm post={post} />
      {incident.status === 'open' ? (
        <StatusForm label="Mark mitigated" path="/mitigate" post={post} />
      ) : null}
      <StatusForm label="Resolve" path="/resolve" post={post} />
      <StartRun incident={incident} />
    </div>
  );
}

/** Marks the incident mitigated or resolved, with an optional note. */
function StatusForm({ label, path, post }: { label: string; path: string; post: Post }) {
  const [note, setNote] = useState('');
  const id = `note${path.replace('/', '-')}`;
  return (
    <ActionForm
      title={label}
      submit={label}
      onSubmit={async () => {
        await post(path, note.trim() ? { note: note.trim() } : {});
        setNote('');
      }}
    >
      <label htmlFor={id}>Note (optional)</label>
      <input id={id} value={note} maxLength={1000} onChange={(e) => setNote(e.target.value)} />
    </ActionForm>
  );
}

/** Starts a guided run of a runbook for this incident; suggested runbooks come first. */
function StartRun({ incident }: { incident: Incident }) {
  const books = useLoad<{ runbooks: RunbookSummary[] }>('/runbooks');
  const fits = (books.data?.runbooks ?? []).filter(
    (b) => b.services.includes('*') || b.services.includes(incident.service),
  );
  fits.sort(
    (a, b) => Number(incident.runbooks.includes(b.id)) - Number(incident.runbooks.includes(a.id)),
  );
  const [chosen, setChosen] = useState('');
  const pick = chosen || fits[0]?.id || '';
  return (
    <ActionForm
      title="Start a runbook"
      submit="Start the run"
      disabled={!pick || incident.status === 'resolved'}
      onSubmit={async () => {
        const view = await postJson<RunView>('/runbook-runs', {
          runbook: pick,
          incident: incident.id,
        });
        navigate(`/runs/${view.run.id}`);
      }}
    >
      <label htmlFor="rb-pick">Runbook</label>
      <select id="rb-pick" value={pick} onChange={(e) => setChosen(e.target.value)}>
        {fits.map((b) => (
          <option key={b.id} value={b.id}>
            {b.title} ({b.id}){incident.runbooks.includes(b.id) ? ' — suggested' : ''}
          </option>
        ))}
      </select>
      <ErrorNote error={books.error} />
    </ActionForm>
  );
}
