/**
 * `countersign ops …`: the chat grammar against a running server, over the HTTP API.
 * Catalog commands become requests; `approve`, `deny` and `cancel` act on a request id.
 * Approve fetches the request first and sends the digest of what it shows, so an
 * approval from the terminal is bound to what the person saw, as in chat. `incident`,
 * `runbook`, `status-of` and `help` lines go to `POST /commands` and print its text.
 * `countersign report` and `countersign incident postmortem` read their endpoints.
 */
import { writeFile } from 'node:fs/promises';
import { parseCommandText } from '../../domain/grammar.ts';
import { formatReport, type ReviewReport } from '../../domain/review-report.ts';

/** Where the server is and who is asking. */
export interface ServerOptions {
  url: string;
  token: string;
  out: (line: string) => void;
}

export interface OpsOptions extends ServerOptions {
  /** For a destructive command: the target typed out, `<service>/<environment>`. */
  confirm?: string;
  /** Which sign-off `approve` gives: `approval` (default), `window-ack` or `rollback-confirm`. */
  kind?: 'approval' | 'window-ack' | 'rollback-confirm';
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** The body as sent, for answers that are not JSON (the postmortem's Markdown). */
  raw: string;
}

async function call(
  o: ServerOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(new URL(`/api/v1${path}`, o.url), {
    method,
    headers: {
      authorization: `Bearer ${o.token}`,
      'x-countersign-surface': 'cli',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { detail: text.slice(0, 500) };
  }
  return { status: res.status, body: parsed, raw: text };
}

/** Runs one ops line; returns the process exit code (0 ok, 1 refused, 2 usage). */
export async function runOps(text: string, o: OpsOptions): Promise<number> {
  const parsed = parseCommandText(text);
  if (!parsed.ok) {
    o.out(`error: ${parsed.error.message}`);
    const usage = parsed.error.details.usage;
    if (typeof usage === 'string') o.out(`usage: ${usage}`);
    return 2;
  }
  const p = parsed.value;
  if (p.kind === 'action') return report(o, await call(o, 'POST', '/requests', { text }));
  if (p.kind === 'builtin' && (p.verb === 'approve' || p.verb === 'deny' || p.verb === 'cancel')) {
    const id = p.args[0] ?? '';
    if (p.verb === 'approve') {
      const seen = await call(o, 'GET', `/requests/${encodeURIComponent(id)}`);
      if (seen.status !== 200) return report(o, seen);
      const request = seen.body.request as { digest: string };
      return report(
        o,
        await call(o, 'POST', `/requests/${encodeURIComponent(id)}/approve`, {
          digest: request.digest,
          ...(o.kind ? { kind: o.kind } : {}),
          ...(o.confirm ? { confirmation: o.confirm } : {}),
        }),
      );
    }
    const body =
      p.verb === 'deny'
        ? { reason: p.params.reason ?? '' }
        : p.params.reason
          ? { reason: p.params.reason }
          : {};
    return report(o, await call(o, 'POST', `/requests/${encodeURIComponent(id)}/${p.verb}`, body));
  }
  return say(o, await call(o, 'POST', '/commands', { text }));
}

/** Prints a `/commands` answer's text; a usage error (PARSE_ERROR) exits 2, as locally. */
function say(o: ServerOptions, a: Answer): number {
  if (a.status === 400 && a.body.code === 'PARSE_ERROR') {
    o.out(`error: ${String(a.body.detail ?? '')}`);
    return 2;
  }
  if (a.status >= 400) return report(o, a);
  o.out(String(a.body.text ?? ''));
  return 0;
}

function report(o: ServerOptions, a: Answer): number {
  if (a.status >= 400) {
    o.out(
      `refused (${a.status} ${String(a.body.code ?? '')}): ${String(a.body.detail ?? a.body.title ?? '')}`,
    );
    return 1;
  }
  const ran = a.body.ran as { ok: boolean; output: string; error?: string } | undefined;
  if (ran) {
    o.out(ran.output);
    if (!ran.ok) o.out(`error: ${ran.error ?? 'failed'}`);
    return ran.ok ? 0 : 1;
  }
  const r = a.body.request as { id: string; state: string; missing?: string[] };
  o.out(`${r.id} ${r.state}`);
  for (const m of r.missing ?? []) o.out(`  needs ${m}`);
  return 0;
}

export interface ReportOptions extends ServerOptions {
  /** ISO 8601 time or a duration back from now (`7d`, `24h`, `90m`); the server's default is 7d. */
  since?: string;
  until?: string;
  /** Print the report as JSON instead of text. */
  json: boolean;
}

/** `countersign report`: the review report over a window. */
export async function runReport(o: ReportOptions): Promise<number> {
  for (const [flag, value] of [
    ['--since', o.since],
    ['--until', o.until],
  ] as const) {
    if (value !== undefined && !/^\d{1,4}[dhm]$/.test(value) && Number.isNaN(Date.parse(value))) {
      o.out(`error: ${flag} must be an ISO 8601 time or a duration like 7d, 24h or 90m`);
      return 2;
    }
  }
  const q = new URLSearchParams();
  if (o.since) q.set('since', o.since);
  if (o.until) q.set('until', o.until);
  const a = await call(o, 'GET', `/report${q.size ? `?${q}` : ''}`);
  if (a.status >= 400) return report(o, a);
  o.out(
    o.json
      ? JSON.stringify(a.body, null, 2)
      : formatReport(a.body as unknown as ReviewReport).trimEnd(),
  );
  return 0;
}

/** `countersign incident postmortem <id>`: the Markdown draft, printed or written to `outFile`. */
export async function runPostmortem(
  id: string,
  o: ServerOptions & { outFile?: string },
): Promise<number> {
  const a = await call(o, 'GET', `/incidents/${encodeURIComponent(id)}/postmortem`);
  if (a.status >= 400) return report(o, a);
  if (!o.outFile) {
    o.out(a.raw.replace(/\n$/, ''));
    return 0;
  }
  await writeFile(o.outFile, a.raw);
  o.out(`wrote ${o.outFile}`);
  return 0;
}
