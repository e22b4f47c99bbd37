/**
 * Alert messages in Slack: each alert group and each channel digest is one message,
 * posted once (see `slack-poster.ts`) and then updated in place through the channel queue,
 * which folds successive updates of one message into the newest.
 */

import type { KnownBlock } from '@slack/types';
import type { AlertChat } from '../../app/ingest-ports.ts';
import type { ChatMessageKind } from '../../app/ports.ts';
import { alertGroupMessage, digestMessage } from './alert-blocks.ts';
import type { ChannelQueue } from './channel-queue.ts';
import { type SlackPosterDeps, slackPoster, spotOf } from './slack-poster.ts';

/** Metadata event types on alert messages, so a crashed post can be found again. */
export const ALERT_EVENT_TYPES = {
  group: 'countersign_alert_group',
  digest: 'countersign_alert_digest',
} as const;

export function slackAlertChat(deps: SlackPosterDeps & { queue: ChannelQueue }): AlertChat {
  // Claims commit without waiting for the disk: see `IngestStore.claimChatMessage`.
  const { postOnce } = slackPoster({ ...deps, claims: deps.store.ingest });

  async function show(
    id: string,
    kind: ChatMessageKind,
    eventType: string,
    channel: string,
    message: { text: string; blocks: KnownBlock[] },
  ): Promise<void> {
    const existing = await deps.store.getChatMessage(id, kind);
    if (existing) {
      await deps.queue.update(existing.channel, existing.ts, message);
      return;
    }
    const posted = await postOnce(spotOf(id, kind, channel, eventType), {
      ...message,
      unfurl_links: false,
      unfurl_media: false,
    });
    if (!posted.fresh) await deps.queue.update(posted.channel, posted.ts, message);
  }

  return {
    async showGroup(id, view) {
      const message = alertGroupMessage(view, { now: deps.clock.now() });
      await show(id, 'alert-group', ALERT_EVENT_TYPES.group, view.channel, message);
    },
    async showDigest(id, view) {
      const message = digestMessage(view, { now: deps.clock.now() });
      await show(id, 'alert-digest', ALERT_EVENT_TYPES.digest, view.channel, message);
    },
  };
}
