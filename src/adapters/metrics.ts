/** Prometheus metrics: process defaults plus the control plane's own gauges. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
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
