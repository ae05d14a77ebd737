/**
 * The arguments of the `runbook-pilot` command: `runbook-pilot check [--config FILE] [--hosts]` validates a setup for a
 * team's CI. Exit 0: no errors (warnings may be printed); 1: errors found; 2: wrong usage. src/cli.ts runs it.
 */
import { SshPool } from '../exec/ssh-pool';
import { runCheck } from './run-check';

export const CLI_USAGE = [
  'Usage: runbook-pilot check [--config FILE] [--hosts]',
  '',
  "  Validates the config, every runbook and binding, and every action's command (built with sample parameters).",
  '  --config FILE  the config file (default: $RUNBOOK_PILOT_CONFIG, else ./config.yml)',
  '  --hosts        also connect to every configured host: host key, `true`, HAProxy stats socket',
  '',
  '  Exit status: 0 no errors (warnings allowed), 1 errors found, 2 wrong usage.',
].join('\n');

/** Parses the arguments and runs the command; resolves with the exit code. */
export async function cli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    out(CLI_USAGE);
    return 0;
  }
  if (command !== 'check') {
    err(command ? `runbook-pilot: unknown command "${command}"` : 'runbook-pilot: a command is needed');
    err(CLI_USAGE);
    return 2;
  }
  let configPath = env.RUNBOOK_PILOT_CONFIG || './config.yml';
  let hosts = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--hosts') hosts = true;
    else if (a === '--config' && rest[i + 1] !== undefined) configPath = rest[++i];
    else if (a.startsWith('--config=')) configPath = a.slice('--config='.length);
    else if (a === '--help' || a === '-h') {
      out(CLI_USAGE);
      return 0;
    } else {
      err(`runbook-pilot check: unknown argument "${a}"`);
      err(CLI_USAGE);
      return 2;
    }
  }
  const pool = hosts ? new SshPool({ env, idleCloseMs: 60_000 }) : undefined;
  try {
    const result = await runCheck({ configPath, hosts, cwd: process.cwd(), executor: pool, env, out });
    return result.errors ? 1 : 0;
  } finally {
    await pool?.close();
  }
}
