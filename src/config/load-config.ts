/**
 * Loads the runtime settings: environment variables (names fixed by the operators' interface) and the YAML config
 * file, validated strictly. Every failure is one PilotError whose message names the key and the fix.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { PilotError } from '../errors';
import { describeIssue, formatPath } from './describe-issue';
import { type Config, ConfigSchema } from './schema';
import { openedBefore, positionOf } from './yaml-positions';

export interface EnvSettings {
  botToken: string;
  signingSecret: string;
  appToken?: string;
  socketMode: boolean;
  /** Base URL of the Slack Web API; undefined means Slack's own. */
  apiUrl?: string;
  port: number;
  /** METRICS_PORT: /metrics on its own port (and then not on `port`); undefined: on `port`. */
  metricsPort?: number;
  configPath: string;
  logLevel: string;
  /** DATABASE_URL: the Postgres store when the config has no store.url. */
  databaseUrl?: string;
  /**
   * DATABASE_PASSWORD: the Postgres password, put into the store's URL percent-encoded, so one with `@ : /` works
   * (docker-compose passes POSTGRES_PASSWORD here rather than into the URL).
   */
  databasePassword?: string;
  /** REDIS_URL: the Redis of the shared limits when the config has no limits.redis.url. */
  redisUrl?: string;
  /**
   * RUNBOOK_PILOT_STORE_PATH: the SQLite file when the config has no store.path (the Docker image sets
   * /data/runbook-pilot.db, its data volume: the image's /app is not writable by the user the bot runs as).
   */
  storePath?: string;
}

export interface Settings {
  env: EnvSettings;
  config: Readonly<Config>;
  /**
   * The environment itself, where hosts' privateKeyEnv and passphraseEnv are read (passed in, never process.env read
   * deep inside). Unset: none (a host's key must then come from a file).
   */
  environment?: NodeJS.ProcessEnv;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}

/**
 * Reads and validates the environment and the config file. Throws PilotError (CONFIG_*): the first problem of the
 * environment, or every problem of the config file at once.
 */
