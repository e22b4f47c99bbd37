/** Prometheus metrics: process defaults plus the control plane's own gauges. */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
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
