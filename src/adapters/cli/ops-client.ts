/**
 * `countersign ops …`: the chat grammar against a running server, over the HTTP API.
 * Catalog commands become requests; `approve`, `deny` and `cancel` act on a request id.
 * Approve fetches the request first and sends the digest of what it shows, so an
 * approval from the terminal is bound to what the person saw, as in chat.
 */
import { parseCommandText } from '../../domain/grammar.ts';

export interface OpsOptions {
  url: string;
  token: string;
  /** For a destructive command: the target typed out, `<service>/<environment>`. */
  confirm?: string;
  /** Which sign-off `approve` gives: `approval` (default), `window-ack` or `rollback-confirm`. */
  kind?: 'approval' | 'window-ack' | 'rollback-confirm';
  out: (line: string) => void;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(o: OpsOptions, method: string, path: string, body?: unknown): Promise<Answer> {
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
  return { status: res.status, body: parsed };
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
  o.out(
    'error: this verb is not available from the CLI yet; try a catalog command, approve, deny or cancel',
  );
  return 2;
}

function report(o: OpsOptions, a: Answer): number {
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
