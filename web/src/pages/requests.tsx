/**
 * Requests, newest first, filtered by state, requester, service and environment. The
 * filters live in the URL, so a filtered list can be linked and the Back button works.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { formatParams } from '../format.ts';
import { Link, navigate, useLocation, withQuery } from '../router.tsx';
import { type ActionRequest, REQUEST_STATES } from '../types.ts';
import { Badge, EmptyRow, ErrorNote, Loading, Page, TableWrap, Time, useLoad } from '../ui.tsx';
import { linksText } from './request-parts.tsx';

const PAGE_SIZE = 50;
const FIELDS = ['state', 'requester', 'service', 'environment'] as const;
type Filters = Record<(typeof FIELDS)[number], string>;

/** The filter form: a draft until submitted, then the URL's query. */
function RequestFilters({ current }: { current: Filters }) {
  const [draft, setDraft] = useState<Filters>(current);
  const key = JSON.stringify(current);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `current`; Back and Forward reset the form to the URL.
  useEffect(() => setDraft(current), [key]);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    navigate(withQuery('/requests', { ...draft }));
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter requests">
      <div className="field">
        <label htmlFor="f-state">State</label>
        <select
          id="f-state"
          value={draft.state}
          onChange={(e) => setDraft({ ...draft, state: e.target.value })}
        >
          <option value="">any</option>
          {REQUEST_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {(['requester', 'service', 'environment'] as const).map((f) => (
        <div className="field" key={f}>
          <label htmlFor={`f-${f}`}>{f[0]?.toUpperCase() + f.slice(1)}</label>
          <input
            id={`f-${f}`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={draft[f]}
            onChange={(e) => setDraft({ ...draft, [f]: e.target.value.trim() })}
          />
        </div>
      ))}
      <div className="button-row">
        <button type="submit" className="primary">
          Filter
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft({ state: '', requester: '', service: '', environment: '' });
            navigate('/requests');
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

function RequestTable({ requests, before }: { requests: ActionRequest[]; before: string }) {
  return (
    <TableWrap label="Requests table">
      <table>
        <caption>
          {requests.length} request{requests.length === 1 ? '' : 's'}
          {before ? ` before ${before}` : ''}, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Command</th>
            <th scope="col">Target</th>
            <th scope="col">State</th>
            <th scope="col">Requester</th>
            <th scope="col">Link</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {requests.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                <Link to={`/requests/${r.id}`}>{r.id}</Link>
              </th>
              <td>
                <code>{r.command}</code> <span className="muted">{formatParams(r.params)}</span>
              </td>
              <td>
                {r.service}/{r.environment}
              </td>
              <td>
                <Badge value={r.state} />
              </td>
              <td>{r.requester}</td>
              <td>{linksText(r)}</td>
              <td>
                <Time at={r.createdAt} />
              </td>
            </tr>
          ))}
          {requests.length === 0 ? <EmptyRow columns={7}>No requests match.</EmptyRow> : null}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function RequestsPage() {
  const { query } = useLocation();
  const current: Filters = {
    state: query.get('state') ?? '',
    requester: query.get('requester') ?? '',
    service: query.get('service') ?? '',
    environment: query.get('environment') ?? '',
  };
  const before = query.get('before') ?? '';
  const list = useLoad<{ requests: ActionRequest[] }>('/requests', {
    ...current,
    before,
    limit: PAGE_SIZE,
  });
  const requests = list.data?.requests ?? [];
  const last = requests.at(-1);

  return (
    <Page title="Requests">
      <RequestFilters current={current} />
      <ErrorNote error={list.error} />
      <Loading when={list.loading && !list.data} />
      <RequestTable requests={requests} before={before} />
      <p className="pager">
        {before ? <Link to={withQuery('/requests', { ...current })}>Newest</Link> : null}
        {last && requests.length === PAGE_SIZE ? (
          <Link to={withQuery('/requests', { ...current, before: last.id })}>Older</Link>
        ) : null}
      </p>
    </Page>
  );
}
