/**
 * Sign-in: the demo picker when the server offers it (`GET /session/demo`), clearly
 * labelled as such; otherwise the organisation's single sign-on (`/auth/login`, a full-page
 * navigation to the identity provider).
 */
import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, getJson, postJson } from '../api.ts';
import type { Person, Session } from '../types.ts';
import { ErrorNote, useAction } from '../ui.tsx';

type Offer = { kind: 'loading' } | { kind: 'demo'; people: Person[] } | { kind: 'sso' };

export function SignIn({
  onSignedIn,
  ended = false,
}: {
  onSignedIn: (s: Session) => void;
  /** The session this page had just ended (unused too long, expired, or signed out elsewhere). */
  ended?: boolean;
}) {
  const [offer, setOffer] = useState<Offer>({ kind: 'loading' });
  const [chosen, setChosen] = useState('');
  const [loadError, setLoadError] = useState<unknown>();
  const action = useAction();

  useEffect(() => {
    document.title = 'Sign in · Countersign';
    getJson<{ people: Person[] }>('/session/demo')
      .then((d) => setOffer({ kind: 'demo', people: d.people }))
      .catch((e: unknown) => {
        if (!(e instanceof ApiError && e.status === 404)) setLoadError(e);
        setOffer({ kind: 'sso' });
      });
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return;
    void action.run(async () => {
      onSignedIn(await postJson<Session>('/session/demo', { person: chosen }));
    });
  };

  return (
    <main id="main" className="sign-in">
      <h1>Sign in to Countersign</h1>
      <p className="muted">
        Approvals bound to the exact request, executed once, audited in a hash chain.
      </p>
      {ended ? (
        <p className="notice" role="status">
          Your session ended: it went unused for too long, reached its end, or was signed out
          elsewhere. Sign in again to go on.
        </p>
      ) : null}
      <ErrorNote error={loadError} />
      {offer.kind === 'loading' ? <p role="status">Loading…</p> : null}
      {offer.kind === 'demo' ? (
        <form onSubmit={submit} className="card">
          <fieldset>
            <legend>Demo sign-in — for trying Countersign on this machine</legend>
            <p className="hint">
              This server runs the demo catalog and lets anyone pick a person. Each person has the
              roles of the catalog; approvals still need someone other than the requester.
            </p>
            <ul className="choices">
              {offer.people.map((p) => (
                <li key={p.id}>
                  <label>
                    <input
                      type="radio"
                      name="person"
                      value={p.id}
                      checked={chosen === p.id}
                      onChange={() => setChosen(p.id)}
                      required
                    />{' '}
                    <strong>{p.name}</strong> <span className="muted">({p.id})</span>
                    {p.team ? <> · team {p.team}</> : null}
                    {p.roles.length ? <> · {p.roles.join(', ')}</> : null}
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <ErrorNote error={action.error} />
          <button
            type="submit"
            className="primary"
            disabled={!chosen}
            aria-disabled={action.busy || undefined}
          >
            {action.busy ? 'Signing in…' : 'Sign in as this demo person'}
          </button>
        </form>
      ) : null}
      {offer.kind === 'sso' ? (
        <p>
          <a className="button primary" href="/auth/login">
            Sign in with your organisation
          </a>
        </p>
      ) : null}
    </main>
  );
}
