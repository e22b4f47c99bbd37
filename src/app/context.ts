/**
 * What every use case receives: the ports, and who is acting from where.
 */
import type { AuditDraft } from '../domain/audit-chain.ts';
import type { Person } from '../domain/catalog.ts';
import type { Links, Surface } from '../domain/request-model.ts';
import type { IncidentChat, ResponseMetrics } from './incident-ports.ts';
import type { CatalogSource, Clock, Executor, Ids, Notifier, Sha256, Store } from './ports.ts';

/** The subset of a pino logger the app uses. */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AppDeps {
  store: Store;
  catalog: CatalogSource;
  clock: Clock;
  ids: Ids;
  sha256: Sha256;
  executor: Executor;
  notifier: Notifier;
  log: Log;
  /** Where incident headers and runbook step cards are shown; without it they are not shown. */
  incidentChat?: IncidentChat;
  /** Incident-response metrics, when the server exports them. */
  responseMetrics?: ResponseMetrics;
  /** Called after a commit that enqueued work, so the dispatcher need not wait for its poll. */
  wakeDispatcher?: () => void;
  limits: {
    /** Largest command output kept, in bytes after redaction. */
    maxOutputBytes: number;
    /** Longest a preview handler may run, in milliseconds. */
    previewTimeoutMs: number;
  };
}

/** A person the surface has authenticated and mapped through the catalog. */
export interface Actor {
  person: Person;
  surface: Surface;
  /** Slack channel id or `dm`, when acting from chat. */
  channel?: string;
}

export function auditOf(
  actor: Actor | { id: string; surface: Surface },
  at: number,
  fields: {
    action: string;
    target: string;
    result?: string;
    paramsDigest?: string;
    links?: Links;
    detail?: Record<string, unknown>;
  },
): AuditDraft {
  const isActor = 'person' in actor;
  return {
    actor: isActor ? actor.person.id : actor.id,
    surface: actor.surface,
    action: fields.action,
    target: fields.target,
    paramsDigest: fields.paramsDigest ?? '',
    result: fields.result ?? 'ok',
    links: fields.links ?? {},
    detail: fields.detail ?? {},
    at,
  };
}

export const SYSTEM = { id: 'system', surface: 'system' as const };
