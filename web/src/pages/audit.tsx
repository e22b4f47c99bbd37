/**
 * Audit: search the hash-chained log by person, action, record, service, link and time,
 * and verify the chain from the page (administrators). The server filters by actor,
 * action and target and pages oldest first after a seq; service, link and the end time
 * are matched here on each page, and the start time is found by bisecting on seq.
 */
import { type FormEvent, useState } from 'react';
import { getJson, postJson } from '../api.ts';
import { afterSeqAt } from '../audit-query.ts';
import type { AuditEntry, VerifyReport } from '../types.ts';
import { ErrorNote, Page, useAction } from '../ui.tsx';
import { AuditTable } from './audit-table.tsx';

const PAGE = 500;

interface Search {
  actor: string;
  action: string;
  target: string;
  service: string;
  link: string;
  from: string;
  to: string;
}

const EMPTY: Search = {
  actor: '',
  action: '',
  target: '',
  service: '',
  link: '',
  from: '',
  to: '',
};

function matches(e: AuditEntry, s: Search, toMs: number): boolean {
  if (e.at > toMs) return false;
  if (s.service) {
    const d = e.detail as { service?: unknown };
    if (d.service !== s.service && !e.target.includes(s.service)) return false;
  }
  if (s.link && !Object.values(e.links).some((v) => v === s.link)) return false;
  return true;
}

function Verify() {
  const action = useAction();
  const [report, setReport] = useState<VerifyReport>();
  const verify = () =>
    action.run(async () => {
      setReport(undefined);
      setReport(await postJson<VerifyReport>('/audit/verify'));
    });
  return (
    <section aria-labelledby="verify-heading" className="card">
      <h2 id="verify-heading">Verify the chain</h2>
      <p className="hint">
        Recomputes every entry&rsquo;s hash and link; names the first entry that was changed,
        removed or reordered. Administrators only.
      </p>
      <button
        type="button"
        className="primary"
        onClick={() => void verify()}
        disabled={action.busy}
      >
        {action.busy ? 'Verifying…' : 'Verify the audit chain'}
      </button>
      <div role="status">
        {report ? (
          <p className={report.ok ? 'ok-text' : 'error-text'}>
            {report.ok ? 'Intact. ' : 'Broken. '}
            {report.message} ({report.checked} entries checked)
          </p>
        ) : null}
      </div>
      <ErrorNote error={action.error} />
    </section>
  );
}

/** Up to `PAGE` more matches after seq `after`, reading at most ten pages of the log. */
async function findMatches(search: Search, after: number) {
  const toMs = search.to ? Date.parse(search.to) : Number.POSITIVE_INFINITY;
  const found: AuditEntry[] = [];
  let next: number | undefined = after;
  for (let pages = 0; next !== undefined && found.length < PAGE && pages < 10; pages++) {
    const page: { entries: AuditEntry[] } = await getJson('/audit', {
      actor: search.actor || undefined,
      action: search.action || undefined,
      target: search.target || undefined,
      afterSeq: next,
      limit: 1000,
    });
    const entries = page.entries;
    found.push(...entries.filter((e) => matches(e, search, toMs)));
    const last = entries.at(-1);
    next = entries.length < 1000 || !last || last.at > toMs ? undefined : last.seq;
  }
  return { found, next };
}

function SearchForm({ busy, onSearch }: { busy: boolean; onSearch: (s: Search) => void }) {
  const [search, setSearch] = useState<Search>(EMPTY);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(search);
  };
  const field = (key: keyof Search, label: string, type = 'text') => (
    <div className="field" key={key}>
      <label htmlFor={`a-${key}`}>{label}</label>
      <input
        id={`a-${key}`}
        type={type}
        autoComplete="off"
        spellCheck={false}
        value={search[key]}
        onChange={(e) => setSearch({ ...search, [key]: e.target.value })}
      />
    </div>
  );
  return (
    <form className="filters" onSubmit={submit} aria-label="Search the audit log">
      {field('actor', 'Person')}
      {field('action', 'Action (e.g. request.created)')}
      {field('target', 'Record (REQ-…, INC-…)')}
      {field('service', 'Service')}
      {field('link', 'Link (ticket, incident or PR)')}
      {field('from', 'From', 'datetime-local')}
      {field('to', 'To', 'datetime-local')}
      <div className="button-row">
        <button type="submit" className="primary" disabled={busy}>
          Search
        </button>
      </div>
    </form>
  );
}

export function AuditPage() {
  const [searched, setSearched] = useState<Search>(EMPTY);
  const [results, setResults] = useState<AuditEntry[]>();
  const [cursor, setCursor] = useState<number | undefined>();
  const action = useAction();
  const load = (search: Search, after: number, kept: AuditEntry[]) =>
    action.run(async () => {
      const start = search.from && after === 0 ? await afterSeqAt(Date.parse(search.from)) : after;
      const { found, next } = await findMatches(search, start);
      setSearched(search);
      setResults([...kept, ...found]);
      setCursor(next);
    });

  return (
    <Page title="Audit">
      <SearchForm busy={action.busy} onSearch={(s) => void load(s, 0, [])} />
      <ErrorNote error={action.error} />
      <div role="status" className="muted">
        {action.busy ? 'Searching…' : results ? `${results.length} entries found.` : ''}
      </div>
      {results ? (
        <AuditTable entries={results} caption="Matching audit entries, oldest first" />
      ) : null}
      {results && cursor !== undefined ? (
        <p>
          <button
            type="button"
            onClick={() => void load(searched, cursor, results)}
            disabled={action.busy}
          >
            Load more
          </button>
        </p>
      ) : null}
      <Verify />
    </Page>
  );
}
