/**
 * Alerts and silences: the alerts Countersign keeps, grouped by service and channel; the
 * silences in force (and, on request, past ones); creating a silence with a reason and an
 * expiry, and expiring one early. Both are audited by the server.
 */
import { type FormEvent, useState } from 'react';
import { postJson } from '../api.ts';
import { formatDuration } from '../format.ts';
import type { AlertRecord, Silence } from '../types.ts';
import { Badge, ErrorNote, Loading, Page, TableWrap, Time, useAction, useLoad } from '../ui.tsx';

interface Draft {
  service: string;
  environment: string;
  reason: string;
  minutes: string;
  pattern: string;
}

const EMPTY: Draft = { service: '', environment: '', reason: '', minutes: '60', pattern: '' };

function groupAlerts(alerts: AlertRecord[]): [string, AlertRecord[]][] {
  const groups = new Map<string, AlertRecord[]>();
  for (const a of alerts) {
    const key = `${a.service}/${a.environment} · channel ${a.channel}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

function AlertTable({
  title,
  alerts,
  onSilence,
}: {
  title: string;
  alerts: AlertRecord[];
  onSilence: (a: AlertRecord) => void;
}) {
  return (
    <TableWrap label={title}>
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Alert</th>
            <th scope="col">State</th>
            <th scope="col">Severity</th>
            <th scope="col">Route</th>
            <th scope="col">Seen</th>
            <th scope="col">Last seen</th>
            <th scope="col">Silence</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.fingerprint}>
              <th scope="row">
                {a.facts.title}
                {a.facts.reason ? <span className="cell-note">{a.facts.reason}</span> : null}
              </th>
              <td>
                <Badge value={a.state} />
                {a.flapping ? <span className="badge tone-warn">flapping</span> : null}
                {a.silencedBy ? <span className="badge tone-muted">silenced</span> : null}
              </td>
              <td>{a.severity}</td>
              <td>{a.route}</td>
              <td>{a.count}×</td>
              <td>
                <Time at={a.lastSeen} />
              </td>
              <td>
                <button type="button" onClick={() => onSilence(a)}>
                  Silence <span className="visually-hidden">{a.facts.title}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function SilenceForm({
  draft,
  setDraft,
  onCreated,
}: {
  draft: Draft;
  setDraft: (d: Draft) => void;
  onCreated: () => void;
}) {
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const pattern = draft.pattern.trim() ? (JSON.parse(draft.pattern) as unknown) : undefined;
      await postJson('/silences', {
        service: draft.service.trim(),
        environment: draft.environment.trim(),
        reason: draft.reason.trim(),
        minutes: Number(draft.minutes),
        ...(pattern ? { pattern } : {}),
      });
      setDraft(EMPTY);
      onCreated();
    });
  };
  const field = (k: keyof Draft, label: string, extra: Record<string, unknown> = {}) => (
    <div className="field">
      <label htmlFor={`sil-${k}`}>{label}</label>
      <input
        id={`sil-${k}`}
        autoComplete="off"
        value={draft[k]}
        onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
        {...extra}
      />
    </div>
  );
  return (
    <form id="silence-form" className="card" onSubmit={submit} aria-labelledby="sil-heading">
      <h3 id="sil-heading">Create a silence</h3>
      <p className="hint">
        Silenced alerts are still recorded; nothing is posted for them. Use <code>*</code> for every
        service or environment (administrators only).
      </p>
      <div className="form-grid">
        {field('service', 'Service', { required: true })}
        {field('environment', 'Environment', { required: true })}
        {field('minutes', 'For how many minutes', {
          type: 'number',
          min: 1,
          max: 10080,
          required: true,
        })}
        {field('reason', 'Reason', { required: true, maxLength: 500 })}
        <div className="field wide">
          <label htmlFor="sil-pattern">Event pattern (optional JSON)</label>
          <textarea
            id="sil-pattern"
            rows={2}
            spellCheck={false}
            value={draft.pattern}
            onChange={(e) => setDraft({ ...draft, pattern: e.target.value })}
          />
        </div>
      </div>
      <button type="submit" className="primary" disabled={action.busy}>
        Create the silence
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

function SilenceList({ all }: { all: boolean }) {
  const list = useLoad<{ silences: Silence[] }>('/silences', { all: all ? 'true' : undefined });
  const action = useAction();
  const now = Date.now();
  const silences = list.data?.silences ?? [];
  const expire = (id: string) =>
    action.run(async () => {
      await postJson(`/silences/${id}/expire`);
      list.reload();
    });
  return (
    <>
      <ErrorNote error={list.error} />
      <ErrorNote error={action.error} />
      <Loading when={list.loading && !list.data} />
      {list.data && silences.length === 0 ? <p className="muted">No silences.</p> : null}
      {silences.length ? (
        <TableWrap label="Silences table">
          <table>
            <caption>{all ? 'Every silence' : 'Silences in force'}</caption>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">Reason</th>
                <th scope="col">By</th>
                <th scope="col">Until</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {silences.map((s) => {
                const over = s.expiredAt !== undefined || s.expiresAt <= now;
                return (
                  <tr key={s.id}>
                    <th scope="row">
                      {s.service}/{s.environment}
                      {Object.keys(s.pattern).length ? (
                        <span className="cell-note">pattern {JSON.stringify(s.pattern)}</span>
                      ) : null}
                    </th>
                    <td>{s.reason}</td>
                    <td>{s.createdBy}</td>
                    <td>
                      <Time at={s.expiredAt ?? s.expiresAt} />
                      {over ? ' (over)' : ` (${formatDuration(s.expiresAt - now)} left)`}
                    </td>
                    <td>
                      {over ? (
                        '—'
                      ) : (
                        <button
                          type="button"
                          disabled={action.busy}
                          onClick={() => void expire(s.id)}
                        >
                          Expire now{' '}
                          <span className="visually-hidden">
                            {s.service}/{s.environment}
                          </span>
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </>
  );
}

export function AlertsPage() {
  const [state, setState] = useState('firing');
  const alerts = useLoad<{ alerts: AlertRecord[] }>('/alerts', {
    state: state === 'all' ? undefined : state,
    limit: 500,
  });
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [allSilences, setAllSilences] = useState(false);
  const [version, setVersion] = useState(0);
  const silence = (a: AlertRecord) => {
    setDraft({ ...EMPTY, service: a.service, environment: a.environment, reason: '' });
    document.getElementById('sil-reason')?.focus();
  };
  const groups = groupAlerts(alerts.data?.alerts ?? []);
  return (
    <Page title="Alerts & silences">
      <section aria-labelledby="alerts-heading">
        <div className="section-head">
          <h2 id="alerts-heading">Alerts by service and channel</h2>
          <div className="toolbar">
            <label htmlFor="al-state">State</label>
            <select id="al-state" value={state} onChange={(e) => setState(e.target.value)}>
              {['firing', 'insufficient-data', 'resolved', 'all'].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <button type="button" onClick={alerts.reload}>
              Refresh
            </button>
          </div>
        </div>
        <ErrorNote error={alerts.error} />
        <Loading when={alerts.loading && !alerts.data} />
        {alerts.data && groups.length === 0 ? <p className="muted">No alerts.</p> : null}
        {groups.map(([key, list]) => (
          <AlertTable key={key} title={key} alerts={list} onSilence={silence} />
        ))}
      </section>
      <section aria-labelledby="silences-heading">
        <div className="section-head">
          <h2 id="silences-heading">Silences</h2>
          <label className="inline">
            <input
              type="checkbox"
              checked={allSilences}
              onChange={(e) => setAllSilences(e.target.checked)}
            />{' '}
            Show expired ones too
          </label>
        </div>
        <SilenceList key={version} all={allSilences} />
        <SilenceForm draft={draft} setDraft={setDraft} onCreated={() => setVersion((v) => v + 1)} />
      </section>
    </Page>
  );
}
