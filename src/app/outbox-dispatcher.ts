/**
 * Carries out outbox effects after their transaction committed: runs approved requests
 * and sends notifications, with leases so a crashed worker's effect is taken up again,
 * and retries with backoff for effects that fail. Also sweeps expired requests.
 *
 * Effects go in two lanes with their own slots: **work** (run a request, open an incident)
 * and **chat** (notifications, headers, step cards). Chat waits on Slack's per-channel
 * pace; it must never hold the slots an approved execution or a new incident needs.
 *
 * An execution holds its work slot only until it is taken (marked `running`, committed)
 * and handed to the executor; the run itself counts against `maxRunning`. A slot held for
 * a whole handler run made approved work wait for earlier runs to finish — under load
 * hundreds of milliseconds between the approval and the start. The lease is renewed until
 * the run is recorded, so no one else takes the effect meanwhile.
 */
import type { AppDeps } from './context.ts';
import { executeRequest, runTaken, type TakenExecution, takeExecution } from './execute-request.ts';
import { expireRequests } from './expire-requests.ts';
import type { OutboxEffect, OutboxKind } from './ports.ts';
import { followUpRequest, handleResponseEffect, sweepResponse } from './response-effects.ts';

interface Lane {
  kinds: readonly OutboxKind[];
  inFlight: Set<Promise<void>>;
}

const WORK: readonly OutboxKind[] = ['execute', 'open-incident'];
const CHAT: readonly OutboxKind[] = ['notify', 'show-incident', 'show-run'];

export interface DispatcherOptions {
  /** How long a claimed effect stays leased without renewal, in ms. Default 30 000. */
  leaseMs?: number;
  /** Poll interval when nobody wakes the dispatcher, in ms. Default 250. */
  pollMs?: number;
  /** Effects handled at once, per lane. Default 8. */
  concurrency?: number;
  /**
   * Executions running at once (taken and not yet returned by the executor; recording the
   * outcome does not count). Default the executor's `capacity`, else 32. Past it, approved
   * work waits in the outbox, not yet `running`.
   */
  maxRunning?: number;
  /** Expiry sweep interval, in ms. Default 1000. */
  sweepMs?: number;
}

export class OutboxDispatcher {
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly maxRunning: number;
  private readonly sweepMs: number;
  /** Executions handed to the executor and not yet recorded. */
  private readonly runs = new Set<Promise<void>>();
  /** Of `runs`, those the executor still has (the rest are being recorded). */
  private executing = 0;
  private running = false;
  private readonly lanes: Lane[] = [
    { kinds: WORK, inFlight: new Set() },
    { kinds: CHAT, inFlight: new Set() },
  ];
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastSweep = 0;
  /** Set by `wake`, cleared when a cycle starts. */
  private woken = false;

  constructor(
    private readonly deps: AppDeps,
    options: DispatcherOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 250;
    this.concurrency = options.concurrency ?? 8;
    this.maxRunning = options.maxRunning ?? deps.executor.capacity ?? 32;
    this.sweepMs = options.sweepMs ?? 1000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming, then waits for effects in hand to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.allSettled(this.lanes.flatMap((l) => [...l.inFlight]));
    await Promise.allSettled([...this.runs]);
  }

  /**
   * Handles every effect available now, one at a time, and the ones they enqueue; for
   * tests and one-shot tools. Returns how many it handled.
   */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const claimed = await this.deps.store.claimOutbox(this.deps.clock.now(), 16, this.leaseMs);
      if (claimed.length === 0) return handled;
      for (const effect of claimed) await this.handle(effect, { detach: false });
      handled += claimed.length;
    }
  }

  /** Looks for work now instead of at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.sweep();
        this.woken = false;
        for (const lane of this.lanes) {
          let free = this.concurrency - lane.inFlight.size;
          if (lane.kinds === WORK) free = Math.min(free, this.maxRunning - this.executing);
          if (free <= 0) continue;
          const now = this.deps.clock.now();
          const claimed = await this.deps.store.claimOutbox(now, free, this.leaseMs, lane.kinds);
          for (const effect of claimed) {
            this.track(lane.inFlight, this.handle(effect, { detach: true }));
          }
        }
        // Sleeps until woken (new work, a slot freed) or the poll; a wake that came during
        // this cycle's claims is not lost.
        if (!this.woken) await this.idle();
      } catch (err) {
        this.deps.log.error({ err }, 'outbox dispatcher cycle failed');
        await this.idle();
      }
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private track(set: Set<Promise<void>>, p: Promise<void>): void {
    set.add(p);
    void p.finally(() => {
      set.delete(p);
      this.wake();
    });
  }

  private async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.lastSweep < this.sweepMs) return;
    this.lastSweep = now;
    await expireRequests(this.deps);
    await sweepResponse(this.deps);
  }

  /**
   * Carries out one effect. With `detach`, an execution returns once it is taken and
   * handed over; its run and record continue in `runs`.
   */
  private async handle(effect: OutboxEffect, { detach }: { detach: boolean }): Promise<void> {
    const renew = setInterval(
      () => {
        this.deps.store
          .renewLease(effect.id, this.deps.clock.now() + this.leaseMs)
          .catch((err) => this.deps.log.warn({ err, effect: effect.id }, 'lease renewal failed'));
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    const began = performance.now();
    let handedOver = false;
    try {
      if (effect.kind === 'execute' && detach) {
        const taken = await takeExecution(this.deps, effect);
        if (taken) {
          this.track(this.runs, this.runExecution(effect, taken, renew));
          handedOver = true;
        }
      } else if (effect.kind === 'execute') await executeRequest(this.deps, effect);
      else if (effect.kind === 'notify') await this.notify(effect);
      else await handleResponseEffect(this.deps, effect);
      const ms = performance.now() - began;
      if (ms > 5000 && effect.kind !== 'execute') {
        this.deps.log.warn({ effect: effect.id, kind: effect.kind, ms }, 'slow outbox effect');
      }
    } catch (err) {
      await this.retryLater(effect, err);
    } finally {
      if (!handedOver) clearInterval(renew);
    }
  }

  /** Runs a taken execution and records it; `renew` keeps the lease until then. */
  private async runExecution(
    effect: OutboxEffect,
    taken: TakenExecution,
    renew: NodeJS.Timeout,
  ): Promise<void> {
    this.executing += 1;
    let executing = true;
    // The executor's capacity frees once it is done, not once the outcome is recorded.
    const ran = () => {
      if (!executing) return;
      executing = false;
      this.executing -= 1;
      this.wake();
    };
    try {
      await runTaken(this.deps, effect, taken, ran);
    } catch (err) {
      // Claimed again later, it finds the request `running` and settles it as after a crash.
      await this.retryLater(effect, err);
    } finally {
      ran();
      clearInterval(renew);
    }
  }

  private async retryLater(effect: OutboxEffect, err: unknown): Promise<void> {
    const delay = Math.min(60_000, 500 * 2 ** Math.min(effect.attempts, 7));
    this.deps.log.error(
      { err, effect: effect.id, kind: effect.kind },
      'outbox effect failed; will retry',
    );
    await this.deps.store
      .releaseOutbox(effect.id, this.deps.clock.now() + delay, String(err))
      .catch(() => undefined);
  }

  private async notify(effect: OutboxEffect): Promise<void> {
    const p = effect.payload;
    await this.deps.notifier.notify({
      kind: String(p.event),
      ...(p.requestId ? { requestId: String(p.requestId) } : {}),
      text: `request ${String(p.requestId)} ${String(p.event)} (${String(p.state)})`,
      loud: p.loud === true,
    });
    await followUpRequest(this.deps, effect);
  }
}
