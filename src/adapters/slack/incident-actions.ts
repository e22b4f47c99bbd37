/**
 * The buttons and modals of incident headers and runbook step cards. A button only says
 * which incident, runbook or step the person saw; every click is checked again by the use
 * case against the stored state and the catalog in force. Refusals answer ephemerally with
 * the DomainError's message; the header and the card themselves are updated by the outbox
 * from the stored state, never from here.
 */
import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import { actOnStep, type StepAction } from '../../app/advance-runbook.ts';
import type { Actor, AppDeps } from '../../app/context.ts';
import { getIncident, getRun } from '../../app/read-incidents.ts';
import { startRunbook } from '../../app/start-runbook.ts';
import { confirmSeverity, resolveIncident } from '../../app/update-incident.ts';
import { DomainError } from '../../domain/errors.ts';
import {
  awaitsConfirmation,
  INCIDENT_ACTIONS,
  parseIncidentId,
  parseRunbookValue,
  parseSeverityValue,
  pendingLevel,
  RESOLVE_CALLBACK,
  resolveModal,
} from './incident-blocks.ts';
import { replyError } from './ops-command.ts';
import {
  CHOOSE_ACTION,
  parseStepValue,
  RUN_ACTIONS,
  SKIP_CALLBACK,
  type StepButton,
  skipModal,
} from './run-blocks.ts';
import { escapeMrkdwn, mrkdwnWithin } from './safe-text.ts';
import { slackActor } from './slack-actor.ts';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;
type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export function registerIncidentActions(app: App, deps: AppDeps): void {
  const button = (id: string | RegExp, handler: (args: ButtonArgs) => Promise<void>) =>
    app.action<BlockAction<ButtonAction>>(id, handler);
  button(INCIDENT_ACTIONS.confirmSeverity, confirmSeverityButton(deps));
  button(INCIDENT_ACTIONS.startRunbook, startRunbookButton(deps));
  button(INCIDENT_ACTIONS.resolve, resolveButton(deps));
  app.view(RESOLVE_CALLBACK, resolveSubmission(deps));
  button(RUN_ACTIONS.run, stepButton(deps, 'run'));
  button(RUN_ACTIONS.ack, stepButton(deps, 'ack'));
  button(CHOOSE_ACTION, stepButton(deps, 'choose'));
  button(RUN_ACTIONS.skip, skipButton(deps));
  app.view(SKIP_CALLBACK, skipSubmission(deps));
}

const notOurs = () => new DomainError('INVALID_INPUT', 'That button is not one of ours.');

/** Acknowledges at once, then runs `work` with the clicker as an actor; refusals answer ephemerally. */
function clickHandler(
  deps: AppDeps,
  work: (args: ButtonArgs, actor: Actor) => Promise<string | undefined>,
) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    try {
      const { body, action } = args;
      const attempted = `button ${action.action_id} ${String(action.value ?? '').slice(0, 150)}`;
      const actor = await slackActor(deps, body.user.id, body.channel?.id, attempted);
      const reply = await work(args, actor);
      if (reply !== undefined) {
        await args.respond({ response_type: 'ephemeral', replace_original: false, text: reply });
      }
    } catch (err) {
      await replyError(deps, args.respond, err);
    }
  };
}

// ---------------------------------------------------------------------------------------
// The incident header

/**
 * Confirms the level the person saw waiting. When a different level waits by now (someone
 * proposed another one since the header was drawn), nothing is confirmed: they look again.
 */
export function confirmSeverityButton(deps: AppDeps) {
  return clickHandler(deps, async ({ action }, actor) => {
    const value = parseSeverityValue(action.value);
    if (!value) throw notOurs();
    const incident = await getIncident(deps, actor, value.incidentId);
    if (awaitsConfirmation(incident) && pendingLevel(incident) !== value.severity) {
      throw new DomainError(
        'CONFLICT',
        `The severity waiting for confirmation is now ${pendingLevel(incident)}, not ${value.severity}; look at the header again.`,
      );
    }
    await confirmSeverity(deps, actor, { incidentId: value.incidentId });
    return undefined;
  });
}

export function startRunbookButton(deps: AppDeps) {
  return clickHandler(deps, async ({ action }, actor) => {
    const value = parseRunbookValue(action.value);
    if (!value) throw notOurs();
    const run = await startRunbook(deps, actor, {
      runbook: value.runbook,
      incident: value.incidentId,
    });
    return `Started ${mrkdwnWithin(run.id, 60)} (${escapeMrkdwn(value.runbook)}); its step card is posted with the incident's header.`;
  });
}

