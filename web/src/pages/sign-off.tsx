/**
 * Deciding a pending request, as in Slack: every sign-off names the digest the person
 * reviewed; a destructive command's approval needs `<service>/<environment>` typed out;
 * a denial needs a reason, asked in a modal dialog; the requester may cancel instead. The
 * server applies the rules and its refusals are shown with their codes.
 */
import { type FormEvent, useId, useRef, useState } from 'react';
import { postJson } from '../api.ts';
import { shortDigest } from '../format.ts';
import { useSession } from '../session.tsx';
import type { ActionRequest, ApprovalKind } from '../types.ts';
import { type Action, Dialog, ErrorNote, useAction } from '../ui.tsx';

const KIND_BUTTON: Record<ApprovalKind, string> = {
  approval: 'Approve',
  'window-ack': 'Acknowledge the change window',
  'rollback-confirm': 'Confirm the rollback plan',
};

/** Sign-off kinds still short of their count for the current digest, not yet given by `me`. */
export function openKinds(r: ActionRequest, me: string): ApprovalKind[] {
  if (r.state !== 'pending') return [];
  return r.requirements
    .filter((q) => {
      const given = r.signOffs.filter((s) => s.kind === q.kind && s.digest === r.digest);
      return given.length < q.count && !given.some((s) => s.by === me);
    })
    .map((q) => q.kind);
}

type Done = (r: ActionRequest) => void;

/** The sign-off buttons, with the typed confirmation a destructive approval needs. */
function SignOffButtons({
  request,
  kinds,
  action,
  onDone,
}: {
  request: ActionRequest;
  kinds: ApprovalKind[];
  action: Action;
  onDone: Done;
}) {
  const [confirmation, setConfirmation] = useState('');
  const uid = useId();
  const needsTyping = request.class === 'destructive' && kinds.includes('approval');
  const expected = request.confirmationText ?? `${request.service}/${request.environment}`;
  const signOff = (kind: ApprovalKind) =>
    action.run(async () => {
      const typed = needsTyping && kind === 'approval' ? { confirmation } : {};
      const res = await postJson<{ request: ActionRequest }>(`/requests/${request.id}/approve`, {
        digest: request.digest,
        kind,
        ...typed,
      });
      onDone(res.request);
    });
  return (
    <>
      {needsTyping ? (
        <div className="field">
          <label htmlFor={`${uid}-confirm`}>
            Destructive command: type <code>{expected}</code> to confirm
          </label>
          <input
            id={`${uid}-confirm`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={confirmation}
            onChange={(e) => setConfirmation(e.target.value)}
          />
        </div>
      ) : null}
      {kinds.map((kind) => (
        <button
          key={kind}
          type="button"
          className={kind === 'approval' ? 'primary' : ''}
          // Busy is aria-disabled, not disabled: a disabled button would drop keyboard focus.
          disabled={kind === 'approval' && needsTyping && confirmation !== expected}
          aria-disabled={action.busy || undefined}
          onClick={() => void signOff(kind)}
        >
          {KIND_BUTTON[kind]}
          <span className="visually-hidden"> {request.id}</span>
        </button>
      ))}
    </>
  );
}

/** A dialog to deny (a reason is required) or cancel one's own request (reason optional). */
function DecideDialog({
  request,
  deny,
  action,
  onDone,
  onBack,
}: {
  request: ActionRequest;
  deny: boolean;
  action: Action;
  onDone: Done;
  onBack: () => void;
}) {
  const [reason, setReason] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);
  const uid = useId();
  const decide = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const path = `/requests/${request.id}/${deny ? 'deny' : 'cancel'}`;
      const body = deny || reason.trim() ? { reason: reason.trim() } : {};
      onDone((await postJson<{ request: ActionRequest }>(path, body)).request);
    });
  };
  return (
    <Dialog title={`${deny ? 'Deny' : 'Cancel'} ${request.id}`} onClose={onBack} initialFocus={box}>
      <p className="hint">
        <code>{request.command}</code> {request.service}/{request.environment}, asked by{' '}
        {request.requester}.
      </p>
      <form onSubmit={decide} className="decide-form">
        <div className="field">
          <label htmlFor={`${uid}-reason`}>
            {deny ? 'Why deny it? (required)' : 'Why cancel it? (optional)'}
          </label>
          <textarea
            id={`${uid}-reason`}
            ref={box}
            rows={2}
            maxLength={1000}
            required={deny}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        <div className="button-row">
          <button
            type="submit"
            className="danger"
            disabled={deny && !reason.trim()}
            aria-disabled={action.busy || undefined}
          >
            {deny ? 'Deny the request' : 'Cancel the request'}
          </button>
          <button type="button" onClick={onBack} aria-disabled={action.busy || undefined}>
            Back
          </button>
        </div>
        <ErrorNote error={action.error} />
      </form>
    </Dialog>
  );
}

export function SignOffPanel({
  request,
  kinds,
  onDone,
}: {
  request: ActionRequest;
  /** What this person may give, when the server said; else worked out from the request. */
  kinds?: ApprovalKind[];
  onDone: Done;
}) {
  const { session } = useSession();
  const mine = request.requester === session.person.id;
  const available = kinds ?? (mine ? [] : openKinds(request, session.person.id));
  const [deciding, setDeciding] = useState(false);
  const action = useAction();
  if (request.state !== 'pending') return null;
  return (
    <div className="sign-off">
      <p className="digest-line">
        You are deciding digest <code title={request.digest}>{shortDigest(request.digest)}</code>.
        If the request changes, your sign-off no longer counts.
      </p>
      <div className="button-row">
        <SignOffButtons request={request} kinds={available} action={action} onDone={onDone} />
        <button
          type="button"
          className={mine ? '' : 'danger'}
          onClick={() => {
            action.clear();
            setDeciding(true);
          }}
          aria-disabled={action.busy || undefined}
          aria-haspopup="dialog"
        >
          {mine ? 'Cancel my request…' : 'Deny…'}
          <span className="visually-hidden"> {request.id}</span>
        </button>
      </div>
      {deciding ? (
        <DecideDialog
          request={request}
          deny={!mine}
          action={action}
          onDone={(r) => {
            setDeciding(false);
            onDone(r);
          }}
          onBack={() => setDeciding(false)}
        />
      ) : null}
      {available.length === 0 && !mine ? (
        <p className="hint">There is no sign-off here you can give now.</p>
      ) : null}
      {deciding ? null : <ErrorNote error={action.error} />}
    </div>
  );
}
