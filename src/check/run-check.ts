/**
 * `runbook-pilot check`: validates what the bot would load — the config, every runbook and binding, every action's
 * command template built with sample parameters — and, with `--hosts`, connects to every configured host. In the
 * style of `promtool check` / `amtool check-config`: one line per problem naming the file and the fix, a summary, and
 * a result the caller turns into the exit code (errors fail; warnings do not).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { buildCommand } from '../actions/build-command';
import { builtinActions } from '../actions/catalog';
import { shellQuote } from '../actions/shell-quote';
import type { ActionSpec } from '../actions/types';
import { configWarnings } from '../config/config-warnings';
import { checkConfigText } from '../config/load-config';
import type { Config, HostConfig } from '../config/schema';
import { PilotError } from '../errors';
import { type KeySourceDeps, keySourceProblems, systemKeySourceDeps } from '../exec/key-sources';
import type { Executor, SshTarget } from '../exec/types';
import { assertWebhookClosed } from '../ingest/webhook-auth';
import { loadRunbookCollection } from '../runbook/load-runbooks';
import { describeNonCatalogCommand, nonCatalogCommands } from '../runbook/non-catalog-commands';
import type { Runbook } from '../runbook/types';
import { sampleContext, sampleHost } from './sample-params';

export interface CheckOptions {
  configPath: string;
  /** Also connect to every configured host. */
  hosts: boolean;
  /** Folder relative paths are resolved against, as the bot does (its working directory). */
  cwd: string;
  /** Runs commands on hosts (the SSH pool); needed with `hosts`. */
  executor?: Executor;
  /**
   * The environment `${NAME}` placeholders and privateKeyEnv are read from (the bot's, when run where it runs);
   * default none (every placeholder and key variable is then reported unset).
   */
  env?: NodeJS.ProcessEnv;
  /** Writes one line of output. */
  out(line: string): void;
  /** How key files are read and keys parsed (default: this machine's files, ssh2's parser). */
  keySources?: KeySourceDeps;
  /** Whether a host's SSH server answers from here (default: its banner within 2 s). */
  reachable?: (host: string, port: number, timeoutMs: number) => Promise<boolean>;
}

export interface CheckResult {
  errors: number;
  warnings: number;
}

type Level = 'error' | 'warning';

