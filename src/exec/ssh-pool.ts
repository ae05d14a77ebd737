/**
 * The SSH executor: one reused connection per host (node-ssh over ssh2), host keys checked before anything runs,
 * commands run with a timeout that ends the remote process, output kept under a cap.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { NodeSSH, Config as NodeSshConfig } from 'node-ssh';
import type { Logger } from 'pino';
import { PilotError } from '../errors';
import { cappedOutput } from './capped-output';
import { checkHostKey, type HostKeyPolicy, preferredHostKeyAlgorithms } from './host-key';
import { checkKeyFile } from './key-permissions';
import { parseKnownHosts } from './known-hosts';
import { classifyConnectError } from './ssh-errors';
import type { ExecOptions, ExecResult, Executor, SshTarget } from './types';

/**
 * The exact text the pool sends to sshd for `command` (exported so the click benchmark runs the same script over
 * `ssh`). The remote shell reads stdin from /dev/null instead of us sending EOF: a channel whose stdin was ended is
 * no longer writable, and ssh2 then refuses to send the `signal` request that ends a timed-out command.
 */
export function remoteScript(command: string): string {
  return `exec </dev/null; ${command}`;
}

let nodeSsh: Promise<typeof NodeSSH> | undefined;
/**
 * node-ssh (with ssh2, its WebAssembly Poly1305 and its 16 MB memory) is loaded at the first connection, not at
 * start: a replica that has not run a step yet does not pay for it (the idle benchmark, issue #20). Once loaded it
 * stays; a failed load is not cached, so the next connection tries again.
 */
export function loadNodeSsh(): Promise<typeof NodeSSH> {
  nodeSsh ??= import('node-ssh').then(
    (m) => m.NodeSSH,
    (err: unknown) => {
      nodeSsh = undefined;
      throw err;
    },
  );
  return nodeSsh;
}

export interface SshPoolOptions {
  /** SSH keepalive: a dead peer is noticed after about 3 intervals. Default 10 s. */
  keepaliveIntervalMs?: number;
  /** A connection unused this long is closed. Default 5 min. */
  idleCloseMs?: number;
  /** Commands at once on one connection; keep it under sshd's MaxSessions (10 by default). Default 8. */
  maxSessionsPerHost?: number;
  /** After a timeout: time between TERM, KILL and closing the channel. Default 1 s. */
  killGraceMs?: number;
  logger?: Logger;
  /**
   * Where privateKeyEnv and passphraseEnv are read, passed in by the caller (main's process.env through the settings);
   * default none, so a host's key must come from a file.
   */
  env?: NodeJS.ProcessEnv;
}

/** Counters for metrics. */
export interface SshPoolStats {
  /** Successful logins, first ones and reconnects. */
  connects: number;
  /** Logins to a host this pool had been connected to before. */
  reconnects: number;
  /** Connection attempts that failed. */
  failures: number;
  /** Connections open now. */
  open: number;
}

// The parts of ssh2's Client and ClientChannel used here, typed by hand: @types/ssh2 is not installed and node-ssh's
// own typings refer to it, so they resolve to `any`.
interface Client {
  setNoDelay(noDelay?: boolean): void;
  exec(command: string, callback: (err: Error | undefined, channel: ClientChannel) => void): void;
  on(event: 'error', listener: (err: Error) => void): this;
  once(event: 'close', listener: () => void): this;
  end(): void;
  destroy(): void;
}
interface ClientChannel {
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
  on(event: 'close' | 'error', listener: () => void): this;
  stderr: { on(event: 'data', listener: (chunk: Buffer) => void): void };
  signal(name: string): void;
  close(): void;
}

interface Connection {
  key: string;
  target: SshTarget;
  ssh: NodeSSH;
  client: Client;
  alive: boolean;
  /** Sessions (channels) in use. */
  active: number;
  /** Callers waiting for a free session. */
  waiting: Array<() => void>;
  /** Channels whose command runs now, so close() can end them on the host. */
  running: Set<ClientChannel>;
  idleTimer?: NodeJS.Timeout;
  closed: Promise<void>;
}

