/**
 * The one shape every ingested event takes: the EventBridge envelope. EventBridge sends it
 * as is; SNS, Alertmanager and generic JSON are normalised into it, so routes are written
 * once, in EventBridge pattern syntax, whatever the source.
 */

export interface EventEnvelope {
  version: string;
  /** Unique per event at its source; with `source` it is the deduplication key. */
  id: string;
  'detail-type': string;
  source: string;
  /** 12-digit AWS account, or "" when the source has none. */
  account: string;
  /** ISO-8601 UTC. */
  time: string;
  /** AWS region, or "" when the source has none. */
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** Present when EventBridge replays an archive: not a new occurrence. */
  'replay-name'?: string;
}

/** Where an event came in. */
export type IngestSource = 'eventbridge' | 'sns' | 'alertmanager' | 'generic';

/** Countersign's own `source` values for events normalised from non-AWS senders. */
export const SOURCES = {
  alertmanager: 'countersign.alertmanager',
  generic: 'countersign.generic',
  snsText: 'countersign.sns',
} as const;
