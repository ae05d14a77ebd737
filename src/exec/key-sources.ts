/**
 * Every host's SSH key source — a file (`privateKeyPath`) or a variable (`privateKeyEnv`, with `passphraseEnv`) — is
 * checked before the first click needs it: at start-up (a problem stops the bot) and in `runbook-pilot check`.
 * Otherwise a missing key surfaces only when someone clicks Restart during an incident, as "Internal error".
 *
 * Presence, readability and that the text is a private key (the `.pub` file is a common mix-up); the file's
 * permissions are key-permissions.ts's. The reading is passed in, so the decision is tested without files.
 */
import { readFileSync } from 'node:fs';
import type { HostConfig } from '../config/schema';
import { PilotError } from '../errors';

export interface KeySourceProblem {
  host: string;
  /** The config key of the source: `hosts[lb-1].ssh.privateKeyPath`. */
  key: string;
  /** The same key as a path into the config (`['hosts', 0, 'ssh', 'privateKeyPath']`), to find its line. */
  path: Array<string | number>;
  message: string;
  fix: string;
}

export interface KeySourceDeps {
  /** Where privateKeyEnv and passphraseEnv are read. */
  env: NodeJS.ProcessEnv;
  /** Reads a key file; throws as fs does (ENOENT, EACCES). */
  readFile(path: string): string;
  /** Whether `text` is a private key ssh can use with `passphrase`: undefined when it is, else why not. */
  keyError(text: string, passphrase: string | undefined): string | undefined;
}

/** The problems of every host's key source; empty when each has a usable key. Pure given `deps`. */
export function keySourceProblems(hosts: readonly HostConfig[], deps: KeySourceDeps): KeySourceProblem[] {
  const problems: KeySourceProblem[] = [];
  for (const [i, host] of hosts.entries()) {
    const { ssh } = host;
    const at = (k: string) => `hosts[${host.name}].ssh.${k}`;
    const path = (k: string) => ['hosts', i, 'ssh', k];
    let text: string | undefined;
    let source: string;
    if (ssh.privateKeyPath) {
      source = ssh.privateKeyPath;
      try {
        text = deps.readFile(ssh.privateKeyPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push({
          host: host.name,
          key: at('privateKeyPath'),
          path: path('privateKeyPath'),
          message:
            code === 'ENOENT'
              ? `the SSH key file ${ssh.privateKeyPath} does not exist`
              : `the SSH key file ${ssh.privateKeyPath} cannot be read (${code ?? (err as Error).message})`,
          fix:
            code === 'ENOENT'
              ? `put the private key for ${ssh.user}@${ssh.host} there (the Docker image: mount the key folder at its folder), or fix the path`
              : "let the bot's user read it: it must own the file (chmod 600)",
        });
        continue;
      }
    } else if (ssh.privateKeyEnv) {
      source = `variable ${ssh.privateKeyEnv}`;
      const v = deps.env[ssh.privateKeyEnv];
      if (!v) {
        problems.push({
          host: host.name,
          key: at('privateKeyEnv'),
          path: path('privateKeyEnv'),
          message: `environment variable ${ssh.privateKeyEnv} (the SSH key for ${host.name}) is not set`,
          fix: `set ${ssh.privateKeyEnv} to the private key's text (one line with \\n is fine) in the environment or .env`,
        });
        continue;
      }
      // A key pasted into one line of an env file keeps its line breaks as `\n` (as the pool reads it).
      text = v.includes('\n') ? v : v.replace(/\\n/g, '\n');
    } else continue; // the schema requires one of them
    let passphrase: string | undefined;
    if (ssh.passphraseEnv) {
      passphrase = deps.env[ssh.passphraseEnv];
      if (passphrase === undefined) {
        problems.push({
          host: host.name,
          key: at('passphraseEnv'),
          path: path('passphraseEnv'),
          message: `environment variable ${ssh.passphraseEnv} (the passphrase of the SSH key for ${host.name}) is not set`,
          fix: `set ${ssh.passphraseEnv} in the environment or .env, or remove passphraseEnv if the key has none`,
        });
        continue;
      }
    }
    const why = deps.keyError(text, passphrase);
    if (why)
      problems.push({
        host: host.name,
        key: at(ssh.privateKeyPath ? 'privateKeyPath' : 'privateKeyEnv'),
        path: path(ssh.privateKeyPath ? 'privateKeyPath' : 'privateKeyEnv'),
        message: `${source} is not a usable SSH private key: ${why}`,
        fix: /passphrase/i.test(why)
          ? 'set passphraseEnv to the variable that holds its passphrase'
          : 'give the private key (the file without .pub, "-----BEGIN OPENSSH PRIVATE KEY-----")',
      });
  }
  return problems;
}

interface Ssh2Utils {
  parseKey(data: string, passphrase?: string): unknown;
}

/** {@link KeySourceDeps} of a real machine: files read from disk, keys parsed by ssh2 (the parser the pool uses). */
export function systemKeySourceDeps(env: NodeJS.ProcessEnv): KeySourceDeps {
  return {
    env,
    readFile: (path) => readFileSync(path, 'utf8'),
    keyError: (text, passphrase) => {
      // Loaded here, not at import: ssh2 instantiates its WebAssembly crypto as it loads, and a bot without a host
      // key to check (or the check CLI on a config without hosts) need not pay for it (issue #20).
      // ssh2 ships no types (@types/ssh2 is not installed); only its parseKey is used here.
      const { utils } = require('ssh2') as { utils: Ssh2Utils };
      const parsed = utils.parseKey(text, passphrase);
      if (parsed instanceof Error) return parsed.message;
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      return key && (key as { isPrivateKey(): boolean }).isPrivateKey() ? undefined : 'it is a public key';
    },
  };
}

/**
 * Stops start-up with every host whose SSH key is missing, unreadable or not a private key, one line each, prefixed by
 * the config file's path.
 */
export function assertKeySources(
  hosts: readonly HostConfig[],
  environment: NodeJS.ProcessEnv,
  configPath: string,
): void {
  const problems = keySourceProblems(hosts, systemKeySourceDeps(environment));
  if (!problems.length) return;
  const lines = problems.map((p) => `${configPath}: ${p.key}: ${p.message}; ${p.fix}`);
  throw new PilotError(
    'CONFIG_UNREADABLE',
    lines.length === 1 ? lines[0] : `${lines.length} hosts have no usable SSH key:\n  ${lines.join('\n  ')}`,
    { details: { problems: lines } },
  );
}
