/**
 * The persisted shapes of an action request and what hangs off it. Pure data: the
 * transitions live in `request-lifecycle.ts`, the rules in `policy.ts`.
 */
import type { ApprovalKind, CommandClass } from './catalog.ts';

/** Where a person acted from. */
export type Surface = 'slack' | 'api' | 'cli' | 'console' | 'system';

export type ParamValue = string | number | boolean;

export interface Links {
  ticket?: string;
  incident?: string;
  pr?: string;
}

export type RequestState =
  | 'pending'
  | 'approved'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'unknown'
  | 'denied'
  | 'expired'
  | 'cancelled';

export const TERMINAL_STATES: readonly RequestState[] = [
  'succeeded',
  'failed',
  'unknown',
  'denied',
  'expired',
  'cancelled',
];

/** One kind of sign-off the request needs, fixed when the request is made. */
export interface SignOffRequirement {
  kind: ApprovalKind;
  /** Distinct people needed. */
  count: number;
  /** Any of these roles qualifies (and the person must hold an approve grant). */
  roles: string[];
  /** Why it is needed, for people: "policy prod-deploys", "outside window business-hours". */
  because: string;
}

export interface SignOff {
  kind: ApprovalKind;
  by: string;
  surface: Surface;
  /** Milliseconds since epoch. */
  at: number;
  /** The request digest the person saw; only sign-offs of the current digest count. */
  digest: string;
}

export interface ExecutionRecord {
  /** 1 for the first run; grows only when an idempotent command is re-run after a crash. */
  attempt: number;
  /** Milliseconds since epoch. */
  startedAt: number;
  finishedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'unknown';
  /** Captured output, redacted and cut to the size bound. */
  output?: string;
  error?: string;
  /** Who settled an unknown outcome, and why. */
  settledBy?: string;
  settleNote?: string;
}

export interface Preview {
  /** Lines such as "replicas 4 → 8". */
  changes: string[];
  /** Set when the preview handler failed; approvers see it. */
  error?: string;
}

/**
 * A request made by Countersign on someone's behalf: a runbook run's command step (policy
 * applies as anywhere), or a first mitigation a catalog rule pre-approved (requester
 * `rule:<id>`, approved by the rule, audited with its digest and owner).
 */
export type RequestOrigin =
  | { kind: 'runbook'; run: string; step: string }
  | { kind: 'mitigation'; rule: string; ruleDigest: string; team: string; incident: string };

export interface ActionRequest {
  /** "REQ-" followed by a sortable id. */
  id: string;
  command: string;
  service: string;
  environment: string;
  class: CommandClass;
  params: Record<string, ParamValue>;
  links: Links;
  reason?: string;
  requester: string;
  surface: Surface;
  /** Slack channel (or `dm`) the request came from, when it came from chat. */
  channel?: string;
  /** Hex SHA-256 of the canonical request; see `canonicalRequest`. */
  digest: string;
  state: RequestState;
  requirements: SignOffRequirement[];
  signOffs: SignOff[];
  breakGlass?: { reason: string };
  /** Why the request exists beyond a person asking; see `RequestOrigin`. */
  origin?: RequestOrigin;
  preview?: Preview;
  execution?: ExecutionRecord;
  /** Who denied or cancelled it, and the stated reason. */
  decidedBy?: string;
  decisionReason?: string;
  /** Milliseconds since epoch. */
  createdAt: number;
  updatedAt: number;
  /** After this (ms since epoch) a pending request expires. */
  expiresAt: number;
  /** Optimistic-concurrency counter; every committed change adds one. */
  version: number;
}
