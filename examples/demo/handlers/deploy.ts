// `deploy version=…` (mutating): rolls the service to a version, remembering the one before.
import { parseEvent, semverParam, sleep, updateService } from './demo-state.ts';

/** How long the simulated roll-out takes, in milliseconds. */
const ROLLOUT_MS = 200;

interface DeployResult {
  version: string;
  /** The version replaced; absent when the version was already running. */
  previousVersion?: string;
  changed: boolean;
}

export async function handler(event: unknown) {
  const e = parseEvent(event);
  const version = semverParam(e, 'version');
  console.log(`rolling ${e.service} ${e.environment} to ${version}`);
  await sleep(ROLLOUT_MS);
  return await updateService<DeployResult>(e, 'deploy', (target) => {
    if (target.version === version) {
      return { detail: `${version} already running`, result: { version, changed: false } };
    }
    const from = target.version;
    target.previousVersion = from;
    target.version = version;
    return {
      detail: `${from} → ${version}`,
      result: { version, previousVersion: from, changed: true },
    };
  });
}
