/** Audit entries as a table: who did what to which record, when, from where, and the result. */
import { formatLinks, shortDigest } from '../format.ts';
import { RecordLink } from '../record-link.tsx';
import type { AuditEntry } from '../types.ts';
import { Badge, EmptyRow, TableWrap, Time } from '../ui.tsx';

function detailText(detail: Record<string, unknown>): string {
  const s = JSON.stringify(detail);
  return s === '{}' ? '' : s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

export function AuditTable({ entries, caption }: { entries: AuditEntry[]; caption: string }) {
  if (entries.length === 0) return <p className="muted">No entries.</p>;
  return (
    <TableWrap label={caption}>
      <table className="audit-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Result</th>
            <th scope="col">Links</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <th scope="row">{e.seq}</th>
              <td>
                <Time at={e.at} />
              </td>
              <td>
                {e.actor} <span className="muted">({e.surface})</span>
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                <RecordLink id={e.target} />
              </td>
              <td>{e.result === 'ok' ? 'ok' : <Badge value={e.result} />}</td>
              <td>{formatLinks(e.links as Record<string, string | undefined>) || '—'}</td>
              <td className="detail-cell">
                {detailText(e.detail)}
                {e.paramsDigest ? (
                  <span className="muted" title={e.paramsDigest}>
                    {' '}
                    params {shortDigest(e.paramsDigest)}
                  </span>
                ) : null}
              </td>
            </tr>
          ))}
          {entries.length === 0 ? <EmptyRow columns={8}>No audit entries.</EmptyRow> : null}
        </tbody>
      </table>
    </TableWrap>
  );
}
