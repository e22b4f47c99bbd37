/**
 * `/ops help` and `/ops help <command>`. Lists only the commands it is given: the caller
 * filters them by the asker's grants. Usage lines sit in code so they can be copied as they
 * are; descriptions and parameter notes come from the catalog and are escaped all the same.
 */
import type { KnownBlock, SectionBlock } from '@slack/types';
import type { Command, ParamSpec } from '../../domain/catalog.ts';
import { helpLine, usageFor } from '../../domain/params.ts';
import { contextBlock, headerBlock, LIMITS, mrkdwnText, plainText } from './block-text.ts';
import type { Message } from './request-blocks.ts';
import {
  codeBlock,
  escapeMrkdwn,
  inlineCode,
  mrkdwnWithin,
  plainWithin,
  truncate,
} from './safe-text.ts';

const BUILT_INS: [usage: string, what: string][] = [
  ['/ops help [command]', 'this list, or one command’s usage and parameters'],
  ['/ops approve <request-id>', 'sign off a request (you cannot approve your own)'],
  ['/ops deny <request-id> reason="…"', 'deny a pending request, saying why'],
  ['/ops cancel <request-id>', 'cancel your own pending request'],
];

const CLASS_MEANING: Record<Command['class'], string> = {
  'read-only': 'runs at once',
  mutating: 'needs a ticket, incident or pr link and approval by policy',
  destructive: 'needs a link, approval by policy and the target typed out by each approver',
};

/** Sections of at most `LIMITS.sectionText` (and at most `maxSections`), entries kept whole. */
function packed(entries: string[], maxSections: number): { blocks: SectionBlock[]; left: number } {
  const texts: string[] = [];
  let used = 0;
  for (const entry of entries) {
    const last = texts.at(-1);
    if (last !== undefined && last.length + entry.length + 1 <= LIMITS.sectionText) {
      texts[texts.length - 1] = `${last}\n${entry}`;
    } else if (texts.length < maxSections) {
      texts.push(truncate(entry, LIMITS.sectionText));
    } else break;
    used++;
  }
  const blocks = texts.map((t): SectionBlock => ({ type: 'section', text: mrkdwnText(t) }));
  return { blocks, left: entries.length - used };
}

function commandEntry(c: Command): string {
  const what = mrkdwnWithin(c.description, 300);
  const id = mrkdwnWithin(c.id, 80);
  return `*${id}* (${escapeMrkdwn(c.class)}) — ${what}\n${inlineCode(usageFor(c), 1200)}`;
}

function builtInsSection(): SectionBlock {
  const lines = BUILT_INS.map(([usage, what]) => `${inlineCode(usage)} — ${what}`);
  return { type: 'section', text: mrkdwnText(['*Built in*', ...lines].join('\n')) };
}

function listReply(commands: Command[]): Message {
  const blocks: KnownBlock[] = [headerBlock('Commands you may run')];
  if (commands.length === 0) {
    blocks.push(contextBlock(plainText('No catalog command is open to you here.')));
  } else {
    const { blocks: sections, left } = packed(commands.map(commandEntry), 40);
    blocks.push(...sections);
    if (left > 0) {
      blocks.push(
        contextBlock(mrkdwnText(`and ${left} more; try ${inlineCode('/ops help <command>')}`)),
      );
    }
  }
  blocks.push({ type: 'divider' }, builtInsSection());
  const names = commands.map((c) => c.id).join(', ') || 'none';
  return { text: escapeMrkdwn(truncate(`Commands you may run: ${names}`, 500)), blocks };
}

function paramLine(spec: ParamSpec): string {
  const facts = [spec.type, spec.required ? 'required' : 'optional'];
  if (spec.values?.length) facts.push(`one of ${spec.values.join(', ')}`);
  if (spec.min !== undefined || spec.max !== undefined) {
    facts.push(`from ${spec.min ?? '…'} to ${spec.max ?? '…'}`);
  }
  if (spec.pattern !== undefined) facts.push(`matching ${spec.pattern}`);
  if (spec.maxLength !== undefined) facts.push(`at most ${spec.maxLength} characters`);
  if (spec.sensitive) facts.push('sensitive: masked everywhere');
  const description = spec.description ? ` — ${spec.description}` : '';
  return `${spec.name} (${facts.join('; ')})${description}`;
}

function rollbackText(c: Command): string {
  if (!c.rollback) return c.class === 'read-only' ? 'not needed' : 'none declared';
  if ('command' in c.rollback) return `${inlineCode(c.rollback.command, 200)} command`;
  return `none: ${mrkdwnWithin(c.rollback.none, 500)}`;
}

function commandReply(c: Command): Message {
  const params = c.params.length > 0 ? c.params.map(paramLine).join('\n') : 'none';
  const paramsField = plainWithin(params, LIMITS.fieldText);
  const field = (label: string, safe: string) =>
    mrkdwnText(`*${label}*\n${truncate(safe, LIMITS.fieldText - 40)}`);
  const blocks: KnownBlock[] = [
    headerBlock(`/ops ${c.id}`),
    { type: 'section', text: plainText(plainWithin(c.description, LIMITS.sectionText)) },
    { type: 'section', text: mrkdwnText(`*Usage*\n${codeBlock(usageFor(c), 2900)}`) },
    {
      type: 'section',
      text: mrkdwnText('*Parameters*'),
      fields: [plainText(paramsField)],
    },
    {
      type: 'section',
      fields: [
        field('Class', `${escapeMrkdwn(c.class)}: ${CLASS_MEANING[c.class] ?? ''}`),
        field('Rollback', rollbackText(c)),
        field('Timeout', `${c.timeoutSeconds} s`),
        field('Results go to', c.output === 'requester' ? 'you only' : 'the channel'),
      ],
    },
  ];
  return { text: escapeMrkdwn(truncate(helpLine(c), 500)), blocks };
}

/** The help reply: every given command with its usage, or one command in full. */
export function helpReply(commands: Command[], forCommand?: Command): Message {
  return forCommand ? commandReply(forCommand) : listReply(commands);
}
