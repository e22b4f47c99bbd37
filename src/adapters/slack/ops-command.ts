/**
 * `/ops`: the chat grammar in Slack. Parse errors and help answer at once (ephemerally);
 * anything that touches the store or runs a command is acknowledged first and answered
 * through `respond()`, so Slack always gets its ack within 3 seconds.
 */
import type { AllMiddlewareArgs, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { cancelRequest } from '../../app/cancel-request.ts';
import type { Actor, AppDeps } from '../../app/context.ts';
import { approveRequest, denyRequest } from '../../app/decide-approval.ts';
import { runOpsVerb, type VerbAnswer } from '../../app/ops-verbs.ts';
import { getRequest } from '../../app/read-requests.ts';
import { requestAction } from '../../app/request-action.ts';
import { type Catalog, type Command, findCommand } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';
import { type ParsedCommand, parseCommandText } from '../../domain/grammar.ts';
import { can } from '../../domain/policy.ts';
import { decodeSlackText } from './command-text.ts';
import { helpReply } from './help-blocks.ts';
import { requestSummaryText } from './request-blocks.ts';
import { runCardMessage } from './run-blocks.ts';
import { codeBlock, escapeMrkdwn, inlineCode, truncate } from './safe-text.ts';
import { slackActor, UNKNOWN_PERSON_TEXT } from './slack-actor.ts';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export function opsCommand(deps: AppDeps) {
  return async ({ command, ack, respond }: Args): Promise<void> => {
    const text = decodeSlackText(command.text ?? '');
    const parsed = parseCommandText(text);
    if (!parsed.ok) {
      const usage = parsed.error.details.usage;
      await ack({
        response_type: 'ephemeral',
        text: `✋ ${escapeMrkdwn(parsed.error.message)}${typeof usage === 'string' ? `\nUsage: ${inlineCode(usage)}` : ''}`,
      });
      return;
    }
    let actor: Actor;
    try {
      actor = await slackActor(deps, command.user_id, command.channel_id, `/ops ${text}`);
    } catch {
      await ack({ response_type: 'ephemeral', text: UNKNOWN_PERSON_TEXT });
      return;
    }
    if (parsed.value.kind === 'help') {
      await ack({
        response_type: 'ephemeral',
        ...help(deps.catalog.current(), actor, parsed.value.command),
      });
      return;
    }
    await ack();
    await answer(deps, actor, parsed.value, respond).catch((err) => replyError(deps, respond, err));
  };
}

function help(catalog: Catalog, actor: Actor, commandId?: string) {
  const mayRun = (c: Command) =>
    catalog.services.some((s) =>
      s.environments.some((e) =>
        can(catalog, actor.person, c.class === 'read-only' ? 'view' : 'request', {
          command: c.id,
          service: s.id,
          environment: e.name,
        }),
      ),
    );
  const commands = catalog.commands.filter(mayRun);
  const one = commandId ? commands.find((c) => c.id === commandId) : undefined;
  if (commandId && !one) {
    return {
      text: `✋ There is no command "${escapeMrkdwn(commandId)}" you may run. Try \`/ops help\`.`,
    };
  }
  return helpReply(commands, one);
}

async function answer(deps: AppDeps, actor: Actor, p: ParsedCommand, respond: RespondFn) {
  if (p.kind === 'action') {
    const result = await requestAction(deps, actor, {
      command: p.command,
      service: p.service,
      environment: p.environment,
      params: p.params,
      links: p.links,
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
      breakGlass: p.breakGlass,
    });
    if (result.kind === 'ran') {
      const command = findCommand(deps.catalog.current(), result.command);
      const where = command?.output === 'requester' ? 'ephemeral' : 'in_channel';
      const status = result.ok ? '' : `✗ ${result.error ?? 'failed'}\n`;
      await respond({ response_type: where, text: `${status}${codeBlock(result.output, 2800)}` });
      return;
    }
    const channel = deps.catalog.current().services.find((s) => s.id === p.service)
      ?.channels.approvals;
    const where =
      result.request.state === 'pending' && channel
        ? ` — the approval prompt is in <#${channel}>`
        : '';
    await respond({
      response_type: 'ephemeral',
      text: `${requestSummaryText(result.request)}${where}`,
    });
    return;
  }
  if (p.kind === 'builtin' && (p.verb === 'approve' || p.verb === 'deny' || p.verb === 'cancel')) {
    const requestId = p.args[0] ?? '';
    const r = await getRequest(deps, actor, requestId);
    const next =
      p.verb === 'approve'
        ? await approveRequest(deps, actor, { requestId, kind: 'approval', digest: r.digest })
        : p.verb === 'deny'
          ? await denyRequest(deps, actor, { requestId, reason: p.params.reason ?? '' })
          : await cancelRequest(deps, actor, {
              requestId,
              ...(p.params.reason ? { reason: p.params.reason } : {}),
            });
    await respond({ response_type: 'ephemeral', text: requestSummaryText(next) });
    return;
  }
  if (p.kind === 'builtin' && (p.verb === 'incident' || p.verb === 'runbook')) {
    const answer = await runOpsVerb(deps, actor, p);
    await respond({ response_type: 'ephemeral', ...verbReply(deps, actor, p, answer) });
    return;
  }
  await respond({
    response_type: 'ephemeral',
    text: `✋ \`${p.kind === 'builtin' ? p.verb : ''}\` is not available here yet.`,
  });
}

const CHANNEL_ID = /^[CG][A-Z0-9]{2,20}$/;

/**
 * The answer to an `incident …` or `runbook …` line, always ephemeral: the header and its
 * thread are the incident's public record and the outbox brings them up to date, so an
 * in-channel echo would say everything twice (quiet channels). The answer says where the
 * header lives when that is not here; `runbook show` also carries the step card.
 */
function verbReply(
  deps: AppDeps,
  actor: Actor,
  p: Extract<ParsedCommand, { kind: 'builtin' }>,
  a: VerbAnswer,
): { text: string; blocks?: ReturnType<typeof runCardMessage>['blocks'] } {
  let text = escapeMrkdwn(a.text);
  const i = a.incident;
  if (i?.channel && i.channel !== actor.channel && CHANNEL_ID.test(i.channel)) {
    text += `\nThe incident's header is in <#${i.channel}>.`;
  } else if (i && p.args[0] === 'declare' && deps.catalog.current().incidents.chat === 'channel') {
    text += '\nIts own channel is being created; you will be invited.';
  }
  text = truncate(text, 3000);
  if (p.verb === 'runbook' && p.args[0] === 'show' && a.view) {
    const card = runCardMessage({ view: a.view, names: nameOf(deps), now: deps.clock.now() });
    return { text, blocks: card.blocks };
  }
  return { text };
}

function nameOf(deps: AppDeps) {
  return (id: string) => deps.catalog.current().people.find((x) => x.id === id)?.name ?? id;
}

export async function replyError(deps: AppDeps, respond: RespondFn, err: unknown): Promise<void> {
  if (err instanceof DomainError) {
    await respond({
      response_type: 'ephemeral',
      replace_original: false,
      text: `✋ ${escapeMrkdwn(err.message)}`,
    });
    return;
  }
  deps.log.error({ err }, 'slack command failed');
  await respond({
    response_type: 'ephemeral',
    replace_original: false,
    text: 'Something went wrong; it has been logged.',
  });
}
