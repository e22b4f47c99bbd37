/** Every Slack listener, registered on one Bolt app. */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { AppDeps } from '../../app/context.ts';
import { appHomeOpened } from './app-home.ts';
import {
  confirmSubmission,
  denyButton,
  denySubmission,
  signOffButton,
} from './approval-actions.ts';
import { registerIncidentActions } from './incident-actions.ts';
import { opsCommand } from './ops-command.ts';
import { ACTIONS } from './request-blocks.ts';

export function registerSlackListeners(
  app: App,
  deps: AppDeps,
  options: { consoleUrl?: string } = {},
): void {
  app.command('/ops', opsCommand(deps));
  for (const id of [ACTIONS.approve, ACTIONS.windowAck, ACTIONS.rollbackConfirm]) {
    app.action<BlockAction<ButtonAction>>(id, signOffButton(deps));
  }
  app.action<BlockAction<ButtonAction>>(ACTIONS.deny, denyButton(deps));
  app.view('cs_deny', denySubmission(deps));
  app.view('cs_confirm', confirmSubmission(deps));
  registerIncidentActions(app, deps);
  app.event('app_home_opened', appHomeOpened(deps, options.consoleUrl));
}
