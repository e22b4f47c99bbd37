/**
 * The approval prompt's buttons and modals. Every click is checked again by the use case
 * against the catalog in force; a button only says which request, digest and sign-off kind
 * the person saw. Refusals answer ephemerally; the prompt itself is updated by the notifier
 * from the stored state.
 */
import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { AppDeps } from '../../app/context.ts';
import { approveRequest, denyRequest } from '../../app/decide-approval.ts';
import { getRequest } from '../../app/read-requests.ts';
import type { ApprovalKind } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';
import { replyError } from './ops-command.ts';
import { confirmModal, denyModal, parseButtonValue } from './request-blocks.ts';
import { slackActor } from './slack-actor.ts';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;
type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** The request a button points at, as the clicker may see it; refusals are thrown. */
async function clicked(deps: AppDeps, body: ButtonArgs['body'], action: ButtonArgs['action']) {
  const value = parseButtonValue(action.value);
  if (!value) throw new DomainError('INVALID_INPUT', 'That button is not one of ours.');
  const actor = await slackActor(deps, body.user.id, body.channel?.id, `button ${value.requestId}`);
  const request = await getRequest(deps, actor, value.requestId);
  return { value, actor, request };
}

/** Approve, acknowledge a window or confirm a rollback; destructive approvals ask for the target. */
export function signOffButton(deps: AppDeps) {
  return async ({ ack, body, action, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    try {
      const { value, actor, request } = await clicked(deps, body, action);
      if (value.kind === 'approval' && request.class === 'destructive') {
        await client.views.open({
          trigger_id: body.trigger_id,
          view: confirmModal(request, value.kind),
        });
        return;
      }
      await approveRequest(deps, actor, value);
    } catch (err) {
      await replyError(deps, respond, err);
    }
  };
}

/** Deny opens a modal asking why. */
export function denyButton(deps: AppDeps) {
  return async ({ ack, body, action, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    try {
      const { request } = await clicked(deps, body, action);
      await client.views.open({ trigger_id: body.trigger_id, view: denyModal(request) });
    } catch (err) {
      await replyError(deps, respond, err);
    }
  };
}

interface ModalMetadata {
  r: string;
  d: string;
  k?: ApprovalKind;
}

function metadataOf(raw: string): ModalMetadata | undefined {
  try {
    const m = JSON.parse(raw) as Partial<ModalMetadata>;
    if (typeof m.r === 'string' && typeof m.d === 'string') return m as ModalMetadata;
  } catch {
    // not ours
  }
  return undefined;
}

function inputValue(view: SubmitArgs['view'], block: string): string {
  const v = view.state.values[block]?.value?.value;
  return typeof v === 'string' ? v : '';
}

/**
 * A modal submission runs its use case before acknowledging (a store round trip, well
 * inside Slack's 3 seconds) so a refusal can be shown in the modal itself.
 */
async function submit(
  deps: AppDeps,
  args: SubmitArgs,
  block: string,
  run: (m: ModalMetadata, value: string) => Promise<unknown>,
): Promise<void> {
  const m = metadataOf(args.view.private_metadata);
  if (!m) {
    await args.ack({
      response_action: 'errors',
      errors: { [block]: 'This form is not one of ours.' },
    });
    return;
  }
  try {
    await run(m, inputValue(args.view, block));
    await args.ack();
  } catch (err) {
    const text =
      err instanceof DomainError ? err.message : 'Something went wrong; it has been logged.';
    if (!(err instanceof DomainError)) deps.log.error({ err }, 'slack modal failed');
    await args.ack({ response_action: 'errors', errors: { [block]: text.slice(0, 150) } });
  }
}

export function denySubmission(deps: AppDeps) {
  return (args: SubmitArgs) =>
    submit(deps, args, 'reason', async (m, reason) => {
      const actor = await slackActor(deps, args.body.user.id, undefined, `deny ${m.r}`);
      await denyRequest(deps, actor, { requestId: m.r, reason });
    });
}

export function confirmSubmission(deps: AppDeps) {
  return (args: SubmitArgs) =>
    submit(deps, args, 'confirm', async (m, typed) => {
      const actor = await slackActor(deps, args.body.user.id, undefined, `confirm ${m.r}`);
      await approveRequest(deps, actor, {
        requestId: m.r,
        digest: m.d,
        kind: m.k ?? 'approval',
        confirmation: typed.trim(),
      });
    });
}
