/**
 * The Notifier for Slack. For each notification about a request it renders the stored
 * request (chat is a view) and:
 *
 * - keeps one approval prompt in the service's approvals channel, posted once and then
 *   updated in place (`chat.update`, coalesced by the channel queue);
 * - once the request has an outcome, posts the result once: in the prompt's thread when the
 *   command's `output` is `channel`, else privately to the requester with a one-line note in
 *   the thread;
 * - posts a loud event (break-glass, unknown outcome) once to the service's ops channel.
 *
 * A pre-approved first mitigation gets no prompt: its incident shows it (header and thread).
 *
 * Nothing is posted twice (see `postOnce`). Any failure throws, so the outbox dispatcher
 * gives the notification back and retries it with backoff.
 */
import type { Log } from '../../app/context.ts';
import type { CatalogSource, ChatMessageKind, Clock, Notifier, Store } from '../../app/ports.ts';
import type { Catalog, Command } from '../../domain/catalog.ts';
import { eligibleSignOffs } from '../../domain/policy.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import type { ChannelQueue, SlackMessage } from './channel-queue.ts';
import { approvalPrompt, type PromptInput, resultReply } from './request-blocks.ts';
import { escapeMrkdwn, truncate } from './safe-text.ts';
import { slackPoster, spotOf } from './slack-poster.ts';

export interface SlackNotifierDeps {
  store: Store;
  catalog: CatalogSource;
  queue: ChannelQueue;
  clock: Clock;
  log: Log;
  /** Base URL of the web console, for links in messages. No links when unset. */
  consoleUrl?: string;
  /**
   * How long a claimed message without a recorded ts is taken to be another worker's post
   * in progress, in ms; after that, a claim whose message is not found is posted again.
   * Default 60 000.
   */
  postingGraceMs?: number;
}

/** Metadata event types on our messages, so a crashed post can be found again. */
export const EVENT_TYPES = {
  prompt: 'countersign_request',
  result: 'countersign_result',
  alert: 'countersign_alert',
} as const;

const OUTCOMES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'unknown']);
const ALERTS: Readonly<Record<string, ChatMessageKind>> = {
  'break-glass': 'alert-break-glass',
  unknown: 'alert-unknown',
};
export const PRIVATE_RESULT_NOTE = 'Result sent privately to the requester.';

/** What one notification works from: the stored request and the catalog in force. */
interface Subject {
  request: ActionRequest;
  command: Command | undefined;
  approvals: string;
  ops: string | undefined;
  input: PromptInput;
}

export function slackNotifier(deps: SlackNotifierDeps): Notifier {
  const { postOnce } = slackPoster(deps);
  const renders = new LastRenders();

  /** Posts the prompt, or updates it in place when its content changed. */
  async function showPrompt(s: Subject): Promise<{ channel: string; ts: string }> {
    const view = approvalPrompt(s.input);
    const existing = await deps.store.getChatMessage(s.request.id, 'prompt');
    if (existing) {
      await updatePrompt(existing, s.request, view);
      return existing;
    }
    const spot = spotOf(s.request.id, 'prompt', s.approvals, EVENT_TYPES.prompt);
    const sent = await postOnce(spot, { ...view, unfurl_links: false, unfurl_media: false });
    if (sent.fresh) renders.note(s.request.id, s.request.version, JSON.stringify(view));
    else await updatePrompt(sent, s.request, view);
    return sent;
  }

  /** Skips a render older than, or the same as, the last one sent for this prompt. */
  async function updatePrompt(
    at: { channel: string; ts: string },
    r: ActionRequest,
    view: SlackMessage,
  ): Promise<void> {
    const body = JSON.stringify(view);
    if (renders.covers(r.id, r.version, body)) return;
    renders.note(r.id, r.version, body);
    try {
      await deps.queue.update(at.channel, at.ts, view);
    } catch (err) {
      renders.forget(r.id, body);
      throw err;
    }
  }

  /** The outcome, once: in the thread, or privately to the requester with a note in the thread. */
  async function postResult(s: Subject, prompt: { channel: string; ts: string }): Promise<void> {
    const reply = resultReply(s.input);
    if (!reply) return;
    const id = s.request.id;
    const inThread = (kind: ChatMessageKind) => ({
      ...spotOf(id, kind, prompt.channel, EVENT_TYPES.result),
      threadTs: prompt.ts,
    });
    const message = { ...reply, thread_ts: prompt.ts, unfurl_links: false };
    if (s.command?.output !== 'requester') {
      await postOnce(inThread('result'), message);
      return;
    }
    const user = s.input.slackIdOf(s.request.requester);
    if (user) {
      const dm = { ...spotOf(id, 'result-dm', user, EVENT_TYPES.result), dmUser: user };
      await postOnce(dm, { ...reply, unfurl_links: false });
    } else {
      deps.log.warn(
        { request: id },
        'the requester has no Slack id; the result stays in the console',
      );
    }
    const note = user
      ? PRIVATE_RESULT_NOTE
      : 'The result is private to the requester; see the console.';
    await postOnce(inThread('result'), { text: note, thread_ts: prompt.ts });
  }

  async function postAlert(s: Subject, kind: ChatMessageKind, ops: string): Promise<void> {
    const spot = spotOf(s.request.id, kind, ops, EVENT_TYPES.alert, { alert: kind });
    await postOnce(spot, { text: alertText(s, kind), unfurl_links: false });
  }

  return {
    async notify(event) {
      if (!event.requestId) return;
      const s = await load(deps, event.requestId);
      if (!s) return;
      const alert = event.loud ? ALERTS[event.kind] : undefined;
      // A pre-approved first mitigation waits for nobody: its incident's header and thread
      // show it, so the approvals channel stays quiet (only a loud event reaches ops).
      if (s.request.origin?.kind === 'mitigation') {
        if (alert && s.ops) await postAlert(s, alert, s.ops);
        return;
      }
      const prompt = await showPrompt(s);
      if (OUTCOMES.has(s.request.state)) await postResult(s, prompt);
      if (alert && s.ops) await postAlert(s, alert, s.ops);
    },
  };
}

