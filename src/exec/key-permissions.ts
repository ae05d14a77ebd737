/**
 * A private key file others can read is refused, as OpenSSH refuses its own ("UNPROTECTED PRIVATE KEY FILE!"): any
 * group or other permission bit (mode & 077). Unlike ssh, whoever owns the file (issue #19 §9): a key readable by a
 * group is a secret shared with that group, whether root or the bot's user owns it. Checked at start-up (the bot does
 * not start, CONFIG_UNREADABLE) and before each command (SshPool.run), where a key loosened since start-up is refused with
 * SSH_KEY_NOT_PRIVATE: the user reads what to fix instead of "internal error". Both say which file and which `chmod`.
 */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PilotError } from '../errors';

export interface KeyFileStat {
  mode: number;
}

/** The problem with a key file's permissions, or undefined when only its owner may read it. Pure. */
export function keyPermissionProblem(file: KeyFileStat): string | undefined {
  const loose = file.mode & 0o077;
  if (!loose) return undefined;
  const who = [loose & 0o070 ? 'group' : '', loose & 0o007 ? 'others' : ''].filter(Boolean).join(' and ');
  return `mode ${(file.mode & 0o777).toString(8).padStart(4, '0')} lets ${who} at it`;
}

const FIX = (path: string) => `run chmod 600 ${path} (the bot's user must own it)`;

/** Throws CONFIG_UNREADABLE (start-up) when the key file exists and is open to group or others; a missing file is left to the read. */
export function checkKeyFileSync(path: string, hostName: string): void {
  let s: KeyFileStat;
  try {
    s = statSync(path);
  } catch {
    return;
  }
  const problem = keyPermissionProblem(s);
  if (problem)
    throw new PilotError(
      'CONFIG_UNREADABLE',
      `the SSH private key ${path} for ${hostName} is not private (${problem}); ssh refuses such a key and so does the bot`,
      { hint: FIX(path) },
    );
}

/**
 * {@link checkKeyFileSync} before a command: the file may have been loosened since start-up. Throws
 * SSH_KEY_NOT_PRIVATE, which the user who clicked reads with what to fix.
 */
export async function checkKeyFile(path: string, hostName: string): Promise<void> {
  let s: KeyFileStat;
  try {
    s = await stat(path);
  } catch {
    return;
  }
  const problem = keyPermissionProblem(s);
  if (problem)
    throw new PilotError(
      'SSH_KEY_NOT_PRIVATE',
      `the SSH private key for ${hostName} became readable by others since start-up (${problem}), so the bot does not use it`,
      {
        hint: `nothing was run; the bot's operators must ${FIX(path)}`,
      },
    );
}

/** checkKeyFileSync for every host with a key file (start-up: a key others can read stops it, as ssh would refuse it). */
export function checkKeyFilesSync(hosts: readonly { name: string; ssh: { privateKeyPath?: string } }[]): void {
  for (const host of hosts) if (host.ssh.privateKeyPath) checkKeyFileSync(host.ssh.privateKeyPath, host.name);
}
