/**
 * Which test files take turns on the shared parts of the test hosts (see suite-lock.ts), in one table: Jest runs
 * files in parallel workers, and only these wait for each other. A file that changes a part holds it exclusively; a
 * file that reads it (clicks a diagnosis on lb-test, counts the shared haproxy's servers) holds it shared. Files not
 * listed use no shared part: their own stand-in, ports, databases, throwaway Redis or private haproxy.
 *
 * Adding a test that restarts, drains or reloads the shared haproxy, clears its log or stops the spare sshd? List it
 * here as exclusive, or it will break the files running beside it. (A file with one such test among many long ones
 * may hold the part in that test alone, with holdPart: replicas.test.ts does.)
 */
import type { LockMode, SharedPart } from './suite-lock';

type Parts = Partial<Record<SharedPart, LockMode>>;

const LB_CHANGES: Parts = { lb: 'exclusive' };
const LB_READS: Parts = { lb: 'shared' };
const PROM_STACK: Parts = { 'prom-stack': 'exclusive' };

/** Paths relative to the repository, as Jest names the files. */
export const SUITE_PARTS: Record<string, Parts> = {
  // Restart, reload, drain or ready on the shared haproxy (restoreWeb2 afterwards).
  'test/integration/slack/mitigation-guards.test.ts': LB_CHANGES,
  'test/integration/slack/mitigation.test.ts': LB_CHANGES,
  'test/integration/slack/incident-lifecycle.test.ts': LB_CHANGES,
  'test/integration/slack/shipped-bindings.test.ts': LB_CHANGES,
  // The demo clears the shared haproxy's log.
  'test/integration/demo/demo-real-bot.test.ts': LB_CHANGES,
  // Stop, kill and restart the spare sshd (and read the shared haproxy).
  'test/integration/exec/ssh-failures.test.ts': { lb: 'shared', 'spare-sshd': 'exclusive' },
  'test/integration/observability/metrics.test.ts': { lb: 'shared', 'spare-sshd': 'exclusive' },
  'test/integration/faults/process-faults.test.ts': { lb: 'shared', 'spare-sshd': 'exclusive' },
  'test/integration/faults/ssh-faults.test.ts': { lb: 'shared', 'spare-sshd': 'exclusive' },
  'test/integration/slack/diagnosis.test.ts': { lb: 'shared', 'spare-sshd': 'exclusive' },
  // Read the shared haproxy's state or log through the bot or the SSH pool.
  'test/integration/check/check-command.test.ts': LB_READS,
  'test/integration/exec/host-limiter-ssh.test.ts': LB_READS,
  'test/integration/exec/ssh-pool.test.ts': LB_READS,
  'test/integration/exec/test-hosts.test.ts': LB_READS,
  'test/integration/security/alert-identity.test.ts': LB_READS,
  'test/integration/security/key-permissions.test.ts': LB_READS,
  'test/integration/slack/complete-labels.test.ts': LB_READS,
  'test/integration/slack/timeline-names.test.ts': LB_READS,
  'test/unit/demo/hosts-missing-message.test.ts': LB_READS,
  // Start and stop the one monitoring stack (fixed ports, one folder), freeze its Alertmanager.
  'test/integration/observe/grouping.test.ts': PROM_STACK,
  'test/integration/observe/prom-stack.test.ts': PROM_STACK,
  'test/integration/slack/any-template-alertmanager.test.ts': PROM_STACK,
  'test/integration/slack/observe.test.ts': PROM_STACK,
  'test/integration/security/silence-scope.test.ts': PROM_STACK,
};
