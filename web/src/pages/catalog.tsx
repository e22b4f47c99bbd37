/**
 * The catalog in force, read-only (`GET /catalog`): its digest, services and their owning
 * teams, commands (class, policy per environment, rollback), runbooks and alert routes.
 * The catalog is changed as code, never from here.
 */
import { type ReactNode, useState } from 'react';
import { shortDigest } from '../format.ts';
import type { CommandClass, RollbackPlan, RunbookSummary, Severity } from '../types.ts';
import { Badge, EmptyRow, ErrorNote, Loading, Page, TableWrap, useLoad } from '../ui.tsx';
import { rollbackText } from './request-parts.tsx';

interface CatalogView {
  digest: string;
  teams: { id: string; name: string }[];
  people: { id: string; name: string; team?: string; roles: string[] }[];
  services: {
    id: string;
    team: string;
    description?: string;
    environments: { name: string; awsAccount?: string; region?: string }[];
    channels: { approvals?: string; alerts?: string; ops?: string };
  }[];
  commands: {
    id: string;
    team: string;
    description: string;
    class: CommandClass;
    params: { name: string; type: string; required: boolean; sensitive: boolean }[];
    rollback: RollbackPlan | null;
    policies: { service: string; environment: string; policy: string | null }[];
  }[];
  policies: {
    id: string;
    approvals: number;
    approverRoles: string[];
    expiresAfterMinutes: number;
  }[];
  runbooks: RunbookSummary[];
  routes: {
    id: string;
    team: string;
    service?: string;
    environment: string;
    severity: Severity;
    channel?: string;
    runbooks: string[];
    incident: boolean;
    isDefault: boolean;
  }[];
}

const SECTIONS = ['services', 'commands', 'policies', 'runbooks', 'routes', 'people'] as const;
type Section = (typeof SECTIONS)[number];

/** `prod: prod-changes; staging: (default)` — the policy per environment, merged across services. */
function policySummary(c: CatalogView['commands'][number]): string {
  if (c.class === 'read-only') return 'runs at once (view grant)';
  const byPolicy = new Map<string, Set<string>>();
  for (const p of c.policies) {
    const key = p.policy ?? 'default: one approval';
    byPolicy.set(key, (byPolicy.get(key) ?? new Set()).add(p.environment));
  }
  return [...byPolicy.entries()].map(([k, envs]) => `${[...envs].join(', ')}: ${k}`).join('; ');
}

function Services({ c }: { c: CatalogView }) {
  const teams = new Map(c.teams.map((t) => [t.id, t.name]));
  return (
    <table>
      <caption>Services and their owners</caption>
      <thead>
        <tr>
          <th scope="col">Service</th>
          <th scope="col">Owning team</th>
          <th scope="col">Environments</th>
          <th scope="col">Channels</th>
        </tr>
      </thead>
      <tbody>
        {c.services.map((s) => (
          <tr key={s.id}>
            <th scope="row">
              {s.id}
              {s.description ? <span className="cell-note">{s.description}</span> : null}
            </th>
            <td>{teams.get(s.team) ?? s.team}</td>
            <td>
              {s.environments
                .map(
                  (e) => `${e.name}${e.awsAccount ? ` (${e.awsAccount} ${e.region ?? ''})` : ''}`,
                )
                .join(', ')}
            </td>
            <td>
              {Object.entries(s.channels)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || '—'}
            </td>
          </tr>
        ))}
        {c.services.length === 0 ? <EmptyRow columns={4}>None in this catalog.</EmptyRow> : null}
      </tbody>
    </table>
  );
}

function Commands({ c }: { c: CatalogView }) {
  return (
    <table>
      <caption>Commands: class, approval policy and rollback plan</caption>
      <thead>
        <tr>
          <th scope="col">Command</th>
          <th scope="col">Class</th>
          <th scope="col">Team</th>
          <th scope="col">Parameters</th>
          <th scope="col">Policy</th>
          <th scope="col">Rollback</th>
        </tr>
      </thead>
      <tbody>
        {c.commands.map((m) => (
          <tr key={m.id}>
            <th scope="row">
              {m.id}
              <span className="cell-note">{m.description}</span>
            </th>
            <td>
              <Badge value={m.class} />
            </td>
            <td>{m.team}</td>
            <td>
              {m.params
                .map(
                  (p) =>
                    `${p.name}:${p.type}${p.required ? '' : '?'}${p.sensitive ? ' (sensitive)' : ''}`,
                )
                .join(', ') || '—'}
            </td>
            <td>{policySummary(m)}</td>
            <td>{m.class === 'read-only' ? '—' : rollbackText(m.rollback)}</td>
          </tr>
        ))}
        {c.commands.length === 0 ? <EmptyRow columns={6}>None in this catalog.</EmptyRow> : null}
      </tbody>
    </table>
  );
}

