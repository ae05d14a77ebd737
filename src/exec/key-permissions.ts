/**
 * A private key file others can read is refused, as OpenSSH refuses it ("UNPROTECTED PRIVATE KEY FILE!"): ssh checks
 * a key owned by the user running it for any group or other permission bit (mode & 077). The bot does the same, at
 * start-up and before each connection, and says which file and which `chmod` fixes it.
 */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PilotError } from '../errors';

export interface KeyFileStat {
  mode: number;
  uid: number;
}

/** The problem with a key file's permissions, or undefined when ssh would accept them. Pure. */
export function keyPermissionProblem(file: KeyFileStat, processUid: number | undefined): string | undefined {
  // Like ssh: only a key owned by the user running the bot is checked (a key another user owns is theirs to guard).
  if (processUid !== undefined && file.uid !== processUid) return undefined;
  const loose = file.mode & 0o077;
  if (!loose) return undefined;
  const who = [loose & 0o070 ? 'group' : '', loose & 0o007 ? 'others' : ''].filter(Boolean).join(' and ');
  return `mode ${(file.mode & 0o777).toString(8).padStart(4, '0')} lets ${who} at it`;
}

function refusal(path: string, hostName: string, problem: string): PilotError {
  return new PilotError(
    'CONFIG_UNREADABLE',
    `the SSH private key ${path} for ${hostName} is not private (${problem}); ssh refuses such a key and so does the bot`,
    {
      hint: `run chmod 600 ${path} (the bot's user must own it)`,
    },
  );
}

const processUid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/** Throws CONFIG_UNREADABLE when the key file exists and is open to group or others; a missing file is left to the read. */
export function checkKeyFileSync(path: string, hostName: string, uid = processUid()): void {
  let s: KeyFileStat;
  try {
    s = statSync(path);
  } catch {
    return;
  }
  const problem = keyPermissionProblem(s, uid);
  if (problem) throw refusal(path, hostName, problem);
}

/** {@link checkKeyFileSync} before a connection (the file may have changed since start-up). */
export async function checkKeyFile(path: string, hostName: string, uid = processUid()): Promise<void> {
  let s: KeyFileStat;
  try {
    s = await stat(path);
  } catch {
    return;
  }
  const problem = keyPermissionProblem(s, uid);
  if (problem) throw refusal(path, hostName, problem);
}
