/**
 * Change history: which ingested AWS events and which of our own executions are deploys or
 * configuration changes of a catalog service environment, so an incident header can show
 * "last deploy" and "last config change". Pure.
 *
 * Events recognised (anything else is not a change):
 * - ECS "ECS Deployment State Change" → deploy ("ECS deployment ecs-svc/123 COMPLETED").
 * - CodeDeploy "CodeDeploy Deployment State-change Notification" → deploy. Instance-level
 *   notifications are not changes of their own.
 * - AWS Config "Config Configuration Item Change" → config (resource type, id, change type).
 * - CloudTrail "AWS API Call via CloudTrail" → config, or deploy for the calls in
 *   `DEPLOY_CALLS`; actor = `userIdentity.arn`. Ignored: read-only calls
 *   (`detail.readOnly === true`, or a name in `READ_ONLY_PREFIXES`), calls that failed
 *   (`errorCode`), and data events (`eventCategory: Data`, `managementEvent: false`, or an
 *   S3 object-level call — a resource of type `AWS::S3::Object`, as in PutObject).
 *
 * Which service: the names an event carries — ARNs in `resources` (the envelope's and,
 * for CloudTrail, `detail.resources[].ARN`), the ECS service ARN, the CodeDeploy
 * application and deployment group, the Config `resourceId`/`resourceName`/`ARN`, every
 * string in CloudTrail `requestParameters` — are compared, lower-cased, with every catalog
 * service id. An ARN counts by its resource part without the resource type
 * (`service/default/checkout-api` → `default`, `checkout-api`; S3 keeps bucket and key).
 * An id matches a name when it appears in it between non-alphanumeric characters (or the
 * ends): `checkout-api` matches `checkout-api-prod` and `prod/checkout-api`, not
 * `checkout-apiv2`. The longest matching id wins; two different services matching with
 * the same length is ambiguous, and no service matching means no change is recorded.
 *
 * Which environment: the service environment of the event's account and region
 * (`resolveEnvironment`); none means no change is recorded.
 */
import type { Catalog, Command, Service } from './catalog.ts';
import type { EventEnvelope } from './event-envelope.ts';
import type { ChangeRecord } from './incident-model.ts';
import { REDACTED, redact } from './redact.ts';
import type { ActionRequest } from './request-model.ts';
import { resolveEnvironment } from './routing.ts';

/** CloudTrail calls whose names start so are read-only, whatever `readOnly` says. */
export const READ_ONLY_PREFIXES = ['Get', 'List', 'Describe', 'Head', 'BatchGet', 'Lookup'];

/** CloudTrail management calls that ship code: `eventSource` and an `eventName` prefix. */
export const DEPLOY_CALLS: readonly { source: string; name: string }[] = [
  { source: 'lambda.amazonaws.com', name: 'UpdateFunctionCode' },
  { source: 'ecs.amazonaws.com', name: 'UpdateService' },
  { source: 'codedeploy.amazonaws.com', name: 'CreateDeployment' },
  { source: 'elasticbeanstalk.amazonaws.com', name: 'UpdateEnvironment' },
];

/** Longest summary kept, in characters. */
const SUMMARY_MAX = 300;
/** How many strings of a CloudTrail event's request parameters are read, at most. */
const MAX_NAMES = 200;

interface Classified {
  kind: ChangeRecord['kind'];
  source: ChangeRecord['source'];
  summary: string;
  actor?: string;
  /** Resource names and ARNs to find the service in. */
  names: string[];
}

/** The change an ingested event records, or undefined when it is none of ours. */
export function changeFromEvent(
  e: EventEnvelope,
  catalog: Pick<Catalog, 'services'>,
): ChangeRecord | undefined {
  const c = classify(e);
  if (!c) return undefined;
  const service = serviceNamed(catalog.services, [...e.resources, ...c.names]);
  const environment = service && resolveEnvironment(service, e.account, e.region);
  const at = Date.parse(e.time);
  if (!service || !environment || Number.isNaN(at)) return undefined;
  return {
    id: e.id,
    service: service.id,
    environment,
    kind: c.kind,
    source: c.source,
    summary: cut(redact(c.summary, [])),
    ...(c.actor ? { actor: c.actor } : {}),
    at,
    ref: e.id,
  };
}

function classify(e: EventEnvelope): Classified | undefined {
  const d = e.detail;
  switch (e['detail-type']) {
    case 'ECS Deployment State Change':
      return e.source === 'aws.ecs' ? ecsDeployment(d) : undefined;
    case 'CodeDeploy Deployment State-change Notification':
      return e.source === 'aws.codedeploy' ? codeDeployment(d) : undefined;
    case 'Config Configuration Item Change':
      return e.source === 'aws.config' ? configChange(d) : undefined;
    case 'AWS API Call via CloudTrail':
      return apiCall(d);
    default:
      return undefined;
  }
}

function ecsDeployment(d: Record<string, unknown>): Classified {
  const name = str(d.eventName);
  const state = name.replace(/^SERVICE_DEPLOYMENT_/, '') || '?';
  const reason = str(d.reason);
  const why = reason && (str(d.eventType) !== 'INFO' || /rolling back/i.test(reason));
  return {
    kind: 'deploy',
    source: 'ecs',
    summary: `ECS deployment ${str(d.deploymentId) || '?'} ${state}${why ? `: ${reason}` : ''}`,
    names: [],
  };
}

function codeDeployment(d: Record<string, unknown>): Classified {
  const app = str(d.application);
  const group = str(d.deploymentGroup);
  const state = str(d.state) || '?';
  return {
    kind: 'deploy',
    source: 'codedeploy',
    summary: `CodeDeploy deployment ${str(d.deploymentId) || '?'} ${state} (${app}/${group})`,
    names: [app, group].filter((n) => n !== ''),
  };
}