function Policies({ c }: { c: CatalogView }) {
  return (
    <table>
      <caption>Approval policies</caption>
      <thead>
        <tr>
          <th scope="col">Policy</th>
          <th scope="col">Approvals</th>
          <th scope="col">Approver roles</th>
          <th scope="col">Expires after</th>
        </tr>
      </thead>
      <tbody>
        {c.policies.map((p) => (
          <tr key={p.id}>
            <th scope="row">{p.id}</th>
            <td>{p.approvals}</td>
            <td>{p.approverRoles.join(', ') || '—'}</td>
            <td>{p.expiresAfterMinutes} min</td>
          </tr>
        ))}
        {c.policies.length === 0 ? <EmptyRow columns={4}>None in this catalog.</EmptyRow> : null}
      </tbody>
    </table>
  );
}

function Runbooks({ c }: { c: CatalogView }) {
  return (
    <table>
      <caption>Runbooks</caption>
      <thead>
        <tr>
          <th scope="col">Runbook</th>
          <th scope="col">Team</th>
          <th scope="col">Services</th>
          <th scope="col">Steps</th>
          <th scope="col">Version</th>
        </tr>
      </thead>
      <tbody>
        {c.runbooks.map((b) => (
          <tr key={b.id}>
            <th scope="row">
              {b.id}
              <span className="cell-note">{b.title}</span>
            </th>
            <td>{b.team}</td>
            <td>{b.services.join(', ')}</td>
            <td>
              <ol className="compact">
                {b.steps.map((s) => (
                  <li key={s.id}>
                    {s.title} <span className="muted">({s.kind})</span>
                  </li>
                ))}
              </ol>
            </td>
            <td>
              <code title={b.digest}>{shortDigest(b.digest)}</code>
            </td>
          </tr>
        ))}
        {c.runbooks.length === 0 ? <EmptyRow columns={5}>None in this catalog.</EmptyRow> : null}
      </tbody>
    </table>
  );
}

function Routes({ c }: { c: CatalogView }) {
  return (
    <table>
      <caption>Alert routes, in the order they are tried</caption>
      <thead>
        <tr>
          <th scope="col">Route</th>
          <th scope="col">Team</th>
          <th scope="col">Service</th>
          <th scope="col">Severity</th>
          <th scope="col">Channel</th>
          <th scope="col">Opens an incident</th>
          <th scope="col">Runbooks</th>
        </tr>
      </thead>
      <tbody>
        {c.routes.map((r) => (
          <tr key={r.id}>
            <th scope="row">
              {r.id}
              {r.isDefault ? <span className="cell-note">default route</span> : null}
            </th>
            <td>{r.team}</td>
            <td>{r.service ? `${r.service}/${r.environment}` : '—'}</td>
            <td>{r.severity}</td>
            <td>{r.channel ?? 'service alerts channel'}</td>
            <td>{r.incident ? 'yes' : 'no'}</td>
            <td>{r.runbooks.join(', ') || '—'}</td>
          </tr>
        ))}
        {c.routes.length === 0 ? <EmptyRow columns={7}>None in this catalog.</EmptyRow> : null}
      </tbody>
    </table>
  );
}

function People({ c }: { c: CatalogView }) {
  return (
    <table>
      <caption>People and their roles</caption>
      <thead>
        <tr>
          <th scope="col">Person</th>
          <th scope="col">Team</th>
          <th scope="col">Roles</th>
        </tr>
      </thead>
      <tbody>
        {c.people.map((p) => (
          <tr key={p.id}>
            <th scope="row">
              {p.name} <span className="muted">({p.id})</span>
            </th>
            <td>{p.team ?? '—'}</td>
            <td>{p.roles.join(', ')}</td>
          </tr>
        ))}
        {c.people.length === 0 ? <EmptyRow columns={3}>None in this catalog.</EmptyRow> : null}
      </tbody>
    </table>
  );
}

const RENDER: Record<Section, (p: { c: CatalogView }) => ReactNode> = {
  services: Services,
  commands: Commands,
  policies: Policies,
  runbooks: Runbooks,
  routes: Routes,
  people: People,
};

export function CatalogPage() {
  const catalog = useLoad<CatalogView>('/catalog');
  const [section, setSection] = useState<Section>('services');
  const c = catalog.data;
  const Body = RENDER[section];
  return (
    <Page title="Catalog">
      <ErrorNote error={catalog.error} />
      <Loading when={catalog.loading && !c} />
      {c ? (
        <>
          <p>
            Catalog digest <code className="digest">{c.digest}</code>. Read-only: the catalog is
            changed as code and checked with <code>countersign config validate</code>.
          </p>
          <fieldset className="segmented">
            <legend>Show</legend>
            {SECTIONS.map((s) => (
              <label key={s}>
                <input
                  type="radio"
                  name="catalog-section"
                  value={s}
                  checked={section === s}
                  onChange={() => setSection(s)}
                />
                {s} ({(c[s] as unknown[]).length})
              </label>
            ))}
          </fieldset>
          <TableWrap label={`Catalog ${section}`}>
            <Body c={c} />
          </TableWrap>
        </>
      ) : null}
    </Page>
  );
}
