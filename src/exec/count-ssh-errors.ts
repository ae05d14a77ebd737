/**
 * SSH failures counted where commands run: runbook_pilot_ssh_errors_total{host,code} for every SSH_* error the
 * executor throws; results and other errors pass through untouched.
 */
import { asPilotError } from '../errors';
import type { Metrics } from '../metrics';
import type { Executor } from './types';

/** The executor, its SSH failures counted by host and code. */
export function countSshErrors(executor: Executor, metrics: Pick<Metrics, 'sshErrors'>): Executor {
  return {
    async run(target, command, opts) {
      try {
        return await executor.run(target, command, opts);
      } catch (err) {
        const code = asPilotError(err).code;
        if (code.startsWith('SSH_')) metrics.sshErrors.inc({ host: target.name, code });
        throw err;
      }
    },
    close: () => executor.close(),
  };
}
