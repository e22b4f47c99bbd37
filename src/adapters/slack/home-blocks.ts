/**
 * App Home: what waits for the viewer's sign-off (with the same buttons as the prompt),
 * their own open requests, and open incidents. A pure view of stored state; at most 100
 * blocks, with "and N more" pointing at the console when a list is longer.
 */
import type { KnownBlock, View } from '@slack/types';
import type { Person } from '../../domain/catalog.ts';
import { missingSignOffs } from '../../domain/request-lifecycle.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import {
  contextBlock,
  headerBlock,
  LIMITS,
  mrkdwnText,
  type Names,
  plainText,
  recordUrl,
  stateLine,
} from './block-text.ts';
import { requestActions } from './request-blocks.ts';
import { link, mrkdwnWithin, plainWithin, truncate } from './safe-text.ts';

export interface HomeIncident {
  id: string;
  title: string;
  /** 1 is the most severe. */
  severity: number;
}

export interface HomeInput {
  person: Person;
  /** Pending requests the viewer may still sign off. */
  awaitingMe: ActionRequest[];
  /** The viewer's own open requests. */
  mine: ActionRequest[];
  openIncidents?: HomeIncident[];
  names: Names;
  /** Milliseconds since epoch. */
  now: number;
  /** Base URL of the web console, for "full record" links. */
  consoleUrl?: string;
}

/** Requests shown per list; each takes two blocks, which keeps the view under 100 blocks. */
const MAX_LISTED = 20;

function requestHeading(r: ActionRequest, input: HomeInput): string {
  const target = [r.command, r.service, r.environment].map((s) => mrkdwnWithin(s, 80)).join(' ');
  const id = mrkdwnWithin(r.id, 60);
  const record = input.consoleUrl === undefined ? id : link(recordUrl(input.consoleUrl, r.id), id);
  return `*${target}* · ${record}`;
}

function awaitingBlocks(r: ActionRequest, input: HomeInput): KnownBlock[] {
  const by = mrkdwnWithin(input.names(r.requester), 100);
  const missing = missingSignOffs(r)
    .map((m) => mrkdwnWithin(m, 300))
    .join('; ');
  const text = `${requestHeading(r, input)}\nrequested by ${by} · still needed: ${missing || 'nothing'}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: mrkdwnText(truncate(text, LIMITS.sectionText)) },
  ];
  const actions = requestActions(r);
  if (actions) blocks.push(actions);
  return blocks;
}

function mineBlocks(r: ActionRequest, input: HomeInput): KnownBlock[] {
  return [
    { type: 'section', text: mrkdwnText(truncate(requestHeading(r, input), LIMITS.sectionText)) },
    contextBlock(plainText(truncate(stateLine(r, input.names, input.now), LIMITS.contextText))),
  ];
}

function moreLine(hidden: number, input: HomeInput): KnownBlock[] {
  if (hidden <= 0) return [];
  const where =
    input.consoleUrl === undefined ? 'the console' : link(input.consoleUrl, 'the console');
  return [contextBlock(mrkdwnText(`and ${hidden} more — see ${where}`))];
}

function listSection(
  title: string,
  items: ActionRequest[],
  empty: string,
  render: (r: ActionRequest) => KnownBlock[],
  input: HomeInput,
): KnownBlock[] {
  const head = headerBlock(`${title} (${items.length})`);
  if (items.length === 0) return [head, contextBlock(plainText(empty))];
  const shown = items.slice(0, MAX_LISTED).flatMap(render);
  return [head, ...shown, ...moreLine(items.length - MAX_LISTED, input)];
}

function incidentBlocks(incidents: HomeIncident[]): KnownBlock[] {
  const head = headerBlock(`Open incidents (${incidents.length})`);
  if (incidents.length === 0) return [head, contextBlock(plainText('No open incidents.'))];
  const lines = incidents.map((i) => {
    const sev = Number.isFinite(i.severity) ? String(i.severity) : '?';
    return `• ${plainWithin(i.id, 60)} · sev ${sev} — ${plainWithin(i.title, 200)}`;
  });
  return [
    head,
    { type: 'section', text: plainText(truncate(lines.join('\n'), LIMITS.sectionText)) },
  ];
}

/** The viewer's Home tab (`type: 'home'`). */
export function homeView(input: HomeInput): View {
  const blocks: KnownBlock[] = [
    ...listSection(
      'Waiting for your sign-off',
      input.awaitingMe,
      'Nothing is waiting for your sign-off.',
      (r) => awaitingBlocks(r, input),
      input,
    ),
    { type: 'divider' },
    ...listSection(
      'Your open requests',
      input.mine,
      'You have no open requests.',
      (r) => mineBlocks(r, input),
      input,
    ),
    { type: 'divider' },
    ...incidentBlocks(input.openIncidents ?? []),
  ];
  return { type: 'home', blocks: blocks.slice(0, LIMITS.viewBlocks) };
}
