/**
 * What both Slack receivers — HTTP at `/slack/events` (`fastify-receiver.ts`) and Socket Mode
 * (`socket-mode-receiver.ts`) — do with a delivery once it is authentic and parsed:
 *
 *  1. owner — with `appId` / `teamId` set, another app's or workspace's payload is refused;
 *  2. dedupe — `store.beginIdempotent('slack', key, bodyHash)`: a redelivery is not dispatched;
 *  3. dispatch — `app.processEvent`, reporting whichever comes first: the listener's ack (with
 *     its response), the ack deadline, the listener finishing without an ack, or it failing.
 *     The transport answers Slack on that; the work continues afterwards. A listener that
 *     fails before any answer has its delivery record dropped, so Slack's retry is handled.
 */
import { hash } from 'node:crypto';
import { type App, type ReceiverEvent, ReceiverMultipleAckError } from '@slack/bolt';
import type { Log } from '../../app/context.ts';
import type { Store } from '../../app/ports.ts';

/** The scope of Slack delivery records in the store's idempotency table. */
export const SLACK_DEDUPE_SCOPE = 'slack';

export type SlackBody = Record<string, unknown>;
/** Events API, interactivity (buttons, modals, shortcuts) or a slash command. */
export type DeliveryKind = 'event' | 'interaction' | 'command';

/** What happened first after dispatch: it decides the answer to Slack. */
export type FirstOutcome =
  | { kind: 'acked'; response: unknown }
  | { kind: 'timeout' }
  | { kind: 'done' }
  | { kind: 'failed'; error: unknown };
type Settled = { ok: true } | { ok: false; error: unknown };

/** The verdict on a delivery before dispatch. */
export type Admission =
  | { kind: 'new'; key: string | undefined }
  | { kind: 'foreign'; foreign: 'app' | 'team' }
  | { kind: 'redelivery'; key: string };

export interface SlackDeliveriesOptions {
  /** Where deliveries are recorded (scope `slack`), so a redelivery is not dispatched twice. */
  store: Pick<Store, 'beginIdempotent' | 'abandonIdempotent'>;
  /** Now, in milliseconds since epoch: delivery records are stamped with it. */
  clock: () => number;
  log: Log;
  /** When set, a payload whose `api_app_id` differs (or is missing) is refused. */
  appId?: string;
  /** When set, a payload from another workspace is refused; an `E…` id matches the enterprise. */
  teamId?: string;
  /** How long a listener has to call `ack()` before the transport answers empty, in ms. Default 2500. */
  ackTimeoutMs?: number;
}

export class SlackDeliveries {
  readonly #o: SlackDeliveriesOptions;
  readonly #inflight = new Set<Promise<void>>();

  constructor(options: SlackDeliveriesOptions) {
    this.#o = options;
  }

  /** The ack deadline, in ms. */
  get ackTimeoutMs(): number {
    return this.#o.ackTimeoutMs ?? 2_500;
  }

