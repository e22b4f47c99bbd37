/**
 * Use case: run an approved request, exactly once. Three steps, each its own commit:
 *   1. take it: re-check the sign-offs against the catalog in force, mark it `running`;
 *   2. run it through the executor, outside any transaction;
 *   3. record the outcome and drop the outbox effect.
 * A crash after 1 leaves it `running`; whoever claims the effect next finds it so and,
 * unless the command is idempotent, ends it `unknown` for a person to settle.
 */
import { type Catalog, type Command, findCommand, findPerson } from '../domain/catalog.ts';
import { mayBreakGlass, maySignOff } from '../domain/policy.ts';
import {
  finishExecution,
  isSatisfied,
  recoverExecution,
  startExecution,
  withdrawSignOffs,
} from '../domain/request-lifecycle.ts';
import type { ActionRequest, SignOff } from '../domain/request-model.ts';
import { TERMINAL_STATES } from '../domain/request-model.ts';
import { type AppDeps, SYSTEM } from './context.ts';
import { notifyEffect, requestAudit } from './effects.ts';
import type { OutboxEffect, StoreTx } from './ports.ts';
import { cleanOutput } from './request-action.ts';

export async function executeRequest(deps: AppDeps, effect: OutboxEffect): Promise<void> {
  const taken = await takeExecution(deps, effect);
  if (taken) await runTaken(deps, effect, taken);
}

/** A request marked `running` (committed), ready to hand to the executor. */
export interface TakenExecution {
  request: ActionRequest;
  command: Command;
}

/**
 * Step 1: re-checks and marks the request `running` (audited `execution.started`), or
 * settles the effect without running anything; `undefined` then.
 */
export function takeExecution(
  deps: AppDeps,
  effect: OutboxEffect,
): Promise<TakenExecution | undefined> {
  const requestId = String(effect.payload.requestId);
  return deps.store.transaction((tx) => take(deps, tx, effect, requestId));
}

/**
 * Steps 2 and 3: runs a taken request and records its outcome; `ran` is called when the
 * executor is done with it, before the record.
 */
export async function runTaken(
  deps: AppDeps,
  effect: OutboxEffect,
  { request, command }: TakenExecution,
  ran?: () => void,
): Promise<void> {
  const requestId = request.id;
  const outcome = await deps.executor.run({
    requestId: request.id,
    command,
    handler: command.handler,
    service: request.service,
    environment: request.environment,
    params: request.params,
    requester: request.requester,
    timeoutMs: command.timeoutSeconds * 1000,
    approved: true,
  });
  ran?.();
  const output = cleanOutput(deps, command, request.params, outcome.output);
  const error = outcome.error
    ? cleanOutput(deps, command, request.params, outcome.error)
    : undefined;
  await deps.store.transaction(async (tx) => {
    const r = await tx.getRequest(requestId);
    const now = deps.clock.now();
    const done =
      r && finishExecution(r, { ok: outcome.ok, output, ...(error ? { error } : {}) }, now);
    if (done?.ok) {
      await tx.updateRequest(done.value);
      await tx.appendAudit([
        requestAudit(
          SYSTEM,
          done.value,
          'execution.finished',
          now,
          {
            attempt: done.value.execution?.attempt,
            outputDigest: deps.sha256(output),
            ...(outcome.timedOut ? { timedOut: true } : {}),
          },
          outcome.ok ? 'ok' : outcome.timedOut ? 'timeout' : 'failed',
        ),
      ]);
      await tx.enqueue([notifyEffect(done.value, 'finished', now)]);
    }
    await tx.deleteOutbox(effect.id);
  });
}