/** Runs every check and prints as it goes; resolves with the counts (never throws for a problem it found). */
export async function runCheck(opts: CheckOptions): Promise<CheckResult> {
  const result: CheckResult = { errors: 0, warnings: 0 };
  const problem = (level: Level, file: string, message: string, fix?: string): void => {
    result[level === 'error' ? 'errors' : 'warnings']++;
    opts.out(`  ${level}: ${file}: ${message}${fix ? `; ${fix}` : ''}`);
  };
  const configFile = opts.configPath;

  // 1. The config.
  opts.out(`Checking ${configFile}`);
  let text: string;
  try {
    text = readFileSync(resolve(opts.cwd, configFile), 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    problem(
      'error',
      configFile,
      missing ? 'does not exist' : `cannot be read (${(err as Error).message})`,
      'pass --config FILE, set RUNBOOK_PILOT_CONFIG, or copy config.example.yml to config.yml',
    );
    return finish(opts, result);
  }
  // Lenient placeholders: check often runs where the bot's secrets are not (CI); an unset one is a warning.
  const checked = checkConfigText(text, { env: opts.env ?? {}, placeholders: 'lenient' });
  for (const p of checked.problems)
    problem(
      p.level,
      p.line ? `${configFile}:${p.line}:${p.col ?? 1}` : configFile,
      `${p.key ? `${p.key}: ` : ''}${p.message}`,
      p.fix,
    );
  const config = checked.config;
  if (!config) return finish(opts, result);
  try {
    assertWebhookClosed(config);
  } catch (err) {
    // The bot would refuse to start with this config: an error here too.
    problem('error', configFile, (err as PilotError).message, (err as PilotError).hint);
  }
  await checkKeySources(config, opts, (level, path, message, fix) => {
    const pos = checked.locate?.(path);
    problem(level, pos ? `${configFile}:${pos.line}:${pos.col}` : configFile, message, fix);
  });
  for (const w of configWarnings(config)) {
    const [message, ...fix] = w.split(': ');
    problem('warning', configFile, message, fix.join(': '));
  }
  if (!checked.problems.some((p) => p.level === 'error'))
    opts.out(`  ok: ${config.hosts.length} host(s), ${config.slack.channels.length} channel(s)`);

  // 2. The runbooks and their bindings.
  const folder = isAbsolute(config.runbooks) ? config.runbooks : resolve(opts.cwd, config.runbooks);
  opts.out(`Checking runbooks in ${config.runbooks}`);
  let runbooks: Runbook[] = [];
  try {
    const loaded = loadRunbookCollection(folder, builtinActions, {
      displayDir: config.runbooks,
      readActions: config.mitigation.readActions,
    });
    for (const p of loaded.problems) problem(p.level, p.file, p.problem, p.fix);
    runbooks = loaded.registry.list();
    const bound = runbooks.filter((rb) => rb.binding).length;
    opts.out(
      `  ok: ${runbooks.length} runbook(s) loaded from ${loaded.files} file(s), ${bound} with a binding, ${runbooks.reduce((n, rb) => n + rb.steps.filter((s) => s.kind === 'action').length, 0)} automated step(s)`,
    );
  } catch (err) {
    problem(
      'error',
      config.runbooks,
      (err as Error).message.replace(/^cannot read the runbook folder [^:]*: /, 'cannot read the folder: '),
      'set runbooks: in the config to the runbook folder (relative to where the bot runs)',
    );
  }
  // Paths as the config names the folder, like the loader's problems.
  const shown = (file: string): string =>
    file.startsWith(folder) ? join(config.runbooks, relative(folder, file)) : file;
  checkBindingHosts(config, runbooks, shown, problem);

  // 3. Every action's command, built with sample parameters, must parse as shell.
  const actions = collectActions(runbooks, shown);
  opts.out(`Checking ${actions.length} action(s) with sample parameters`);
  const hosts = config.hosts.length ? config.hosts : [sampleHost()];
  let built = 0;
  for (const { action, file } of actions) {
    // A host's override replaces the template for that host only: build each override on its host, the rest once.
    const targets = [
      hosts.find((h) => !h.commands[action.id]) ?? hosts[0],
      ...hosts.filter((h) => h.commands[action.id]),
    ];
    for (const host of new Set(targets)) {
      const where = host.commands[action.id] ? `${configFile} (hosts[${host.name}].commands.${action.id})` : file;
      const ctx = sampleContext(action);
      try {
        const cmd = buildCommand(action, { labels: ctx.labels, input: ctx.input, server: ctx.server, host });
        const syntax = shellSyntaxError(cmd.command);
        if (syntax)
          problem(
            'error',
            where,
            `action ${action.id}: the command does not parse as shell with sample parameters: ${syntax}`,
            'fix the command template',
          );
        else built++;
      } catch (err) {
        const msg = err instanceof PilotError ? err.message : String(err);
        problem(
          'error',
          where,
          `action ${action.id} cannot be built for host ${host.name}: ${msg}`,
          err instanceof PilotError && err.code === 'PARAM_INVALID'
            ? "set the host's value in the config, or fix the parameter's source"
            : 'fix the command template',
        );
      }
    }
  }
  // Commands from bindings are allowed, never silent: a reviewer sees each (#12), and how the bot treats it: a
  // binding's `risk: read` holds only when the config trusts it (#19 §6).
  const readActions = config.mitigation.readActions ?? {};
  const brought = nonCatalogCommands(runbooks, readActions);
  for (const c of brought)
    problem(
      'warning',
      shown(c.file),
      describeNonCatalogCommand(c),
      c.why === 'not-listed' || c.why === 'command-differs'
        ? `review it; if it only reads, list it under mitigation.readActions in ${configFile} as ${c.actionId}: "<its exact command>"`
        : 'review it: the bot may run it like a catalog action',
    );
  for (const id of Object.keys(readActions)) {
    if (builtinActions.some((a) => a.id === id))
      problem(
        'warning',
        configFile,
        `mitigation.readActions.${id}: ${id} is a catalog action; its risk is the catalog's, this entry is ignored`,
        'remove the entry',
      );
    else if (!brought.some((c) => c.actionId === id))
      problem(
        'warning',
        configFile,
        `mitigation.readActions.${id}: no binding brings an action with this id`,
        'remove the entry, or fix the id',
      );
  }
  for (const host of config.hosts) {
    for (const id of Object.keys(host.commands)) {
      if (!actions.some((a) => a.action.id === id))
        problem(
          'error',
          configFile,
          `hosts[${host.name}].commands.${id}: no action has this id`,
          `use one of the action ids (${builtinActions
            .map((a) => a.id)
            .slice(0, 6)
            .join(', ')}, …)`,
        );
    }
  }
  if (built) opts.out(`  ok: ${built} command(s) built and parsed`);

  // 4. The hosts themselves.
  if (opts.hosts) {
    opts.out(`Checking ${config.hosts.length} host(s) over SSH`);
    if (!config.hosts.length) problem('warning', configFile, 'no hosts are configured', 'add them under hosts:');
    if (!opts.executor) throw new Error('runCheck: hosts needs an executor');
    for (const host of config.hosts) await checkHost(host, opts.executor, opts.out, problem);
  }
  return finish(opts, result);
}

/**
 * Every host's key source (file or variable): missing, unreadable or not a private key is an error where the bot runs.
 * `check` often runs elsewhere (CI, a laptop) where the keys are not: when the host's SSH port does not answer from
 * here either, the problem is a warning that says so; with --hosts (connecting is the point) always an error.
 */
async function checkKeySources(
  config: Readonly<Config>,
  opts: CheckOptions,
  problem: (level: Level, path: Array<string | number>, message: string, fix: string) => void,
): Promise<void> {
  const found = keySourceProblems(config.hosts, opts.keySources ?? systemKeySourceDeps(opts.env ?? {}));
  const reachable = opts.reachable ?? sshAnswers;
  const answers = await Promise.all(
    found.map((p) => {
      const host = config.hosts.find((h) => h.name === p.host);
      return opts.hosts || !host
        ? true
        : reachable(host.ssh.host, host.ssh.port, Math.min(host.ssh.connectTimeoutMs, 2000));
    }),
  );
  found.forEach((p, i) => {
    const host = config.hosts.find((h) => h.name === p.host);
    if (answers[i]) problem('error', p.path, `${p.key}: ${p.message}`, p.fix);
    else
      problem(
        'warning',
        p.path,
        `${p.key}: ${p.message} here, and no SSH server answers at ${host?.ssh.host}:${host?.ssh.port} from here either (not the bot's machine?)`,
        `make sure it is right where the bot runs: ${p.fix} (there, runbook-pilot check --hosts connects too)`,
      );
  });
}

/**
 * Whether an SSH server answers at host:port within `timeoutMs`: its banner (`SSH-2.0-…`), not only an open TCP
 * connection, which a proxy or firewall in between may accept for anything.
 */
export function sshAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    let seen = '';
    const end = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => end(false));
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      // RFC 4253 4.2: the server may send other lines before its identification string.
      if (/(^|\n)SSH-/.test(seen)) end(true);
      else if (seen.length > 8192) end(false);
    });
    socket.once('error', () => end(false));
    socket.once('close', () => end(false));
  });
}

