/**
 * Who is clicking: a Slack user id mapped through the catalog. An unknown person is refused
 * politely, and the attempt is audited under `unknown:slack:<user id>`.
 */
import type { Actor, AppDeps } from '../../app/context.ts';
import { refuse } from '../../app/refuse.ts';
import type { Catalog, Person } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';

export function personBySlackId(catalog: Catalog, userId: string): Person | undefined {
  return catalog.people.find((p) => p.slack === userId);
}

/** `dm` for direct messages (channel ids starting with D), else the channel id. */
export function channelScope(channelId: string | undefined): string | undefined {
  if (!channelId) return undefined;
  return channelId.startsWith('D') ? 'dm' : channelId;
}

export const UNKNOWN_PERSON_TEXT =
  "Sorry, I don't know you yet: your Slack account is not in Countersign's catalog. Ask an administrator to add your Slack id.";

/** The actor for a Slack user, or an audited UNKNOWN_PERSON refusal. */
export async function slackActor(
  deps: AppDeps,
  userId: string,
  channelId: string | undefined,
  attempted: string,
): Promise<Actor> {
  const person = personBySlackId(deps.catalog.current(), userId);
  if (!person) {
    await refuse(
      deps,
      { id: `unknown:slack:${userId.slice(0, 32)}`, surface: 'slack' },
      'slack.refused',
      attempted.slice(0, 200),
      new DomainError('UNKNOWN_PERSON', UNKNOWN_PERSON_TEXT),
    );
  }
  const channel = channelScope(channelId);
  return { person: person!, surface: 'slack', ...(channel ? { channel } : {}) };
}
