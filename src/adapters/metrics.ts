/** Prometheus metrics: process defaults plus the control plane's own gauges. */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ResponseMetrics } from '../app/incident-ports.ts';
import type { IngestMetrics } from '../app/ingest-ports.ts';
import type { Store } from '../app/ports.ts';

export function createMetrics(store: Store): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'countersign_' });
  new Gauge({
    name: 'countersign_outbox_depth',
    help: 'Effects waiting in the outbox (executions and notifications not yet carried out).',
    registers: [registry],
    async collect() {
      this.set(await store.countOutbox());
    },
  });
  new Gauge({
    name: 'countersign_requests_pending',
    help: 'Requests waiting for sign-offs.',
    registers: [registry],
    async collect() {
      this.set((await store.listRequests({ states: ['pending'], limit: 500 })).length);
    },
  });
  new Gauge({
    name: 'countersign_requests_unknown',
    help: 'Executions whose outcome is unknown and must be settled by a person.',
    registers: [registry],
    async collect() {
      this.set((await store.listRequests({ states: ['unknown'], limit: 500 })).length);
    },
  });
  return registry;
}

/** Ingestion counters, registered on `registry`. */
export function ingestMetrics(registry: Registry): IngestMetrics {
  const events = new Counter({
    name: 'countersign_ingest_events_total',
    help: 'Ingested events by source and outcome (accepted, duplicate).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'countersign_ingest_rejected_total',
    help: 'Ingest requests refused, by source and error code.',
    labelNames: ['source', 'code'] as const,
    registers: [registry],
  });
  const unrouted = new Counter({
    name: 'countersign_ingest_unrouted_total',
    help: 'Events no catalog route took (they went to the default route).',
    registers: [registry],
  });
  const toChat = new Histogram({
    name: 'countersign_alert_to_chat_seconds',
    help: 'From the alert change being applied to its message being handed to chat.',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  return {
    accepted: (source, n) => events.inc({ source, outcome: 'accepted' }, n),
    duplicates: (source, n) => events.inc({ source, outcome: 'duplicate' }, n),
    rejected: (source, code) => rejected.inc({ source, code }),
    unrouted: (n) => unrouted.inc(n),
    toChat: (s) => toChat.observe(s),
  };
}

/**
 * Incident-response metrics. The app calls these after the change they count has
 * committed (never inside a transaction that may roll back), in the process that made it,
 * so series from several replicas add up. Durations are in seconds.
 */

const MINUTES = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400];
const RUNTIME = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900];

/** Incident-response counters and histograms, registered on `registry`. */
export function responseMetrics(registry: Registry): ResponseMetrics {
  const opened = new Counter({
    name: 'countersign_incidents_opened_total',
    help: 'Incidents opened, by origin (alert, declared).',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  const preapproved = new Counter({
    name: 'countersign_preapproved_runs_total',
    help: 'First mitigations run under a catalog rule without a person approving, by rule.',
    labelNames: ['rule'] as const,
    registers: [registry],
  });
  const steps = new Counter({
    name: 'countersign_runbook_steps_total',
    help: 'Runbook steps ended, by runbook and how they ended (done, skipped, failed, timed-out).',
    labelNames: ['runbook', 'status'] as const,
    registers: [registry],
  });
  const toAction = new Histogram({
    name: 'countersign_alert_to_action_seconds',
    help: 'From an alert opening an incident to the first action taken on it, by route.',
    labelNames: ['route'] as const,
    buckets: MINUTES,
    registers: [registry],
  });
  const toApproval = new Histogram({
    name: 'countersign_request_to_approval_seconds',
    help: 'From a request being made to its last required sign-off, by command.',
    labelNames: ['command'] as const,
    buckets: MINUTES,
    registers: [registry],
  });
  const toResult = new Histogram({
    name: 'countersign_approval_to_result_seconds',
    help: 'From approval to the execution result, by command and outcome.',
    labelNames: ['command', 'outcome'] as const,
    buckets: RUNTIME,
    registers: [registry],
  });
  const seconds = (s: number) => Math.max(0, s);
  return {
    incidentOpened: (origin) => opened.inc({ origin }),
    preapprovedRun: (rule) => preapproved.inc({ rule }),
    runbookStep: (runbook, status) => steps.inc({ runbook, status }),
    alertToAction: (route, s) => toAction.observe({ route }, seconds(s)),
    requestToApproval: (command, s) => toApproval.observe({ command }, seconds(s)),
    approvalToResult: (command, outcome, s) => toResult.observe({ command, outcome }, seconds(s)),
  };
}
