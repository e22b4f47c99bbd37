/** Incidents: the list (by status, service, environment) and declaring a new one. */
import { type FormEvent, useState } from 'react';
import { postJson } from '../api.ts';
import { Link, navigate, useLocation, withQuery } from '../router.tsx';
import type { Incident, Severity } from '../types.ts';
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

const STATUS_CHOICES: [string, string][] = [
  ['open,mitigated', 'Open or mitigated'],
  ['open', 'Open'],
  ['mitigated', 'Mitigated'],
  ['resolved', 'Resolved'],
  ['', 'All'],
];

function Declare({ onClose }: { onClose: () => void }) {
  const [form, setForm] = useState({ service: '', environment: '', severity: 'sev3', title: '' });
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const { incident } = await postJson<{ incident: Incident }>('/incidents', {
        service: form.service.trim(),
        environment: form.environment.trim(),
        severity: form.severity as Severity,
        title: form.title.trim(),
      });
      navigate(`/incidents/${incident.id}`);
    });
  };
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });
  return (
    <form className="card" onSubmit={submit} aria-labelledby="declare-heading">
      <h2 id="declare-heading">Declare an incident</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="d-service">Service</label>
          <input
            id="d-service"
            required
            value={form.service}
            onChange={(e) => set('service')(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="d-env">Environment</label>
          <input
            id="d-env"
            required
            value={form.environment}
            onChange={(e) => set('environment')(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="d-sev">Proposed severity</label>
          <select
            id="d-sev"
            value={form.severity}
            onChange={(e) => set('severity')(e.target.value)}
          >
            <option value="sev1">sev1 (always waits for a confirmation)</option>
            <option value="sev2">sev2</option>
            <option value="sev3">sev3</option>
            <option value="sev4">sev4</option>
          </select>
        </div>
        <div className="field wide">
          <label htmlFor="d-title">What is wrong</label>
          <input
            id="d-title"
            required
            maxLength={200}
            value={form.title}
            onChange={(e) => set('title')(e.target.value)}
          />
        </div>
      </div>
      <div className="button-row">
        <button type="submit" className="primary" disabled={action.busy}>
          Declare
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}

function IncidentTable({ incidents }: { incidents: Incident[] }) {
  return (
    <TableWrap label="Incidents table">
      <table>
        <caption>{incidents.length} incidents, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Incident</th>
            <th scope="col">Title</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            <th scope="col">Service</th>
            <th scope="col">Commander</th>
            <th scope="col">Opened</th>
          </tr>
        </thead>
        <tbody>
          {incidents.map((i) => (
            <tr key={i.id}>
              <th scope="row">
                <Link to={`/incidents/${i.id}`}>{i.id}</Link>
              </th>
              <td>{i.title}</td>
              <td>
                <Badge value={i.severity.level} />
                {i.severity.confirmed ? '' : ' proposed'}
              </td>
              <td>
                <Badge value={i.status} />
              </td>
              <td>
                {i.service}/{i.environment}
              </td>
              <td>{i.roles.commander ?? '—'}</td>
              <td>
                <Time at={i.createdAt} />
              </td>
            </tr>
          ))}
          {incidents.length === 0 ? <EmptyRow columns={7}>No incidents match.</EmptyRow> : null}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function IncidentsPage() {
  const { query } = useLocation();
  const status = query.get('status') ?? 'open,mitigated';
  const [declaring, setDeclaring] = useState(false);
  const list = useLoad<{ incidents: Incident[] }>('/incidents', {
    status: status === 'all' ? undefined : status,
    limit: 200,
  });
  const incidents = list.data?.incidents ?? [];
  return (
    <Page
      title="Incidents"
      actions={
        declaring ? null : (
          <button type="button" className="primary" onClick={() => setDeclaring(true)}>
            Declare an incident
          </button>
        )
      }
    >
      {declaring ? <Declare onClose={() => setDeclaring(false)} /> : null}
      <div className="toolbar">
        <label htmlFor="i-status">Status</label>
        <select
          id="i-status"
          value={status}
          onChange={(e) =>
            navigate(withQuery('/incidents', { status: e.target.value || 'all' }), {
              replace: true,
            })
          }
        >
          {STATUS_CHOICES.map(([v, label]) => (
            <option key={label} value={v === '' ? 'all' : v}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={list.error} />
      <Loading when={list.loading && !list.data} />
      <IncidentTable incidents={incidents} />
    </Page>
  );
}
