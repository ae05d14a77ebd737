/**
 * One real bot process for the memory benchmarks: built and started as the image runs it (SQLite in a temporary
 * folder, the repo's runbooks, one channel), in front of its own Slack stand-in.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNEL } from '../test/support/pilot-harness';
import { type ReplicaSet, startReplicas } from '../test/support/replicas';
import { SlackStandIn } from '../test/support/slack-standin';

const REPO = join(__dirname, '..');

export interface OneBot {
  dir: string;
  slack: SlackStandIn;
  set: ReplicaSet;
  /** The bot process's pid, for its RSS. */
  pid: number | undefined;
}

/** Starts the stand-in and one bot; `name` names its temporary folder, `logLevel` its LOG_LEVEL. */
export async function startOneBot(name: string, logLevel: string): Promise<OneBot> {
  const dir = mkdtempSync(join(tmpdir(), `rbp-bench-${name}-`));
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' } });
  await slack.start();
  // The default pace: slack.postsPerSecond 1 and postBurst 5 are left out on purpose.
  const set = await startReplicas({
    count: 1,
    slack,
    dir,
    config: {
      slack: { channels: [CHANNEL], stillFiringIntervalSec: 3600 },
      runbooks: join(REPO, 'runbooks'),
      store: { path: join(dir, 'pilot.db') },
    },
    env: { LOG_LEVEL: logLevel },
  }).catch(async (err: unknown) => {
    await slack.stop();
    throw err;
  });
  return { dir, slack, set, pid: set.replicas[0].child?.pid };
}