  /**
   * Checks the owner, then records the delivery durably. `bodyHash` is the hex SHA-256 of the
   * delivery as received; it is the key when the payload has no id of its own.
   */
  async admit(kind: DeliveryKind, body: SlackBody, bodyHash: string): Promise<Admission> {
    const foreign = foreignTo(body, this.#o.appId, this.#o.teamId);
    if (foreign) {
      this.#o.log.warn({ foreign }, 'slack delivery refused: another app or workspace');
      return { kind: 'foreign', foreign };
    }
    const key = deliveryKey(kind, body, bodyHash);
    if (key === undefined) return { kind: 'new', key };
    const { store, clock } = this.#o;
    const begun = await store.beginIdempotent(SLACK_DEDUPE_SCOPE, key, bodyHash, clock());
    if (begun.state === 'new') return { kind: 'new', key };
    this.#o.log.info({ key, state: begun.state }, 'slack redelivery not dispatched again');
    return { kind: 'redelivery', key };
  }

  /** Hands the delivery to Bolt; resolves with whatever happened first (see the header). */
  async dispatch(
    app: App,
    event: Omit<ReceiverEvent, 'ack'>,
    key: string | undefined,
  ): Promise<FirstOutcome> {
    let settleFirst: (f: FirstOutcome) => void = () => undefined;
    const first = new Promise<FirstOutcome>((r) => {
      settleFirst = r;
    });
    let acked = false;
    const ack = async (response?: unknown): Promise<void> => {
      if (acked) throw new ReceiverMultipleAckError();
      acked = true;
      settleFirst({ kind: 'acked', response });
    };
    const timer = setTimeout(() => settleFirst({ kind: 'timeout' }), this.ackTimeoutMs);
    const work: Promise<Settled> = app.processEvent({ ...event, ack }).then(
      (): Settled => ({ ok: true }),
      (error: unknown): Settled => ({ ok: false, error }),
    );
    void work.then((s) =>
      settleFirst(s.ok ? { kind: 'done' } : { kind: 'failed', error: s.error }),
    );
    const outcome = await first;
    clearTimeout(timer);
    this.#track(work.then((s) => this.#afterwards(s, outcome, key)));
    return outcome;
  }

  /** Waits, at most `timeoutMs`, for listeners still working after their answer. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.#inflight]), limit]);
    clearTimeout(timer);
  }

  /**
   * Once the listener is done: a failure before any answer forgets the delivery record, so
   * Slack's retry (or the person's next try) is handled. Otherwise the record stays as it
   * is: any record already means "seen", so marking it done would only cost a second
   * fsynced commit per delivery on the event loop.
   */
  async #afterwards(s: Settled, outcome: FirstOutcome, key: string | undefined): Promise<void> {
    if (!s.ok && outcome.kind !== 'failed') {
      this.#o.log.error({ err: s.error }, 'slack listener failed after its answer');
    }
    if (key === undefined || outcome.kind !== 'failed') return;
    await this.#o.store
      .abandonIdempotent(SLACK_DEDUPE_SCOPE, key)
      .catch((err: unknown) =>
        this.#o.log.error({ err, key }, 'slack delivery record not updated'),
      );
  }

  #track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.#o.log.error({ err }, 'slack after-work'));
    this.#inflight.add(tracked);
    void tracked.finally(() => this.#inflight.delete(tracked));
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const field = (v: unknown, name: string): unknown =>
  typeof v === 'object' && v !== null ? (v as SlackBody)[name] : undefined;

/** Why a payload is not ours (`app` or `team`), or undefined when it is (or nothing is set). */
export function foreignTo(
  body: SlackBody,
  appId?: string,
  teamId?: string,
): 'app' | 'team' | undefined {
  if (appId !== undefined && body.api_app_id !== appId) return 'app';
  if (teamId === undefined) return undefined;
  const ids = teamId.startsWith('E')
    ? [body.enterprise_id, field(body.enterprise, 'id')]
    : [body.team_id, field(body.team, 'id')];
  const present = ids.map(str).filter((id) => id !== undefined);
  return present.length > 0 && present.every((id) => id === teamId) ? undefined : 'team';
}

/**
 * The delivery's dedupe key: what Slack repeats when it delivers the same thing again, over
 * either transport. Events API: `event_id`. Slash command: `trigger_id`. Interactivity:
 * `type`, `trigger_id` and the first action's `action_ts` (or the view id). Anything without
 * those ids: the body hash, so a byte-for-byte replay is caught. Option lookups
 * (`*_suggestion`) are never deduplicated: each keystroke must be answered.
 */
export function deliveryKey(
  kind: DeliveryKind,
  body: SlackBody,
  bodyHash: string,
): string | undefined {
  const byBody = () => `body:${bodyHash}`;
  if (kind === 'event') return str(body.event_id) ? `event:${body.event_id}` : byBody();
  if (kind === 'command') return str(body.trigger_id) ? `command:${body.trigger_id}` : byBody();
  const type = String(body.type);
  if (type.endsWith('_suggestion')) return undefined;
  const trigger = str(body.trigger_id);
  if (!trigger) return byBody();
  const actions = body.actions;
  const second =
    str(field(Array.isArray(actions) ? actions[0] : undefined, 'action_ts')) ??
    str(field(body.view, 'id')) ??
    '';
  const key = `${type}:${trigger}:${second}`;
  return key.length <= 200 ? key : `${type}:${hash('sha256', key, 'hex')}`;
}
