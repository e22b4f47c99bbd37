/**
 * Audit: search the hash-chained log by person, action, record, service, link and time,
 * and verify the chain from the page (administrators). The server filters by actor,
 * action, target and time and pages newest first (`before` the last seq it read); service
 * and link are matched here on each page.
 */
import { type FormEvent, useState } from 'react';
import { postJson } from '../api.ts';
import { type AuditSearch, newestPage } from '../audit-query.ts';
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

function matches(e: AuditEntry, s: Search): boolean {
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

/** A `datetime-local` value (this browser's time zone, to the minute) as ms since epoch. */
function localTime(value: string, endOfMinute: boolean): number | undefined {
  const ms = value ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) return undefined;
  return endOfMinute && value.length <= 16 ? ms + 59_999 : ms;
}

function serverSearch(s: Search): AuditSearch {
  const from = localTime(s.from, false);
  const to = localTime(s.to, true);
  return {
    actor: s.actor,
    action: s.action,
    target: s.target,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

/**
 * Up to `PAGE` more matches, newest first, before seq `before` (from the newest when
 * undefined), reading at most ten pages of the log; `next` is the cursor for more.
 */
async function findMatches(search: Search, before: number | undefined) {
  const query = serverSearch(search);
  const found: AuditEntry[] = [];
  let cursor = before;
  let more = true;
  for (let pages = 0; more && found.length < PAGE && pages < 10; pages++) {
    const page = await newestPage(query, cursor);
    found.push(...page.entries.filter((e) => matches(e, search)));
    more = page.more && page.lastSeq !== undefined;
    cursor = page.lastSeq;
  }
  return { found, next: more ? cursor : undefined };
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
  const load = (search: Search, before: number | undefined, kept: AuditEntry[]) =>
    action.run(async () => {
      const { found, next } = await findMatches(search, before);
      setSearched(search);
      setResults([...kept, ...found]);
      setCursor(next);
    });

  return (
    <Page title="Audit">
      <SearchForm busy={action.busy} onSearch={(s) => void load(s, undefined, [])} />
      <ErrorNote error={action.error} />
      <div role="status" className="muted">
        {action.busy ? 'Searching…' : results ? `${results.length} entries found.` : ''}
      </div>
      {results ? (
        <AuditTable entries={results} caption="Matching audit entries, newest first" />
      ) : null}
      {results && cursor !== undefined ? (
        <p>
          <button
            type="button"
            onClick={() => void load(searched, cursor, results)}
            disabled={action.busy}
          >
            Load older entries
          </button>
        </p>
      ) : null}
      <Verify />
    </Page>
  );
}