export function resolveButton(deps: AppDeps) {
  return clickHandler(deps, async ({ action, body, client }, actor) => {
    const id = parseIncidentId(action.value);
    if (!id) throw notOurs();
    const incident = await getIncident(deps, actor, id);
    if (incident.status === 'resolved') {
      throw new DomainError('INCIDENT_CLOSED', `${incident.id} is already resolved.`);
    }
    await client.views.open({ trigger_id: body.trigger_id, view: resolveModal(incident) });
    return undefined;
  });
}

export function resolveSubmission(deps: AppDeps) {
  return (args: SubmitArgs) =>
    submitModal(
      deps,
      args,
      'note',
      parseIncidentId(args.view.private_metadata),
      async (id, note) => {
        const actor = await slackActor(deps, args.body.user.id, undefined, `resolve ${id}`);
        await resolveIncident(deps, actor, {
          incidentId: id,
          ...(note.trim() ? { note: note.trim() } : {}),
        });
      },
    );
}

// ---------------------------------------------------------------------------------------
// The step card

/** Run, Acknowledge, or a branch: the step named on the button, never "the current one". */
export function stepButton(deps: AppDeps, kind: Exclude<StepAction, 'skip'>) {
  return clickHandler(deps, async ({ action }, actor) => {
    const value = parseStepValue(action.value);
    if (!value || (kind === 'choose') !== (value.branch !== undefined)) throw notOurs();
    const run = await actOnStep(deps, actor, {
      runId: value.runId,
      stepId: value.stepId,
      action: kind,
      ...(value.branch !== undefined ? { branch: value.branch } : {}),
    });
    if (kind !== 'run') return undefined;
    const record = run.steps.findLast((s) => s.stepId === value.stepId);
    if (!record?.requestId) return undefined;
    const approvals = deps.catalog.current().services.find((s) => s.id === run.service)
      ?.channels.approvals;
    const where = approvals ? ` — the approval prompt is in <#${approvals}>` : '';
    return `Asked for ${mrkdwnWithin(record.requestId, 60)}${where}; the step card moves on when it finishes.`;
  });
}

/** Skip opens a modal asking why; the step it names is checked again on submission. */
export function skipButton(deps: AppDeps) {
  return clickHandler(deps, async ({ action, body, client }, actor) => {
    const value = parseStepValue(action.value);
    if (!value || value.branch !== undefined) throw notOurs();
    const view = await getRun(deps, actor, value.runId);
    const current = view.current;
    if (view.run.state !== 'active' || current?.step.id !== value.stepId) {
      throw new DomainError(
        'STEP_OUT_OF_ORDER',
        `"${value.stepId}" is not the current step of ${view.run.id} any more; look at the card again.`,
      );
    }
    await client.views.open({
      trigger_id: body.trigger_id,
      view: skipModal(value, current.step.title),
    });
    return undefined;
  });
}

export function skipSubmission(deps: AppDeps) {
  return (args: SubmitArgs) =>
    submitModal(
      deps,
      args,
      'reason',
      parseStepValue(args.view.private_metadata),
      async (b: StepButton, reason) => {
        const actor = await slackActor(
          deps,
          args.body.user.id,
          undefined,
          `skip ${b.runId} ${b.stepId}`,
        );
        await actOnStep(deps, actor, {
          runId: b.runId,
          stepId: b.stepId,
          action: 'skip',
          reason: reason.trim(),
        });
      },
    );
}

/**
 * A modal submission runs its use case before acknowledging (a store round trip, well
 * inside Slack's 3 seconds) so a refusal is shown in the modal, under its input.
 */
async function submitModal<T>(
  deps: AppDeps,
  args: SubmitArgs,
  block: string,
  target: T | undefined,
  run: (target: T, value: string) => Promise<unknown>,
): Promise<void> {
  if (target === undefined) {
    await args.ack({
      response_action: 'errors',
      errors: { [block]: 'This form is not one of ours.' },
    });
    return;
  }
  const raw = args.view.state.values[block]?.value?.value;
  try {
    await run(target, typeof raw === 'string' ? raw : '');
    await args.ack();
  } catch (err) {
    const text =
      err instanceof DomainError ? err.message : 'Something went wrong; it has been logged.';
    if (!(err instanceof DomainError)) deps.log.error({ err }, 'slack modal failed');
    await args.ack({ response_action: 'errors', errors: { [block]: text.slice(0, 150) } });
  }
}
