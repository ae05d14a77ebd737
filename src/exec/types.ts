/** What the SSH executor returns. The exec layer knows nothing about Slack, incidents or runbooks. */

export interface CappedOutput {
  /** The kept text: the head and the tail with a marker between them when cut. */
  text: string;
  /** Bytes the command wrote. */
  bytes: number;
  /** Bytes left out of `text`. */
  truncatedBytes: number;
}

export interface ExecResult {
  exitCode: number | null;
  signal?: string;
  stdout: CappedOutput;
  stderr: CappedOutput;
  durationMs: number;
  timedOut: boolean;
  /**
   * Of `durationMs`, the time until the command's channel was open (a free session, a connect when there was none,
   * the channel open and exec request): the rest is the command itself. Absent when the executor cannot tell.
   */
  openMs?: number;
}

export interface ExecOptions {
  timeoutMs: number;
  outputCap: number;
}

/** SSH settings of one host, as in the config. */
export interface SshTarget {
  /** The config's host name, used as the pool key and in messages. */
  name: string;
  host: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  /** Name of an environment variable holding the private key. */
  privateKeyEnv?: string;
  /** Name of an environment variable holding the key's passphrase. */
  passphraseEnv?: string;
  /** Pinned host key fingerprint, `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
  hostKey?: string;
  knownHostsPath?: string;
  connectTimeoutMs?: number;
  /** Only for throwaway test hosts: accept any host key (config `ssh.insecureAcceptAnyHostKey`). */
  insecureAcceptAnyHostKey?: boolean;
}

/** Runs commands on hosts. Failures to connect or a lost connection throw PilotError (SSH_*). */
export interface Executor {
  run(target: SshTarget, command: string, opts: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}
