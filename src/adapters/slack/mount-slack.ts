/**
 * Slack as a whole: the receiver — on the shared Fastify server at `/slack/events`, or over
 * Socket Mode when an app-level token is given — the Bolt app with every listener, and the
 * notifier that keeps approval prompts in step with the store.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppDeps } from '../../app/context.ts';
import type { IncidentChat } from '../../app/incident-ports.ts';
import type { AlertChat } from '../../app/ingest-ports.ts';
import type { Notifier } from '../../app/ports.ts';
import { ChannelQueue, slackClient } from './channel-queue.ts';
import { createSlackApp, FastifyReceiver } from './fastify-receiver.ts';
import { registerSlackListeners } from './register-listeners.ts';
import { slackAlertChat } from './slack-alert-chat.ts';
import { slackIncidentChat } from './slack-incident-chat.ts';
import { slackNotifier } from './slack-notifier.ts';
import { SlackSocketModeReceiver, type SocketState } from './socket-mode-receiver.ts';

export interface SlackSettings {
  /** Verifies deliveries to `/slack/events`. Needed unless `appToken` is set (then unused). */
  signingSecret?: string;
  botToken: string;
  /** An app-level token (`xapp-…`): Slack runs over Socket Mode, and `/slack/events` is not mounted. */
  appToken?: string;
  /** Socket Mode's heartbeat, in ms, also its reconnect back-off unit. Default 5000 (tests shorten it). */
  socketPingMs?: number;
  apiUrl?: string;
  appId?: string;
  teamId?: string;
  consoleUrl?: string;
  bodyLimit: number;
  /** Least time between calls in one channel, in ms (Slack: about one message a second). */
  minIntervalMs?: number;
}

export interface MountedSlack {
  /** How Slack reaches us: `http` (`/slack/events`) or `socket` (Socket Mode). */
  transport: 'http' | 'socket';
  /**
   * Socket Mode: opens the connection and waits (boundedly) for Slack's `hello`; rejects when
   * Slack refuses the app token. HTTP: nothing to do. Call once, after mounting.
   */
  start(): Promise<void>;
  /** Socket Mode's connection state, for logs and health; undefined over HTTP. */
  socketState(): SocketState | undefined;
  notifier: Notifier;
  /** Alert groups and digests, shown in the routes' channels. */
  alertChat: AlertChat;
  /** Incident headers, their thread lines and runbook step cards; wire it as `deps.incidentChat`. */
  incidentChat: IncidentChat;
  /** Waits for work still running after Slack got its ack, then stops outbound calls. */
  stop(): Promise<void>;
}

export function mountSlack(
  http: FastifyInstance,
  deps: AppDeps,
  settings: SlackSettings,
  log: Logger,
  onVerificationFailure?: (reason: string) => void,
): MountedSlack {
  const receiver = slackReceiver(deps, settings, log, onVerificationFailure);
  const app = createSlackApp({
    botToken: settings.botToken,
    receiver,
    log,
    ...(settings.signingSecret ? { signingSecret: settings.signingSecret } : {}),
    ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
  });
  registerSlackListeners(app, deps, settings.consoleUrl ? { consoleUrl: settings.consoleUrl } : {});
  if (receiver instanceof FastifyReceiver) receiver.register(http);
  const socket = receiver instanceof SlackSocketModeReceiver ? receiver : undefined;
  const client = slackClient(settings.botToken, settings.apiUrl);
  const queue = new ChannelQueue(client, {
    log,
    ...(settings.minIntervalMs !== undefined ? { minIntervalMs: settings.minIntervalMs } : {}),
  });
  const notifier = slackNotifier({
    store: deps.store,
    catalog: deps.catalog,
    queue,
    clock: deps.clock,
    log,
    ...(settings.consoleUrl ? { consoleUrl: settings.consoleUrl } : {}),
  });
  const alertChat = slackAlertChat({ store: deps.store, queue, clock: deps.clock, log });
  const incidentChat = slackIncidentChat({
    store: deps.store,
    catalog: deps.catalog,
    queue,
    client,
    clock: deps.clock,
    log,
    ...(settings.consoleUrl ? { consoleUrl: settings.consoleUrl } : {}),
  });
  return {
    transport: socket ? 'socket' : 'http',
    start: () => receiver.start(),
    socketState: () => socket?.state,
    notifier,
    alertChat,
    incidentChat,
    async stop() {
      await receiver.stop();
      await queue.stop();
    },
  };
}

/** Socket Mode when an app token is given, else our receiver at `/slack/events`. */
function slackReceiver(
  deps: AppDeps,
  settings: SlackSettings,
  log: Logger,
  onVerificationFailure?: (reason: string) => void,
): FastifyReceiver | SlackSocketModeReceiver {
  const common = {
    clock: () => deps.clock.now(),
    store: deps.store,
    log,
    ...(settings.appId ? { appId: settings.appId } : {}),
    ...(settings.teamId ? { teamId: settings.teamId } : {}),
  };
  if (settings.appToken) {
    return new SlackSocketModeReceiver({
      ...common,
      appToken: settings.appToken,
      ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      ...(settings.socketPingMs !== undefined ? { pingTimeoutMs: settings.socketPingMs } : {}),
    });
  }
  if (!settings.signingSecret) throw new TypeError('mountSlack: set signingSecret or appToken');
  return new FastifyReceiver({
    ...common,
    signingSecret: settings.signingSecret,
    bodyLimit: settings.bodyLimit,
    ...(onVerificationFailure ? { onVerificationFailure } : {}),
  });
}

/** Sends every notification to each notifier; one failing fails the whole (to be retried). */
export function allNotifiers(...notifiers: Notifier[]): Notifier {
  return {
    async notify(event) {
      await Promise.all(notifiers.map((n) => n.notify(event)));
    },
  };
}
