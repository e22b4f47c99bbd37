/**
 * `countersign events test-pattern` and `countersign events route`: try EventBridge
 * patterns and the catalog's routes against an event file, offline. `test-pattern` prints
 * `true` or `false` (exit 0 / 1) like `aws events test-event-pattern`; a pattern AWS would
 * reject, or a file that is not JSON, is an error naming the field (exit 2).
 */
import { readFile } from 'node:fs/promises';
import type { Catalog } from '../../domain/catalog.ts';
import { isDomainError } from '../../domain/errors.ts';
import { compilePattern, explainMatch, matchesPattern } from '../../domain/event-pattern.ts';
import { alertFactsOf, eventSummary } from '../../domain/ingest/alert-facts.ts';
import { parseEventBridgeEvent } from '../../domain/ingest/eventbridge-event.ts';
import { compileRoutes, explainRoute } from '../../domain/routing.ts';

export interface Printer {
  out(line: string): void;
  err(line: string): void;
}

/** Largest pattern or event file read, in bytes (EventBridge's own event limit is 256 KB). */
const MAX_FILE_BYTES = 1024 * 1024;

async function readJson(file: string, what: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    throw new Error(`${what} file ${file} is larger than 1 MB`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} file ${file} is not JSON: ${(err as Error).message}`);
  }
}

export async function testPattern(
  patternFile: string,
  eventFile: string,
  o: { explain: boolean },
  p: Printer,
): Promise<number> {
  try {
    const pattern = compilePattern(await readJson(patternFile, 'pattern'));
    const event = await readJson(eventFile, 'event');
    const matched = matchesPattern(pattern, event);
    p.out(String(matched));
    if (o.explain) {
      for (const f of explainMatch(pattern, event).fields) {
        p.out(`  ${f.ok ? 'ok  ' : 'FAIL'} ${f.field}: expected ${f.expected}, got ${f.actual}`);
      }
    }
    return matched ? 0 : 1;
  } catch (err) {
    p.err(`error: ${errorText(err)}`);
    return 2;
  }
}

export async function routeEventFile(
  catalog: Catalog,
  eventFile: string,
  p: Printer,
): Promise<number> {
  try {
    const event = parseEventBridgeEvent(await readJson(eventFile, 'event'));
    const { tried, decisions } = explainRoute(compileRoutes(catalog), event);
    p.out(`event: ${eventSummary(event)}`);
    for (const t of tried) p.out(`  ${t.matched ? 'MATCH' : 'no   '} ${t.route}: ${t.why}`);
    for (const d of decisions) {
      const where = d.service ? `${d.service}/${d.environment ?? '(environment unknown)'}` : '-';
      const to = d.channel ?? 'no channel (recorded only)';
      p.out(
        `→ route ${d.route.id}${d.unrouted ? ' (default)' : ''}: team ${d.team}, ${where}, ${d.severity}, ${to}` +
          (d.runbooks.length ? `, runbooks ${d.runbooks.join(', ')}` : ''),
      );
    }
    const facts = alertFactsOf(event);
    p.out(
      facts
        ? `alert: ${facts.state} ${facts.fingerprint}`
        : 'not an alert: stored and counted only',
    );
    return 0;
  } catch (err) {
    p.err(`error: ${errorText(err)}`);
    return 2;
  }
}

function errorText(err: unknown): string {
  if (isDomainError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}