function finish(opts: CheckOptions, r: CheckResult): CheckResult {
  opts.out(
    r.errors ? `FAILED: ${r.errors} error(s), ${r.warnings} warning(s)` : `SUCCESS: 0 errors, ${r.warnings} warning(s)`,
  );
  return r;
}

/** The catalog's actions and every action a binding brings, with the file that defines each. */
function collectActions(
  runbooks: readonly Runbook[],
  shown: (file: string) => string,
): Array<{ action: ActionSpec; file: string }> {
  const out = builtinActions.map((action) => ({ action, file: 'src/actions/catalog.ts' }));
  for (const rb of runbooks)
    for (const action of rb.binding?.actions ?? []) out.push({ action, file: shown(rb.bindingFile ?? rb.file) });
  return out;
}

/** A binding's `hosts:` must name configured hosts or groups, or its alerts can run nowhere: one line per unknown name. */
function checkBindingHosts(
  config: Readonly<Config>,
  runbooks: readonly Runbook[],
  shown: (file: string) => string,
  problem: (level: Level, file: string, message: string, fix?: string) => void,
): void {
  const known = new Set(config.hosts.flatMap((h) => [h.name, ...(h.group ? [h.group] : [])]));
  const unknown = new Map<string, string[]>();
  for (const rb of runbooks) {
    for (const name of rb.binding?.hosts ?? [])
      if (!known.has(name)) unknown.set(name, [...(unknown.get(name) ?? []), shown(rb.bindingFile ?? rb.file)]);
  }
  for (const [name, files] of unknown) {
    const more = files.length > 1 ? ` (and ${files.length - 1} other binding(s))` : '';
    problem(
      'warning',
      files[0],
      `hosts: ${name} is neither a configured host nor a host group${more}`,
      `give the hosts these alerts may come from group: ${name} in the config, or fix the binding`,
    );
  }
}

