/**
 * Where machines report: `/hooks/eventbridge` (API destinations), `/hooks/sns` (SNS HTTPS
 * subscriptions), `/hooks/alertmanager` (webhook v4) and `/hooks/generic`. Each body is
 * checked, normalised to EventBridge envelopes and stored before the 2xx (the pipeline's
 * journal resolves only once the events are committed). A bad input gets a 4xx problem,
 * is logged and counted, and changes nothing; a store failure gets a 5xx so the sender
 * retries.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Log } from '../../app/context.ts';
import type { IngestMetrics, NewEvent } from '../../app/ingest-ports.ts';
import type { CatalogSource, Clock, Sha256 } from '../../app/ports.ts';
import { DomainError, isDomainError } from '../../domain/errors.ts';
import type { EventEnvelope, IngestSource } from '../../domain/event-envelope.ts';
import { alertmanagerToEnvelopes } from '../../domain/ingest/alertmanager-event.ts';
import { parseEventBridgeEvent } from '../../domain/ingest/eventbridge-event.ts';
import { genericToEnvelope } from '../../domain/ingest/generic-event.ts';
import { snsToEnvelope } from '../../domain/ingest/sns-event.ts';
import {
  type CertificateCache,
  CertificateUnavailableError,
  confirmSubscription,
  type SnsHttpsOptions,
  verifySnsDelivery,
} from '../ingest/sns-verify.ts';
import { problemOf, sendProblem, toProblem } from './problem.ts';

export interface HookDeps {
  accept(events: readonly NewEvent[]): Promise<{ accepted: number; duplicates: number }>;
  catalog: CatalogSource;
  clock: Clock;
  sha256: Sha256;
  log: Log;
  metrics?: IngestMetrics;
  /** The secret API destinations and Alertmanager send; hooks other than SNS refuse all without it. */
  ingestToken?: { reveal(): string };
  certs: Pick<CertificateCache, 'get'>;
  /** TLS/DNS options for visiting SubscribeURLs (tests point them at a local server). */
  snsHttps?: SnsHttpsOptions;
}

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;
/** SNS posts its JSON as text/plain; some proxies relabel it. */
const SNS_TYPE = /^(?:text\/plain|application\/json)\s*(?:;|$)/i;

export function hookRoutes(deps: HookDeps) {
  return async function hooks(app: FastifyInstance): Promise<void> {
    // SNS sends JSON labelled text/plain: parse it as JSON here, in this plugin only.
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new DomainError('INVALID_INPUT', 'The body is not valid JSON.'), undefined);
      }
    });
    app.setErrorHandler((err, req, reply) => refuse(req, reply, err));

    const tokenHash = deps.ingestToken ? digest(deps.ingestToken.reveal()) : undefined;
    const authenticated = async (req: FastifyRequest) => {
      if (!tokenHash) {
        throw new DomainError(
          'UNAUTHENTICATED',
          'Ingest is disabled: COUNTERSIGN_INGEST_TOKEN is not set on the server.',
        );
      }
      const given = presentedToken(req);
      if (given === undefined) {
        throw new DomainError(
          'UNAUTHENTICATED',
          'Send the ingest token as Authorization: Bearer <token>, Basic auth (as the password) or x-api-key.',
        );
      }
      if (!timingSafeEqual(digest(given), tokenHash)) {
        throw new DomainError('UNAUTHENTICATED', 'The ingest token is not valid.');
      }
    };
    const jsonOnly = (types: RegExp) => async (req: FastifyRequest) => {
      const type = req.headers['content-type'] ?? '';
      if (!types.test(type)) {
        throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
      }
    };

    const json = jsonOnly(JSON_TYPE);
    const opts = (source: IngestSource) => ({
      onRequest: source === 'sns' ? [jsonOnly(SNS_TYPE)] : [authenticated, json],
      config: { source },
    });

    app.post('/hooks/eventbridge', opts('eventbridge'), async (req, reply) => {
      const e = parseEventBridgeEvent(req.body);
      return store(reply, 'eventbridge', [[`eventbridge:${e.source}:${e.id}`, e]]);
    });

    app.post('/hooks/alertmanager', opts('alertmanager'), async (req, reply) => {
      const events = alertmanagerToEnvelopes(req.body, deps.sha256);
      return store(
        reply,
        'alertmanager',
        events.map((e) => [`alertmanager:${e.id}`, e]),
      );
    });

    app.post('/hooks/generic', opts('generic'), async (req, reply) => {
      const e = genericToEnvelope(req.body, { sha256: deps.sha256, receivedAt: deps.clock.now() });
      return store(reply, 'generic', [[`generic:${e.id}`, e]]);
    });

    app.post('/hooks/sns', opts('sns'), async (req, reply) => {
      const allowedTopics = deps.catalog.current().snsTopics.map((t) => t.arn);
      const msg = await verifySnsDelivery(req.body, req.headers, {
        certs: deps.certs,
        now: deps.clock.now(),
        allowedTopics,
      });
      if (msg.Type === 'SubscriptionConfirmation') {
        const confirmed = await confirmSubscription(msg.SubscribeURL, msg.TopicArn, deps.snsHttps);
        deps.log.info({ topic: msg.TopicArn, confirmed }, 'SNS subscription confirmation');
        if (!confirmed) {
          // Transient from our side: SNS resends the confirmation when we fail.
          const detail = 'Could not confirm the subscription with SNS; send it again.';
          return sendProblem(reply, problemOf('UPSTREAM_UNAVAILABLE', detail));
        }
        return reply.code(200).send({ confirmed: true });
      }
      if (msg.Type === 'UnsubscribeConfirmation') {
        deps.log.warn({ topic: msg.TopicArn }, 'SNS says this endpoint was unsubscribed');
        return reply.code(200).send({ unsubscribed: true });
      }
      const e = snsToEnvelope(msg);
      return store(reply, 'sns', [[`sns:${msg.MessageId}`, e]]);
    });
  };

  async function store(
    reply: FastifyReply,
    ingest: IngestSource,
    events: [string, EventEnvelope][],
  ) {
    const receivedAt = deps.clock.now();
    const result = await deps.accept(
      events.map(([key, envelope]) => ({ key, ingest, receivedAt, envelope })),
    );
    return reply.code(200).send(result);
  }

  function refuse(req: FastifyRequest, reply: FastifyReply, err: unknown) {
    const source = (req.routeOptions.config as { source?: string } | undefined)?.source ?? 'hooks';
    if (err instanceof CertificateUnavailableError) {
      deps.log.warn({ source, reason: err.message }, 'SNS signing certificate unavailable');
      deps.metrics?.rejected(source, 'CERTIFICATE_UNAVAILABLE');
      const detail = 'The SNS signing certificate could not be fetched; retry.';
      return sendProblem(reply, problemOf('UPSTREAM_UNAVAILABLE', detail));
    }
    const p = toProblem(err, req);
    const code = isDomainError(err) ? err.code : p.code;
    if (p.status >= 500) deps.log.error({ err, source }, 'ingest failed; the sender will retry');
    else deps.log.warn({ source, code, reason: p.detail }, 'ingest refused');
    deps.metrics?.rejected(source, String(code));
    return sendProblem(reply, p);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The token from `Authorization: Bearer`, Basic auth's password, or `x-api-key`. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const bearer = /^Bearer\s+(\S{1,1024})$/i.exec(auth);
    if (bearer) return bearer[1];
    const basic = /^Basic\s+([A-Za-z0-9+/=]{1,2048})$/i.exec(auth);
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? decoded.slice(colon + 1) : undefined;
    }
  }
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 && key.length <= 1024 ? key : undefined;
}