interface Entry {
  promise: Promise<Connection>;
  conn?: Connection;
}

/** An open exec channel and its exit status, recorded from the moment it opened. */
interface Session {
  channel: ClientChannel;
  exit: { exited: boolean; code: number | null; signal?: string };
}

/** The channel could not be opened; `gone` says whether the connection died (then a reconnect is safe). */
class ChannelOpenError extends Error {
  constructor(
    message: string,
    readonly gone: boolean,
  ) {
    super(message);
  }
}

const noop = (): void => undefined;

/** The pool key: the config name plus where and as whom, so a changed config never reuses an old connection. */
function keyOf(t: SshTarget): string {
  return `${t.name}|${t.user}@${t.host}:${t.port}`;
}

/** Runs commands over one kept-open SSH connection per host. */
export class SshPool implements Executor {
  private readonly entries = new Map<string, Entry>();
  private readonly everConnected = new Set<string>();
  private readonly counters = { connects: 0, reconnects: 0, failures: 0 };
  private readonly keepaliveIntervalMs: number;
  private readonly idleCloseMs: number;
  private readonly maxSessions: number;
  private readonly killGraceMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly log?: Logger;
  private closing = false;

  constructor(opts: SshPoolOptions = {}) {
    this.keepaliveIntervalMs = opts.keepaliveIntervalMs ?? 10_000;
    this.idleCloseMs = opts.idleCloseMs ?? 300_000;
    this.maxSessions = opts.maxSessionsPerHost ?? 8;
    this.killGraceMs = opts.killGraceMs ?? 1_000;
    this.env = opts.env ?? {};
    this.log = opts.logger?.child({ component: 'ssh-pool' });
  }

  /** Counters for metrics. */
  stats(): SshPoolStats {
    let open = 0;
    for (const e of this.entries.values()) if (e.conn?.alive) open++;
    return { ...this.counters, open };
  }

  /**
   * Runs one command on the host. Connection problems throw PilotError (SSH_*); a command that runs past
   * `timeoutMs` is ended on the host and returned with `timedOut: true` and the output it wrote so far.
   */
  async run(target: SshTarget, command: string, opts: ExecOptions): Promise<ExecResult> {
    if (this.closing) throw new PilotError('INTERNAL', 'the SSH pool is closed');
    // Before every command, not only every connection (#19 §9): a key loosened since start-up is refused even while a
    // connection made with it is kept open. One stat.
    if (target.privateKeyPath) await checkKeyFile(target.privateKeyPath, target.name);
    const started = performance.now();
    let conn = await this.connection(target);
    let session: Session;
    try {
      session = await this.openSession(conn, command);
    } catch (err) {
      if (!(err instanceof ChannelOpenError && err.gone)) throw this.openFailure(target, err);
      // The connection died before the command could start, so nothing ran: one reconnect is safe.
      this.log?.info({ host: target.name }, 'ssh connection was closed; reconnecting');
      this.forget(conn);
      conn = await this.connection(target);
      try {
        session = await this.openSession(conn, command);
      } catch (err2) {
        throw this.openFailure(target, err2);
      }
    }
    return this.collect(conn, session, opts, started, performance.now() - started);
  }