async function take(
  deps: AppDeps,
  tx: StoreTx,
  effect: OutboxEffect,
  requestId: string,
): Promise<TakenExecution | undefined> {
  const r = await tx.getRequest(requestId);
  const now = deps.clock.now();
  const catalog = deps.catalog.current();
  const command = r && findCommand(catalog, r.command);
  if (!r || !command || TERMINAL_STATES.includes(r.state) || r.state === 'pending') {
    if (r && !command && r.state === 'approved') await refuseMissingCommand(deps, tx, r, now);
    await tx.deleteOutbox(effect.id);
    return undefined;
  }
  if (r.state === 'running') return recover(deps, tx, effect, r, command, now);
  const keep = (s: SignOff) => stillValid(catalog, r, s);
  if (
    r.breakGlass
      ? !requesterMayBreakGlass(catalog, r)
      : r.origin?.kind === 'mitigation'
        ? !ruleStillApproves(catalog, r, command)
        : !isSatisfied({ ...r, signOffs: r.signOffs.filter(keep) })
  ) {
    const back = withdrawSignOffs(r, keep, now);
    await tx.updateRequest(back);
    await tx.appendAudit([
      requestAudit(
        SYSTEM,
        back,
        'execution.refused',
        now,
        {
          why:
            r.origin?.kind === 'mitigation'
              ? 'the rule that pre-approved it changed or is gone'
              : 'a sign-off is no longer valid under the catalog in force',
        },
        'NOT_AN_APPROVER',
      ),
    ]);
    await tx.enqueue([notifyEffect(back, 'approval-withdrawn', now)]);
    await tx.deleteOutbox(effect.id);
    return undefined;
  }
  const started = startExecution(r, now);
  if (!started.ok) return undefined;
  await tx.updateRequest(started.value);
  await tx.appendAudit([
    requestAudit(SYSTEM, started.value, 'execution.started', now, { attempt: 1 }),
  ]);
  await tx.enqueue([notifyEffect(started.value, 'started', now)]);
  return { request: started.value, command };
}

async function recover(
  deps: AppDeps,
  tx: StoreTx,
  effect: OutboxEffect,
  r: ActionRequest,
  command: Command,
  now: number,
): Promise<TakenExecution | undefined> {
  const next = recoverExecution(r, command.idempotent, now);
  if (!next.ok) return undefined;
  await tx.updateRequest(next.value);
  if (next.value.state === 'unknown') {
    await tx.appendAudit([
      requestAudit(SYSTEM, next.value, 'execution.unknown', now, {}, 'unknown'),
    ]);
    await tx.enqueue([notifyEffect(next.value, 'unknown', now, { loud: true })]);
    await tx.deleteOutbox(effect.id);
    deps.log.warn(
      { request: r.id },
      'execution outcome unknown after a crash; a person must settle it',
    );
    return undefined;
  }
  await tx.appendAudit([
    requestAudit(SYSTEM, next.value, 'execution.retried', now, {
      attempt: next.value.execution?.attempt,
    }),
  ]);
  return { request: next.value, command };
}

/** Time-of-use check: the signer still exists and may still give this sign-off. */
function stillValid(catalog: Catalog, r: ActionRequest, s: SignOff): boolean {
  const person = findPerson(catalog, s.by);
  return s.digest === r.digest && !!person && maySignOff(catalog, person, r, s.kind).ok;
}

/**
 * A pre-approved mitigation runs only while the rule that approved it is in force
 * unchanged (same digest) and its command is still not destructive.
 */
function ruleStillApproves(catalog: Catalog, r: ActionRequest, command: Command): boolean {
  const origin = r.origin;
  if (origin?.kind !== 'mitigation') return false;
  const rule = catalog.mitigations.find((m) => m.id === origin.rule);
  return !!rule && rule.digest === origin.ruleDigest && command.class !== 'destructive';
}

function requesterMayBreakGlass(catalog: Catalog, r: ActionRequest): boolean {
  const person = findPerson(catalog, r.requester);
  return !!person && mayBreakGlass(catalog, person);
}

async function refuseMissingCommand(deps: AppDeps, tx: StoreTx, r: ActionRequest, now: number) {
  const back = withdrawSignOffs(r, () => false, now);
  await tx.updateRequest(back);
  await tx.appendAudit([
    requestAudit(
      SYSTEM,
      back,
      'execution.refused',
      now,
      { why: 'command no longer in the catalog' },
      'UNKNOWN_COMMAND',
    ),
  ]);
  deps.log.warn({ request: r.id }, 'approved request names a command no longer in the catalog');
}
