/**
 * Slack as a whole: the receiver on the shared Fastify server, the Bolt app with every
 * listener, and the notifier that keeps approval prompts in step with the store.
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

export interface SlackSettings {
  signingSecret: string;
  botToken: string;
  apiUrl?: string;
  appId?: string;
  teamId?: string;
  consoleUrl?: string;
  bodyLimit: number;
  /** Least time between calls in one channel, in ms (Slack: about one message a second). */
  minIntervalMs?: number;
}

export interface MountedSlack {
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
  const receiver = new FastifyReceiver({
    signingSecret: settings.signingSecret,
    bodyLimit: settings.bodyLimit,
    clock: () => deps.clock.now(),
    store: deps.store,
    log,
    ...(settings.appId ? { appId: settings.appId } : {}),
    ...(settings.teamId ? { teamId: settings.teamId } : {}),
    ...(onVerificationFailure ? { onVerificationFailure } : {}),
  });
  const app = createSlackApp({
    signingSecret: settings.signingSecret,
    botToken: settings.botToken,
    receiver,
    log,
    ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
  });
  registerSlackListeners(app, deps, settings.consoleUrl ? { consoleUrl: settings.consoleUrl } : {});
  receiver.register(http);
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
    notifier,
    alertChat,
    incidentChat,
    async stop() {
      await receiver.stop();
      await queue.stop();
    },
  };
}

/** Sends every notification to each notifier; one failing fails the whole (to be retried). */
export function allNotifiers(...notifiers: Notifier[]): Notifier {
  return {
    async notify(event) {
      await Promise.all(notifiers.map((n) => n.notify(event)));
    },
  };
}
