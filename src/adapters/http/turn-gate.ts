/**
 * Lets the server's own work go before new requests. Under load the main thread's event
 * loop is the busiest part of the server: each request is a few milliseconds of work that
 * runs to completion once started (the SQLite driver is synchronous), so fifty waiting
 * requests put ~150 ms between a handler worker's result — an approved execution ending,
 * the next one waiting to be recorded and taken — and the moment this thread reads it.
 *
 * The gate starts at most `perTurn` requests per turn of the event loop, from the
 * `setImmediate` phase, so between every few requests the loop polls again: worker
 * results, outbox work and timers wait for at most `perTurn` requests, not for all of
 * them. Requests keep their order; each pays one turn of the loop (microseconds when idle).
 */
import type { FastifyInstance } from 'fastify';

export class TurnGate {
  private readonly queue: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly perTurn = 2) {}

  /** Resolves when the request may start. */
  enter(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.schedule();
    });
  }

  /** Requests waiting to start. */
  get waiting(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    for (let i = 0; i < this.perTurn; i++) this.queue.shift()?.();
    // Scheduled from the check phase, the next batch runs on the loop's next turn, after
    // its poll phase.
    if (this.queue.length > 0) this.schedule();
  }
}

/** Paths that start at once: health and metrics, and alert hooks (which group their commits). */
const UNGATED = ['/healthz', '/readyz', '/metrics', '/hooks/'];

/** Gates every request except `UNGATED` ones. */
export function gateRequests(app: FastifyInstance, gate = new TurnGate()): TurnGate {
  app.addHook('onRequest', async (req) => {
    if (UNGATED.some((p) => req.url.startsWith(p))) return;
    await gate.enter();
  });
  return gate;
}