  /**
   * Ends every connection. Commands still running are ended on the host first (TERM, then KILL after the grace):
   * without a terminal, closing the connection alone would leave them running there. Runs after this throw.
   */
  async close(): Promise<void> {
    this.closing = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    const conns = (await Promise.all(entries.map((e) => e.promise.catch(() => undefined)))).filter(
      (c): c is Connection => c !== undefined,
    );
    const running = () => conns.flatMap((c) => [...c.running]);
    if (running().length > 0) {
      this.log?.warn({ commands: running().length }, 'closing with commands still running: ending them on the host');
      for (const signal of ['TERM', 'KILL']) {
        for (const channel of running()) channel.signal(signal);
        const deadline = Date.now() + this.killGraceMs;
        while (running().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (running().length === 0) break;
      }
    }
    await Promise.all(conns.map((conn) => this.end(conn)));
  }

  // ---- connections ------------------------------------------------------------------------------------------

  /** The host's connection; concurrent first calls share one connect. */
  private connection(target: SshTarget): Promise<Connection> {
    const key = keyOf(target);
    const existing = this.entries.get(key);
    if (existing && (!existing.conn || existing.conn.alive)) return existing.promise;
    const entry: Entry = { promise: this.connect(target, key) };
    this.entries.set(key, entry);
    entry.promise.then(
      (conn) => {
        entry.conn = conn;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.promise;
  }

  private async connect(target: SshTarget, key: string): Promise<Connection> {
    const ctx = {
      name: target.name,
      host: target.host,
      port: target.port,
      user: target.user,
      connectTimeoutMs: target.connectTimeoutMs ?? 5000,
    };
    const log = this.log?.child({ host: target.name });
    let refused: PilotError | null = null;
    const ssh = new (await loadNodeSsh())();
    try {
      const policy = await this.hostKeyPolicy(target);
      const algorithms = preferredHostKeyAlgorithms(policy, ctx);
      const config: NodeSshConfig = {
        host: target.host,
        port: target.port,
        username: target.user,
        ...(await this.credentials(target)),
        readyTimeout: ctx.connectTimeoutMs,
        keepaliveInterval: this.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        tryKeyboard: false,
        hostVerifier: (hostKey: Buffer) => {
          refused = checkHostKey(hostKey, policy, ctx);
          return refused === null;
        },
        ...(algorithms ? { algorithms: { serverHostKey: algorithms } } : {}),
      };
      if (policy.kind === 'any') log?.warn('host key not checked (insecureAcceptAnyHostKey)');
      await ssh.connect(config);
    } catch (err) {
      this.counters.failures++;
      ssh.dispose();
      const e = refused ?? classifyConnectError(err, ctx);
      log?.warn({ code: e.code, err: e.message }, 'ssh connect failed');
      throw e;
    }
    // node-ssh removes its own 'error' listener once ready; without ours, a later socket error would crash the
    // process. Attached in the same tick as 'ready', before any further socket event can be handled.
    const client = ssh.connection as Client;
    // Nagle's algorithm holds a small packet (a channel open, an exec request, a window adjust) until the previous
    // one is acknowledged, and the peer delays that ACK by up to 40 ms: every command paid it, several times over.
    // OpenSSH sets TCP_NODELAY on interactive sessions for the same reason.
    client.setNoDelay(true);
    const conn: Connection = {
      key,
      target,
      ssh,
      client,
      alive: true,
      active: 0,
      waiting: [],
      running: new Set(),
      closed: Promise.resolve(),
    };
    conn.closed = new Promise<void>((resolve) => {
      client.on('error', (err: Error) => log?.warn({ err: err.message }, 'ssh connection error'));
      client.once('close', () => {
        conn.alive = false;
        clearTimeout(conn.idleTimer);
        for (const wake of conn.waiting.splice(0)) wake();
        const entry = this.entries.get(key);
        if (entry?.conn === conn) this.entries.delete(key);
        log?.debug('ssh connection closed');
        resolve();
      });
    });
    this.counters.connects++;
    if (this.everConnected.has(key)) this.counters.reconnects++;
    this.everConnected.add(key);
    log?.debug({ reconnect: this.counters.reconnects }, 'ssh connected');
    this.armIdle(conn);
    return conn;
  }

  private async hostKeyPolicy(t: SshTarget): Promise<HostKeyPolicy> {
    if (t.hostKey) return { kind: 'pinned', fingerprint: t.hostKey };
    if (t.knownHostsPath) {
      let text: string;
      try {
        text = await readFile(t.knownHostsPath, 'utf8');
      } catch (err) {
        throw new PilotError(
          'SSH_HOST_KEY_UNKNOWN',
          `cannot read known_hosts file ${t.knownHostsPath} for ${t.name}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      return { kind: 'known-hosts', path: t.knownHostsPath, entries: parseKnownHosts(text) };
    }
    if (t.insecureAcceptAnyHostKey) return { kind: 'any' };
    throw new PilotError('SSH_HOST_KEY_UNKNOWN', `no host key is configured for ${t.name}; refusing to connect`);
  }

  private async credentials(t: SshTarget): Promise<{ privateKey: string; passphrase?: string }> {
    let privateKey: string;
    const pasted = t.privateKeyEnv ? this.env[t.privateKeyEnv] : undefined;
    if (t.privateKeyPath) {
      await checkKeyFile(t.privateKeyPath, t.name);
      try {
        privateKey = await readFile(t.privateKeyPath, 'utf8');
      } catch (err) {
        throw new PilotError(
          'CONFIG_UNREADABLE',
          `cannot read the SSH private key ${t.privateKeyPath} for ${t.name}: ${(err as Error).message}`,
          {
            hint: 'check hosts[].ssh.privateKeyPath and that the bot may read the file',
            cause: err,
          },
        );
      }
    } else if (pasted) {
      // A key pasted into one line of an env file keeps its line breaks as `\n`.
      privateKey = pasted.includes('\n') ? pasted : pasted.replace(/\\n/g, '\n');
    } else {
      throw new PilotError(
        'CONFIG_MISSING_ENV',
        `the SSH private key for ${t.name} is not set: ${t.privateKeyEnv ? `variable ${t.privateKeyEnv} is empty` : 'no privateKeyPath or privateKeyEnv'}`,
      );
    }
    if (!t.passphraseEnv) return { privateKey };
    const passphrase = this.env[t.passphraseEnv];
    if (passphrase === undefined) {
      throw new PilotError(
        'CONFIG_MISSING_ENV',
        `the passphrase of the SSH key for ${t.name} is not set: variable ${t.passphraseEnv} is empty`,
      );
    }
    return { privateKey, passphrase };
  }

  /** Drops a connection that is no longer usable, so the next call connects again. */
  private forget(conn: Connection): void {
    const entry = this.entries.get(conn.key);
    if (entry?.conn === conn) this.entries.delete(conn.key);
    conn.alive = false;
    conn.client.destroy();
  }

  private async end(conn: Connection): Promise<void> {
    clearTimeout(conn.idleTimer);
    if (conn.alive) conn.client.end();
    // A peer that does not answer the disconnect must not hold close() up.
    const timer = setTimeout(() => conn.client.destroy(), 1000);
    await conn.closed;
    clearTimeout(timer);
  }

  private armIdle(conn: Connection): void {
    clearTimeout(conn.idleTimer);
    if (conn.active > 0 || !conn.alive) return;
    conn.idleTimer = setTimeout(() => {
      if (conn.active === 0 && conn.alive) {
        this.log?.debug({ host: conn.target.name }, 'closing idle ssh connection');
        const entry = this.entries.get(conn.key);
        if (entry?.conn === conn) this.entries.delete(conn.key);
        conn.alive = false;
        conn.client.end();
      }
    }, this.idleCloseMs);
    conn.idleTimer.unref();
  }

  // ---- sessions --------------------------------------------------------------------------------------------

  /** Waits for a free session on the connection and opens an exec channel. */
  private async openSession(conn: Connection, command: string): Promise<Session> {
    while (conn.alive && conn.active >= this.maxSessions) await new Promise<void>((wake) => conn.waiting.push(wake));
    if (!conn.alive) throw new ChannelOpenError('connection closed', true);
    conn.active++;
    clearTimeout(conn.idleTimer);
    const openTimeoutMs = conn.target.connectTimeoutMs ?? 5000;
    try {
      return await new Promise<Session>((resolve, reject) => {
        const timer = setTimeout(() => {
          // No answer to a channel open on a live-looking connection: the peer is gone without a FIN. Whether the
          // command started is unknown, so this is not retried.
          this.forget(conn);
          reject(
            new PilotError(
              'SSH_TIMEOUT',
              `${conn.target.name} (${conn.target.host}:${conn.target.port}) did not open a session within ${openTimeoutMs} ms`,
            ),
          );
        }, openTimeoutMs);
        const done = (err: Error | undefined, channel?: ClientChannel): void => {
          clearTimeout(timer);
          if (err || !channel) {
            const message = err?.message ?? 'the server opened no channel';
            reject(
              new ChannelOpenError(message, !conn.alive || /no response from server|not connected/i.test(message)),
            );
            return;
          }
          // The exit status may arrive in the same packet batch as the exec reply, before an awaiting caller could
          // listen: record it here, synchronously. (Output is buffered by the stream until read.)
          const session: Session = { channel, exit: { exited: false, code: null } };
          channel.on('exit', (code: number | null, sig?: string) => {
            session.exit = { exited: true, code: code ?? null, signal: sig ?? undefined };
          });
          resolve(session);
        };
        try {
          conn.client.exec(remoteScript(command), done);
        } catch (err) {
          done(err as Error);
        }
      });
    } catch (err) {
      this.release(conn);
      throw err;
    }
  }

  private release(conn: Connection): void {
    conn.active--;
    conn.waiting.shift()?.();
    this.armIdle(conn);
  }

  private openFailure(target: SshTarget, err: unknown): PilotError {
    if (err instanceof PilotError) return err;
    const where = `${target.name} (${target.host}:${target.port})`;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ChannelOpenError && err.gone) {
      return new PilotError(
        'SSH_CONNECTION_LOST',
        `the connection to ${where} dropped before the command started (${message}); nothing ran`,
        { cause: err },
      );
    }
    return new PilotError(
      'SSH_CONNECTION_LOST',
      `sshd on ${where} refused to open a session (${message}); nothing ran`,
      {
        hint: "check sshd's MaxSessions on the host; it must be above the bot's sessions per host",
        cause: err,
      },
    );
  }

  /** Reads the channel to its end under the output cap; ends the remote command when it runs past the timeout. */
  private collect(
    conn: Connection,
    session: Session,
    opts: ExecOptions,
    started: number,
    openMs: number,
  ): Promise<ExecResult> {
    const t = conn.target;
    const { channel } = session;
    const stdout = cappedOutput(opts.outputCap);
    const stderr = cappedOutput(opts.outputCap);
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];

    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      conn.running.add(channel);
      const settle = (): void => {
        if (settled) return;
        settled = true;
        conn.running.delete(channel);
        timers.forEach(clearTimeout);
        this.release(conn);
        const { exited, code: exitCode, signal } = session.exit;
        const result: ExecResult = {
          exitCode,
          signal,
          stdout: stdout.result(),
          stderr: stderr.result(),
          durationMs: Math.round(performance.now() - started),
          timedOut,
          openMs: Math.round(openMs * 10) / 10,
        };
        if (!exited && !timedOut && !conn.alive) {
          reject(
            new PilotError(
              'SSH_CONNECTION_LOST',
              `the connection to ${t.name} (${t.host}:${t.port}) dropped while the command ran; its outcome is unknown`,
              {
                details: {
                  host: t.name,
                  stdout: result.stdout.text,
                  stderr: result.stderr.text,
                  durationMs: result.durationMs,
                },
              },
            ),
          );
          return;
        }
        resolve(result);
      };
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('close', settle);
      channel.on('error', noop);
      // Ending a command: TERM to its process group (sshd ≥ 8.1 delivers `signal` requests with killpg), KILL if it
      // is still there, then close the channel, then give up waiting: the caller always gets an answer.
      const grace = this.killGraceMs;
      timers.push(
        setTimeout(() => {
          timedOut = true;
          this.log?.warn({ host: t.name, timeoutMs: opts.timeoutMs }, 'command timed out; ending it');
          channel.signal('TERM');
          timers.push(
            setTimeout(() => {
              channel.signal('KILL');
              timers.push(
                setTimeout(() => {
                  channel.close();
                  timers.push(setTimeout(settle, grace));
                }, grace),
              );
            }, grace),
          );
        }, opts.timeoutMs),
      );
    });
  }
}