/** `sh -n`: the first syntax error of a command, or undefined when it parses. */
export function shellSyntaxError(command: string): string | undefined {
  const res = spawnSync('sh', ['-n'], { input: command, encoding: 'utf8', timeout: 10_000 });
  if (res.error) return `sh could not run (${res.error.message})`;
  return res.status === 0
    ? undefined
    : (res.stderr.trim().split('\n')[0] ?? `exit ${res.status}`).replace(/^sh: (\d+): /, 'line $1: ');
}

/** Connects to a host (the pinned host key is checked by the pool), runs `true`, and asks HAProxy's socket. */
async function checkHost(
  host: HostConfig,
  executor: Executor,
  out: (line: string) => void,
  problem: (level: Level, file: string, message: string, fix?: string) => void,
): Promise<void> {
  const target: SshTarget = { name: host.name, ...host.ssh };
  const where = `${host.name} (${host.ssh.user}@${host.ssh.host}:${host.ssh.port})`;
  let ms: number;
  try {
    const res = await executor.run(target, 'true', { timeoutMs: host.ssh.connectTimeoutMs + 5000, outputCap: 4096 });
    if (res.exitCode !== 0) {
      problem(
        'error',
        where,
        `\`true\` exited ${res.exitCode}${res.stderr.text ? `: ${res.stderr.text.trim().split('\n')[0]}` : ''}`,
        "check the user's login shell and forced commands in authorized_keys",
      );
      return;
    }
    ms = Math.round(res.durationMs);
  } catch (err) {
    const e = err instanceof PilotError ? err : undefined;
    problem('error', where, `ssh: ${e?.message ?? String(err)}`, e?.hint ?? 'see the SSH settings of this host');
    return;
  }
  const keyNote = host.ssh.insecureAcceptAnyHostKey
    ? 'any host key accepted (insecureAcceptAnyHostKey)'
    : host.ssh.hostKey
      ? `host key ${host.ssh.hostKey} verified`
      : `host key verified against ${host.ssh.knownHostsPath}`;
  if (host.ssh.insecureAcceptAnyHostKey)
    problem(
      'warning',
      where,
      'the host key was not verified (insecureAcceptAnyHostKey)',
      'pin ssh.hostKey (SHA256:…, from ssh-keygen -lf)',
    );
  const S = shellQuote(host.haproxy.socket);
  const probe = [
    `S=${S}`,
    '[ -S "$S" ] || { echo "missing"; exit 3; }',
    'command -v socat >/dev/null 2>&1 || { echo "no socat"; exit 4; }',
    `a=$(printf 'show info\\n' | socat -T2 stdio "UNIX-CONNECT:$S" 2>&1) || { echo "refused: $a" | head -n 1; exit 5; }`,
    'printf %s "$a" | grep -m1 "^Version:" || { echo "no answer"; exit 5; }',
  ].join('\n');
  let socket: string;
  try {
    const res = await executor.run(target, probe, { timeoutMs: 10_000, outputCap: 4096 });
    const text = res.stdout.text.trim();
    if (res.exitCode === 0)
      socket = `haproxy socket ${host.haproxy.socket} answers show info (${text.replace(/^Version:\s*/, 'HAProxy ')})`;
    else {
      const why =
        res.exitCode === 3
          ? 'does not exist'
          : res.exitCode === 4
            ? 'cannot be asked: socat is not installed'
            : `is not readable by ${host.ssh.user}: ${text}`;
      const fix =
        res.exitCode === 3
          ? "fine if this host runs no HAProxy; else set hosts[].haproxy.socket to HAProxy's `stats socket` path"
          : res.exitCode === 4
            ? 'install socat on the host (the HAProxy steps use it)'
            : `give ${host.ssh.user} access to the socket (stats socket … mode 660 group …)`;
      problem(res.exitCode === 3 ? 'warning' : 'error', where, `haproxy socket ${host.haproxy.socket} ${why}`, fix);
      socket = '';
    }
  } catch (err) {
    problem(
      'error',
      where,
      `haproxy socket check: ${(err as Error).message}`,
      'run the check again; see the SSH settings of this host',
    );
    return;
  }
  out(`  ok: ${where}: ${keyNote}, \`true\` ran in ${ms} ms${socket ? `; ${socket}` : ''}`);
}