export function loadConfig({
  env = process.env,
  readFile = (p) => readFileSync(p, 'utf8'),
}: LoadConfigOptions = {}): Settings {
  const envSettings = readEnv(env);
  let text: string;
  try {
    text = readFile(envSettings.configPath);
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${(err as Error).message})`;
    throw new PilotError('CONFIG_UNREADABLE', `config file ${envSettings.configPath} ${reason}`, {
      hint: 'set RUNBOOK_PILOT_CONFIG to your config file, or copy config.example.yml to config.yml',
    });
  }
  return {
    env: envSettings,
    config: parseConfigText(text, envSettings.configPath, { storePath: envSettings.storePath, env }),
    environment: env,
  };
}

/** Defaults the environment gives to keys the config file leaves out, and the environment `${VAR}` reads. */
export interface ConfigDefaults {
  /** store.path when the file sets none (RUNBOOK_PILOT_STORE_PATH). */
  storePath?: string;
  /** Where `${NAME}` placeholders in config values are read (default: none set, so a placeholder is an error). */
  env?: NodeJS.ProcessEnv;
}

/** One problem of a config text: where (line and column, 1-based), which key, what is wrong, what to do. */
export interface ConfigProblem {
  level: 'error' | 'warning';
  line?: number;
  col?: number;
  /** The key's path (`limits.perHost.concurrency`); empty for a YAML syntax error. */
  key: string;
  message: string;
  fix?: string;
}

/** `config.yml:12:18: limits.perHost.concurrency: expected an integer, got "two"; fix` — one line. */
export function formatConfigProblem(source: string, p: ConfigProblem): string {
  const where = p.line ? `${source}:${p.line}:${p.col ?? 1}` : source;
  return `${where}: ${p.key ? `${p.key}: ` : ''}${p.message}${p.fix ? `; ${p.fix}` : ''}`;
}

/**
 * Parses and validates config YAML text; `source` names the file in messages. Throws one PilotError that lists every
 * problem (one line each, in its `details.problems`), so start-up shows all of them as `check` does.
 */
export function parseConfigText(text: string, source: string, defaults: ConfigDefaults = {}): Readonly<Config> {
  const { config, problems } = checkConfigText(text, { ...defaults, placeholders: 'strict' });
  const errors = problems.filter((p) => p.level === 'error');
  if (config && errors.length === 0) return config;
  const lines = errors.map((p) => formatConfigProblem(source, p));
  const yamlError = errors.length > 0 && errors.every((p) => p.key === '' && p.message.startsWith('not valid YAML'));
  throw new PilotError(
    yamlError ? 'CONFIG_INVALID_YAML' : 'CONFIG_INVALID',
    errors.length === 1 ? lines[0] : `config file ${source} has ${errors.length} problems:\n  ${lines.join('\n  ')}`,
    { details: { problems: lines } },
  );
}

/** The line and column of a key's value in the checked text (for problems found after the schema, e.g. key files). */
export type Locate = (path: ReadonlyArray<PropertyKey>) => { line: number; col: number } | undefined;

export interface CheckConfigOptions extends ConfigDefaults {
  /**
   * `strict` (start-up): an unset `${NAME}` is an error. `lenient` (`runbook-pilot check`, often run where the bot's
   * secrets are not): a warning, and the placeholder text stands in for the value.
   */
  placeholders?: 'strict' | 'lenient';
}

/**
 * Every problem of a config text, not just the first (for `runbook-pilot check` and start-up): each with its line,
 * column, key and fix. `config` is set when there are no errors.
 */
export function checkConfigText(
  text: string,
  opts: CheckConfigOptions = {},
): { config?: Readonly<Config>; problems: ConfigProblem[]; locate?: Locate } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    // A tab used as indentation makes every line below it look mis-indented: those follow-on errors only hide it.
    const tabs = doc.errors.filter((e) => e.code === 'TAB_AS_INDENT');
    return { problems: (tabs.length ? tabs : doc.errors).map((e) => yamlProblem(text, lines, e)) };
  }
  const problems: ConfigProblem[] = [];
  const at = (path: ReadonlyArray<PropertyKey>, target: 'value' | 'key' | 'parent') =>
    positionOf(doc, lines, path, target) ?? {};
  const withEnv = expandPlaceholders(doc.toJS() ?? {}, opts.env ?? {}, [], (path, name) =>
    problems.push({
      level: opts.placeholders === 'lenient' ? 'warning' : 'error',
      ...at(path, 'value'),
      key: formatPath(path),
      message: `environment variable ${name} is not set${opts.placeholders === 'lenient' ? ' here' : ''}`,
      fix:
        opts.placeholders === 'lenient'
          ? `the bot needs it where it runs: set ${name} there (environment or .env)`
          : `set ${name} in the environment or in .env, or write the value in place of \${${name}}`,
    }),
  );
  const raw = withStorePath(withEnv, opts.storePath);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const described = parsed.error.issues.flatMap((issue) => describeIssue(issue, raw, ConfigSchema));
    // `chanels:` makes `channels` missing too: the guess says it all, once.
    const meant = new Set(described.map((d) => d.meant).filter(Boolean));
    for (const d of described)
      if (!(d.message === 'missing' && meant.has(d.key)))
        problems.push({ level: 'error', ...at(d.at.path, d.at.target), key: d.key, message: d.message, fix: d.fix });
    return { problems: sortByLine(problems) };
  }
  const config = parsed.data;
  const names = new Map<string, number>();
  for (const [i, host] of config.hosts.entries()) {
    const first = names.get(host.name);
    if (first !== undefined)
      problems.push({
        level: 'error',
        ...at(['hosts', i, 'name'], 'value'),
        key: `hosts[${i}].name`,
        message: `"${host.name}" is used twice (also hosts[${first}])`,
        fix: 'give each host its own name',
      });
    else names.set(host.name, i);
  }
  if (problems.some((p) => p.level === 'error')) return { problems: sortByLine(problems) };
  return { config: deepFreeze(config), problems, locate: (path) => positionOf(doc, lines, path, 'value') };
}

function sortByLine(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** A YAML syntax error, at the place the mistake was made (an unclosed quote or bracket: where it opened). */
function yamlProblem(text: string, lines: LineCounter, e: YAMLError): ConfigProblem {
  const firstLine = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const kind = /quote/i.test(firstLine) ? 'quote' : /flow|[\]}]/.test(firstLine) ? 'bracket' : undefined;
  const opened = kind ? openedBefore(text, e.pos[0], kind) : undefined;
  const pos = opened !== undefined ? lines.linePos(opened) : lines.linePos(e.pos[0]);
  const what =
    opened === undefined
      ? firstLine
      : kind === 'quote'
        ? 'this quote is never closed'
        : 'this bracket is never closed (or a line inside it is indented less than the key)';
  return {
    level: 'error',
    line: pos.line,
    col: pos.col,
    key: '',
    message: `not valid YAML: ${what}`,
    fix:
      opened === undefined
        ? (SYNTAX_FIXES[e.code] ?? 'fix the YAML syntax there')
        : kind === 'quote'
          ? 'close the quote at the end of the value'
          : 'close it (] or }) at the end of the value',
  };
}

const SYNTAX_FIXES: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'indent the keys of one map by the same number of spaces',
  DUPLICATE_KEY: 'each key may appear once in a map: merge the two',
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": " (token: "a: b")',
};

/**
 * `${NAME}` in a config value is read from the environment (`$${` is a literal `${`), so secrets stay out of the file.
 * Not under `hosts[].commands`: those are shell templates, where `${…}` is the shell's own.
 */
function expandPlaceholders(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: PropertyKey[],
  unset: (path: PropertyKey[], name: string) => void,
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(/\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      const v = env[name];
      if (v === undefined || v === '') {
        unset(path, name);
        return whole;
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandPlaceholders(v, env, [...path, i], unset));
  if (value !== null && typeof value === 'object') {
    const shellTemplates = path.length === 2 && path[0] === 'hosts' && typeof path[1] === 'number';
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        shellTemplates && k === 'commands' ? v : expandPlaceholders(v, env, [...path, k], unset),
      ]),
    );
  }
  return value;
}

/** The raw config with `store.path` set to `storePath` when the file sets none (the file wins over the environment). */
function withStorePath(raw: unknown, storePath: string | undefined): unknown {
  if (!storePath || !isPlainObject(raw)) return raw;
  const store = raw.store ?? {};
  if (!isPlainObject(store) || store.path !== undefined) return raw;
  return { ...raw, store: { ...store, path: storePath } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readEnv(env: NodeJS.ProcessEnv): EnvSettings {
  const socketMode = parseBool(env.SLACK_SOCKET_MODE, 'SLACK_SOCKET_MODE');
  const required = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', ...(socketMode ? ['SLACK_APP_TOKEN'] : [])];
  for (const name of required) {
    if (!env[name]) {
      throw new PilotError('CONFIG_MISSING_ENV', `environment variable ${name} is not set`, {
        hint: `set ${name} in the environment or in .env (see .env.example)`,
      });
    }
  }
  // A bot token here makes Slack answer not_allowed_token_type, which the Socket Mode client retries without end.
  if (socketMode && !env.SLACK_APP_TOKEN?.startsWith('xapp-')) {
    throw new PilotError(
      'CONFIG_INVALID_ENV',
      `SLACK_APP_TOKEN must be an app-level token (xapp-…), got one starting "${env.SLACK_APP_TOKEN?.slice(0, 5)}"`,
      {
        hint: "create one under the app's Basic Information → App-Level Tokens with the connections:write scope",
      },
    );
  }
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PilotError('CONFIG_INVALID_ENV', `PORT must be a port number, got "${env.PORT}"`);
  }
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : undefined;
  if (
    metricsPort !== undefined &&
    (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535 || (metricsPort === port && port !== 0))
  ) {
    throw new PilotError(
      'CONFIG_INVALID_ENV',
      `METRICS_PORT must be a port number other than PORT, got "${env.METRICS_PORT}"`,
    );
  }
  if (env.SLACK_API_URL && !/^https?:\/\/[^\s]+$/.test(env.SLACK_API_URL)) {
    throw new PilotError('CONFIG_INVALID_ENV', `SLACK_API_URL must be an http(s) URL, got "${env.SLACK_API_URL}"`);
  }
  if (env.REDIS_URL && !/^rediss?:\/\/\S+$/.test(env.REDIS_URL)) {
    throw new PilotError('CONFIG_INVALID_ENV', 'REDIS_URL must be a redis:// (or rediss://) URL', {
      hint: 'set REDIS_URL to redis://host:6379 (with :password@ if Redis asks for one), or unset it',
    });
  }
  return {
    botToken: env.SLACK_BOT_TOKEN as string,
    signingSecret: env.SLACK_SIGNING_SECRET as string,
    appToken: env.SLACK_APP_TOKEN || undefined,
    socketMode,
    apiUrl: env.SLACK_API_URL ? withTrailingSlash(env.SLACK_API_URL) : undefined,
    port,
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    configPath: env.RUNBOOK_PILOT_CONFIG || './config.yml',
    logLevel: env.LOG_LEVEL || 'info',
    databaseUrl: env.DATABASE_URL || undefined,
    ...(env.DATABASE_PASSWORD ? { databasePassword: env.DATABASE_PASSWORD } : {}),
    redisUrl: env.REDIS_URL || undefined,
    storePath: env.RUNBOOK_PILOT_STORE_PATH || undefined,
  };
}

function parseBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new PilotError('CONFIG_INVALID_ENV', `${name} must be true or false, got "${value}"`);
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