function configChange(d: Record<string, unknown>): Classified | undefined {
  const item = record(d.configurationItem) ?? record(d.configurationItemSummary);
  if (!item) return undefined;
  const type = str(item.resourceType);
  const id = str(item.resourceId);
  const change =
    str(record(d.configurationItemDiff)?.changeType) || str(item.configurationItemStatus) || '?';
  return {
    kind: 'config',
    source: 'config',
    summary: `Config ${type || 'resource'} ${id || str(item.resourceName) || '?'} ${change}`,
    names: [id, str(item.resourceName), str(item.ARN)].filter((n) => n !== ''),
  };
}

function apiCall(d: Record<string, unknown>): Classified | undefined {
  const name = str(d.eventName);
  const source = str(d.eventSource);
  if (!name || !source || d.readOnly === true || str(d.errorCode) !== '') return undefined;
  if (READ_ONLY_PREFIXES.some((p) => name.startsWith(p))) return undefined;
  if (isDataEvent(d)) return undefined;
  const resources = Array.isArray(d.resources) ? d.resources.map(record) : [];
  const deploy = DEPLOY_CALLS.some((c) => c.source === source && name.startsWith(c.name));
  const actor = str(record(d.userIdentity)?.arn) || str(record(d.userIdentity)?.invokedBy);
  return {
    kind: deploy ? 'deploy' : 'config',
    source: 'cloudtrail',
    summary: `CloudTrail ${source} ${name}`,
    ...(actor ? { actor } : {}),
    names: [
      ...resources.map((r) => str(r?.ARN)).filter((n) => n !== ''),
      ...strings(d.requestParameters, 4, []),
    ],
  };
}

function isDataEvent(d: Record<string, unknown>): boolean {
  if (d.eventCategory === 'Data' || d.managementEvent === false) return true;
  const resources = Array.isArray(d.resources) ? d.resources : [];
  return resources.some((r) => record(r)?.type === 'AWS::S3::Object');
}

/** The catalog service whose id appears in one of `names`: the longest; a tie is none. */
export function serviceNamed(
  services: readonly Service[],
  names: readonly string[],
): Service | undefined {
  const parts = names.flatMap(nameParts).map((n) => n.toLowerCase());
  let best: Service | undefined;
  let tied = false;
  for (const s of services) {
    if (!parts.some((p) => containsId(p, s.id))) continue;
    if (!best || s.id.length > best.id.length) {
      best = s;
      tied = false;
    } else if (s.id.length === best.id.length) {
      tied = true;
    }
  }
  return tied ? undefined : best;
}

/** An ARN's resource part without its type (`service/c/s` → c, s); any other name whole. */
export function nameParts(name: string): string[] {
  const arn = /^arn:[^:]*:([^:]*):[^:]*:[^:]*:(.+)$/.exec(name);
  if (!arn) return [name];
  const [, service, resource = ''] = arn;
  const parts = resource.split(/[/:]/).filter((p) => p !== '');
  return service === 's3' || parts.length < 2 ? parts : parts.slice(1);
}

function containsId(name: string, id: string): boolean {
  const isWord = (ch: string | undefined) => ch !== undefined && /[a-z0-9]/.test(ch);
  for (let at = name.indexOf(id); at >= 0; at = name.indexOf(id, at + 1)) {
    if (!isWord(name[at - 1]) && !isWord(name[at + id.length])) return true;
  }
  return false;
}

/**
 * The change one of our own executions made, or undefined: only a mutating or destructive
 * request that succeeded is a change. It is a deploy when its command takes a `version`
 * parameter, or is the declared rollback of a command that does (rolling a deploy back
 * ships code too); any other change (scale, restart, flush-cache) counts as config.
 * Sensitive parameters are shown as `[REDACTED]`; `at` is when the execution finished.
 */
export function changeFromRequest(
  r: ActionRequest,
  catalog: Pick<Catalog, 'commands'>,
): ChangeRecord | undefined {
  if (r.class === 'read-only' || r.state !== 'succeeded') return undefined;
  const command = catalog.commands.find((c) => c.id === r.command);
  const params = Object.entries(r.params)
    .map(([name, value]) => {
      const spec = command?.params.find((p) => p.name === name);
      return `${name}=${!spec || spec.sensitive ? REDACTED : String(value)}`;
    })
    .join(' ');
  const summary = `${r.command}${params ? ` ${params}` : ''} by ${r.requester} (${r.id})`;
  return {
    id: r.id,
    service: r.service,
    environment: r.environment,
    kind: isDeployCommand(catalog.commands, r.command) ? 'deploy' : 'config',
    source: 'countersign',
    summary: cut(redact(summary, [])),
    actor: r.requester,
    at: r.execution?.finishedAt ?? r.updatedAt,
    ref: r.id,
  };
}

/** Whether running `id` deploys: it takes a `version`, or rolls back a command that does. */
export function isDeployCommand(commands: readonly Command[], id: string): boolean {
  const takesVersion = (c: Command) => c.params.some((p) => p.name === 'version');
  return commands.some(
    (c) =>
      takesVersion(c) &&
      (c.id === id ||
        (c.rollback !== undefined && 'command' in c.rollback && c.rollback.command === id)),
  );
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const record = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;

/** Every string in a JSON value, to `depth` levels, at most `MAX_NAMES`. */
function strings(v: unknown, depth: number, out: string[]): string[] {
  if (out.length >= MAX_NAMES) return out;
  if (typeof v === 'string') out.push(v);
  else if (depth > 0 && v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) strings(x, depth - 1, out);
  }
  return out;
}

const cut = (s: string) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length <= SUMMARY_MAX ? flat : `${flat.slice(0, SUMMARY_MAX - 1)}…`;
};
