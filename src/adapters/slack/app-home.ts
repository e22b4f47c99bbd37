/** App Home: what waits for the viewer's sign-off, and their own open requests. */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { AppDeps } from '../../app/context.ts';
import { listRequests } from '../../app/read-requests.ts';
import { eligibleSignOffs } from '../../domain/policy.ts';
import { countedSignOffs } from '../../domain/request-lifecycle.ts';
import { homeView } from './home-blocks.ts';
import { personBySlackId } from './slack-actor.ts';

type HomeArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

export function appHomeOpened(deps: AppDeps, consoleUrl?: string) {
  return async ({ event, client }: HomeArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    const catalog = deps.catalog.current();
    const person = personBySlackId(catalog, event.user);
    if (!person) return;
    const actor = { person, surface: 'slack' as const };
    const pending = await listRequests(deps, actor, { states: ['pending'], limit: 200 });
    const awaitingMe = pending.filter((r) =>
      r.requirements.some(
        (q) =>
          eligibleSignOffs(catalog, r).get(q.kind)?.includes(person.id) &&
          !countedSignOffs(r, q.kind).some((s) => s.by === person.id),
      ),
    );
    const mine = (
      await listRequests(deps, actor, {
        requester: person.id,
        states: ['pending', 'approved', 'running', 'unknown'],
        limit: 50,
      })
    ).slice(0, 20);
    const names = (id: string) => catalog.people.find((p) => p.id === id)?.name ?? id;
    await client.views.publish({
      user_id: event.user,
      view: homeView({
        person,
        awaitingMe,
        mine,
        names,
        now: deps.clock.now(),
        ...(consoleUrl ? { consoleUrl } : {}),
      }),
    });
  };
}
