/**
 * One incident: the header at a glance (as chat shows it), the responder's actions, the
 * linked runbook runs and requests, the timeline, and the postmortem draft to download.
 */
import { useEffect, useState } from 'react';
import { getText } from '../api.ts';
import { RecordLink } from '../record-link.tsx';
import { Link } from '../router.tsx';
import type { ChangeRecord, Incident, IncidentHeader, TimelineEntry } from '../types.ts';
import { Badge, ErrorNote, Facts, Loading, Page, Time, useAction, useLoad } from '../ui.tsx';
import { IncidentActions } from './incident-actions.tsx';

function Change({ c }: { c: ChangeRecord | undefined }) {
  if (!c) return <span className="muted">none known</span>;
  return (
    <span>
      {c.summary}{' '}
      <span className="muted">
        ({c.source}, <Time at={c.at} />)
      </span>
      {c.ref ? (
        <>
          {' '}
          <RecordLink id={c.ref} />
        </>
      ) : null}
    </span>
  );
}

function Header({ i, h }: { i: Incident; h: IncidentHeader }) {
  const sev = i.severity;
  return (
    <section aria-labelledby="header-heading" className="card incident-header">
      <h2 id="header-heading">{i.title}</h2>
      <p>
        <Badge value={sev.level} />{' '}
        {sev.confirmed ? `confirmed by ${sev.confirmedBy ?? '—'}` : 'proposed, not confirmed'}
        {sev.proposed ? ` · ${sev.proposed.level} proposed by ${sev.proposed.by}` : ''} ·{' '}
        <Badge value={i.status} />
      </p>
      <Facts
        rows={[
          ['Service', `${i.service}/${i.environment} (team ${i.team})`],
          ['Commander', i.roles.commander ?? 'nobody yet'],
          ['Scribe', i.roles.scribe],
          ['Responders', i.roles.responders.join(', ')],
          ['Opened', <Time key="o" at={i.createdAt} full />],
          [
            'Opened by',
            i.origin.kind === 'alert'
              ? `alert ${i.origin.alert} (route ${i.origin.route})`
              : `declared by ${i.origin.by}`,
          ],
          ['First action', <Time key="f" at={i.firstActionAt} />],
          ['Mitigated', i.mitigatedAt ? <Time key="m" at={i.mitigatedAt} /> : undefined],
          ['Resolved', i.resolvedAt ? <Time key="r" at={i.resolvedAt} /> : undefined],
          ['Last deploy', <Change key="d" c={h.lastDeploy} />],
          ['Last config change', <Change key="c" c={h.lastConfigChange} />],
          ['Last update', i.lastUpdate ? `${i.lastUpdate.text} — ${i.lastUpdate.by}` : undefined],
          [
            'First mitigation',
            i.mitigation ? (
              <span key="fm">
                rule {i.mitigation.rule} → <RecordLink id={i.mitigation.requestId} />
              </span>
            ) : undefined,
          ],
        ]}
      />
      <h3>Alerts behind it</h3>
      {h.alerts.length ? (
        <ul>
          {h.alerts.map((a) => (
            <li key={`${a.title}-${a.since}`}>
              {a.title} <Badge value={a.state} /> since <Time at={a.since} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">None.</p>
      )}
      <h3>Suggested runbooks</h3>
      {h.runbooks.length ? (
        <ul>
          {h.runbooks.map((r) => (
            <li key={r.id}>
              {r.title} <span className="muted">({r.id})</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">None.</p>
      )}
    </section>
  );
}

function Linked({ i, h }: { i: Incident; h: IncidentHeader }) {
  const active = new Map(h.activeRuns.map((r) => [r.id, r]));
  return (
    <section aria-labelledby="linked-heading">
      <h2 id="linked-heading">Runbook runs and requests</h2>
      <div className="two-col">
        <div>
          <h3>Runs</h3>
          {i.runs.length ? (
            <ul>
              {i.runs.map((id) => {
                const a = active.get(id);
                return (
                  <li key={id}>
                    <Link to={`/runs/${id}`}>{id}</Link>
                    {a ? ` — ${a.runbook}, now at: ${a.step ?? '—'}` : ''}
                  </li>
                );
              })}
            </ul>
          ) : (
            <p className="muted">None.</p>
          )}
        </div>
        <div>
          <h3>Requests</h3>
          {i.requests.length ? (
            <ul>
              {i.requests.map((id) => (
                <li key={id}>
                  <Link to={`/requests/${id}`}>{id}</Link>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">None.</p>
          )}
        </div>
      </div>
    </section>
  );
}

function Postmortem({ id }: { id: string }) {
  const action = useAction();
  const [url, setUrl] = useState<string>();
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  const prepare = () =>
    action.run(async () => {
      const markdown = await getText(`/incidents/${id}/postmortem`);
      setUrl(URL.createObjectURL(new Blob([markdown], { type: 'text/markdown' })));
    });
  return (
    <section aria-labelledby="pm-heading">
      <h2 id="pm-heading">Postmortem</h2>
      <p className="hint">A Markdown draft built from the timeline, requests and runs.</p>
      {url ? (
        <a className="button primary" href={url} download={`${id}-postmortem.md`}>
          Download {id}-postmortem.md
        </a>
      ) : (
        <button type="button" onClick={() => void prepare()} disabled={action.busy}>
          Prepare the postmortem draft
        </button>
      )}
      <ErrorNote error={action.error} />
    </section>
  );
}

function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p className="muted">Nothing yet.</p>;
  return (
    <ol className="timeline">
      {entries.map((e) => (
        <li key={e.seq}>
          <Time at={e.at} /> <span className="badge tone-muted">{e.kind}</span>{' '}
          <strong>{e.actor}</strong> {e.text}
          {e.ref ? (
            <>
              {' '}
              <RecordLink id={e.ref} />
            </>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

export function IncidentDetailPage({ id }: { id: string }) {
  const one = useLoad<{ incident: Incident; header: IncidentHeader }>(
    `/incidents/${encodeURIComponent(id)}`,
  );
  const timeline = useLoad<{ entries: TimelineEntry[] }>(
    `/incidents/${encodeURIComponent(id)}/timeline`,
  );
  const refresh = () => {
    one.reload();
    timeline.reload();
  };
  const d = one.data;
  return (
    <Page
      title={`Incident ${id}`}
      actions={
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={one.error} />
      <Loading when={one.loading && !d} />
      {d ? (
        <>
          <Header i={d.incident} h={d.header} />
          <section aria-labelledby="act-heading">
            <h2 id="act-heading">Respond</h2>
            <IncidentActions incident={d.incident} onDone={refresh} />
          </section>
          <Linked i={d.incident} h={d.header} />
        </>
      ) : null}
      <section aria-labelledby="tl-heading">
        <h2 id="tl-heading">Timeline</h2>
        <ErrorNote error={timeline.error} />
        <Timeline entries={timeline.data?.entries ?? []} />
      </section>
      <Postmortem id={id} />
    </Page>
  );
}
