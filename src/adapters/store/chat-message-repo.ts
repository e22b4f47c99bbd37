/**
 * Where each request's chat messages live. A poster claims a (request, kind) row before it
 * posts, then records Slack's ts; the claim is `INSERT … ON CONFLICT DO NOTHING`, so of
 * several concurrent claims exactly one sees its row inserted and gets `new`. Rows are never
 * deleted.
 */
import type { Kysely } from 'kysely';
import type { ChatMessageClaim, ChatMessageKind } from '../../app/ports.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

export async function claimChatMessage(
  db: Db,
  requestId: string,
  kind: ChatMessageKind,
  channel: string,
  now: number,
): Promise<ChatMessageClaim> {
  const inserted = await db
    .insertInto('chat_messages')
    .values({ request_id: requestId, kind, channel, ts: null, created_at: now })
    .onConflict((oc) => oc.columns(['request_id', 'kind']).doNothing())
    .returning('request_id')
    .executeTakeFirst();
  if (inserted) return { state: 'new' };
  const row = await db
    .selectFrom('chat_messages')
    .select(['channel', 'ts', 'created_at'])
    .where('request_id', '=', requestId)
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  if (row.ts === null) return { state: 'posting', since: Number(row.created_at) };
  return { state: 'posted', channel: row.channel, ts: row.ts };
}

/** Sets the ts of a claimed message; throws when there is no claim to record it on. */
export async function recordChatMessage(
  db: Db,
  requestId: string,
  kind: ChatMessageKind,
  ts: string,
): Promise<void> {
  const result = await db
    .updateTable('chat_messages')
    .set({ ts })
    .where('request_id', '=', requestId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new Error(`no ${kind} chat message was claimed for ${requestId}`);
  }
}

export async function getChatMessage(
  db: Db,
  requestId: string,
  kind: ChatMessageKind,
): Promise<{ channel: string; ts: string } | undefined> {
  const row = await db
    .selectFrom('chat_messages')
    .select(['channel', 'ts'])
    .where('request_id', '=', requestId)
    .where('kind', '=', kind)
    .where('ts', 'is not', null)
    .executeTakeFirst();
  return row?.ts ? { channel: row.channel, ts: row.ts } : undefined;
}
