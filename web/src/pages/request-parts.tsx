/** What an approver reviews, the same as Slack's prompt: the command, target, parameters,
 * link, reason, class, rollback plan, the preview of the change and what is still needed. */
import { formatLinks, formatParams } from '../format.ts';
import { RecordLink } from '../record-link.tsx';
import type { ActionRequest, RollbackPlan } from '../types.ts';
import { Badge, Facts, Time } from '../ui.tsx';

export function rollbackText(plan: RollbackPlan | null): string {
  if (!plan) return '—';
  return 'command' in plan ? `run ${plan.command}` : `none: ${plan.none}`;
}

/** `deploy checkout-api prod version=1.4.2` */
export function requestLine(r: ActionRequest): string {
  const params = formatParams(r.params);
  return `${r.command} ${r.service} ${r.environment}${params ? ` ${params}` : ''}`;
}

export function LinksList({ r }: { r: ActionRequest }) {
  const entries = Object.entries(r.links).filter(([, v]) => v);
  if (entries.length === 0) return <span className="muted">none</span>;
  return (
    <span className="inline-list">
      {entries.map(([k, v]) => (
        <span key={k}>
          {k} <RecordLink id={String(v)} />
        </span>
      ))}
    </span>
  );
}

export function RequestSummary({ r }: { r: ActionRequest }) {
  return (
    <>
      <p className="request-line">
        <code>{requestLine(r)}</code> <Badge value={r.class} /> <Badge value={r.state} />
        {r.breakGlass ? <span className="badge tone-bad">break-glass</span> : null}
      </p>
      <Facts
        rows={[
          ['Requester', r.requester],
          ['Link', <LinksList key="l" r={r} />],
          ['Reason', r.reason ?? r.breakGlass?.reason],
          ['Rollback', rollbackText(r.rollback)],
          ['Created', <Time key="c" at={r.createdAt} />],
          ['Expires', r.state === 'pending' ? <Time key="e" at={r.expiresAt} /> : undefined],
          [
            'Origin',
            r.origin
              ? r.origin.kind === 'runbook'
                ? `runbook run ${r.origin.run ?? ''} step ${r.origin.step ?? ''}`
                : `rule ${r.origin.rule ?? ''}`
              : undefined,
          ],
        ]}
      />
      {r.preview ? (
        <div className="preview">
          <h3>What would change</h3>
          {r.preview.error ? (
            <p className="error-text">The preview failed: {r.preview.error}</p>
          ) : r.preview.changes.length ? (
            <ul>
              {r.preview.changes.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
          ) : (
            <p className="muted">The preview reports no change.</p>
          )}
        </div>
      ) : null}
      {r.missing.length ? (
        <div>
          <h3>Still needed</h3>
          <ul>
            {r.missing.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </>
  );
}

/** The links line as plain text, for table cells. */
export function linksText(r: ActionRequest): string {
  return formatLinks(r.links as Record<string, string | undefined>) || '—';
}
