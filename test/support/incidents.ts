/**
 * What the incident tests share: CloudWatch alarm state changes exactly as EventBridge
 * delivers them (from the published-format fixture), and an incident chat that records what
 * it was asked to show.
 */
import { readFileSync } from 'node:fs';
import type { IncidentChat } from '../../src/app/incident-ports.ts';
import type { EventEnvelope } from '../../src/domain/event-envelope.ts';
import type { IncidentHeaderView } from '../../src/domain/incident-model.ts';
import type { RunView } from '../../src/domain/runbook-model.ts';

export const PROD_ACCOUNT = '222222222222';
export const STAGING_ACCOUNT = '111111111111';

const FIXTURE = new URL('../fixtures/ingest/eventbridge-alarm-metric-5xx.json', import.meta.url);

/** A CloudWatch alarm of `name` entering `state` at `at` (ms), from `account`. */
export function alarmEvent(
  name: string,
  state: 'ALARM' | 'OK',
  at: number,
  account = PROD_ACCOUNT,
): EventEnvelope {
  const e = JSON.parse(readFileSync(FIXTURE, 'utf8')) as EventEnvelope;
  const detail = e.detail as Record<string, unknown>;
  const iso = new Date(at).toISOString();
  return {
    ...e,
    id: `${name}-${state}-${account}-${at}`,
    account,
    resources: [`arn:aws:cloudwatch:eu-west-1:${account}:alarm:${name}`],
    time: iso.replace('.000Z', 'Z'),
    detail: {
      ...detail,
      alarmName: name,
      state: { ...(detail.state as object), value: state, timestamp: iso },
    },
  };
}

/** An incident chat that records headers, thread lines and step cards, in order. */
export function recordingChat() {
  const headers: IncidentHeaderView[] = [];
  const posts: { incident: string; key: string; text: string }[] = [];
  const cards: RunView[] = [];
  const chat: IncidentChat = {
    async showIncident(view) {
      headers.push(structuredClone(view));
      return view.incident.channel ? { channel: view.incident.channel } : undefined;
    },
    async postToIncident(incident, key, text) {
      posts.push({ incident: incident.id, key, text });
    },
    async showRun(view) {
      cards.push(structuredClone(view));
    },
  };
  return { chat, headers, posts, cards };
}