/** The request and what the views need; undefined when there is nothing to show in Slack. */
async function load(deps: SlackNotifierDeps, requestId: string): Promise<Subject | undefined> {
  const request = await deps.store.getRequest(requestId);
  if (!request || request.class === 'read-only') return undefined;
  const catalog = deps.catalog.current();
  const service = catalog.services.find((x) => x.id === request.service);
  const approvals = service?.channels.approvals;
  if (!approvals) {
    deps.log.warn(
      { request: requestId, service: request.service },
      'no approvals channel configured for the service; nothing posted to Slack',
    );
    return undefined;
  }
  const command = catalog.commands.find((c) => c.id === request.command);
  return {
    request,
    command,
    approvals,
    ops: service.channels.ops,
    input: promptInput(catalog, request, command, deps),
  };
}

function promptInput(
  catalog: Catalog,
  request: ActionRequest,
  command: Command | undefined,
  deps: SlackNotifierDeps,
): PromptInput {
  const person = (id: string) => catalog.people.find((p) => p.id === id);
  return {
    request,
    command,
    eligible: eligibleSignOffs(catalog, request),
    names: (id) => person(id)?.name ?? id,
    slackIdOf: (id) => person(id)?.slack,
    consoleUrl: deps.consoleUrl,
    now: deps.clock.now(),
  };
}

/** One short mrkdwn line for the ops channel. */
function alertText(s: Subject, kind: ChatMessageKind): string {
  const r = s.request;
  const who = escapeMrkdwn(s.input.names(r.requester));
  const what = `\`${r.command}\` on ${r.service} ${r.environment} (${r.id})`;
  if (kind === 'alert-break-glass') {
    const why = escapeMrkdwn(truncate(r.breakGlass?.reason ?? '', 300));
    return `:rotating_light: Break-glass: ${who} ran ${what} without approval. Reason: ${why}`;
  }
  return `:warning: The outcome of ${what}, requested by ${who}, is unknown. Someone with the administer grant must settle it.`;
}

/**
 * The last prompt content sent per request, with the request version it showed, so an
 * older render arriving late never overwrites a newer one and an unchanged one is not sent.
 * Holds at most `max` requests, forgetting the oldest.
 */
class LastRenders {
  private readonly last = new Map<string, { version: number; body: string }>();

  constructor(private readonly max = 5000) {}

  covers(id: string, version: number, body: string): boolean {
    const seen = this.last.get(id);
    return !!seen && (seen.version > version || (seen.version === version && seen.body === body));
  }

  note(id: string, version: number, body: string): void {
    this.last.delete(id);
    this.last.set(id, { version, body });
    if (this.last.size > this.max) this.last.delete(this.last.keys().next().value as string);
  }

  forget(id: string, body: string): void {
    if (this.last.get(id)?.body === body) this.last.delete(id);
  }
}
