/**
 * Loads the runtime settings: environment variables (names fixed by the operators' interface) and the YAML config
 * file, validated strictly. Every failure is one PilotError whose message names the key and the fix.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PilotError } from '../errors';
import { type Config, ConfigSchema } from './schema';

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
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}

/** Reads and validates the environment and the config file. Throws PilotError (CONFIG_*) on the first problem. */
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
    config: parseConfigText(text, envSettings.configPath, { storePath: envSettings.storePath }),
  };
}

/** Defaults the environment gives to keys the config file leaves out. */
export interface ConfigDefaults {
  /** store.path when the file sets none (RUNBOOK_PILOT_STORE_PATH). */
  storePath?: string;
}

/** Parses and validates config YAML text; `source` names the file in messages. */
export function parseConfigText(text: string, source: string, defaults: ConfigDefaults = {}): Readonly<Config> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new PilotError(
      'CONFIG_INVALID_YAML',
      `config file ${source} is not valid YAML${where}: ${e.message.split('\n')[0]}`,
    );
  }
  const raw = withStorePath(doc.toJS() ?? {}, defaults.storePath);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new PilotError('CONFIG_INVALID', `config file ${source}: ${describeIssue(parsed.error.issues[0])}`);
  const config = parsed.data;
  const names = new Set<string>();
  for (const [i, host] of config.hosts.entries()) {
    if (names.has(host.name)) {
      throw new PilotError(
        'CONFIG_INVALID',
        `config file ${source}: hosts[${i}].name "${host.name}" is used twice; give each host its own name`,
      );
    }
    names.add(host.name);
  }
  return deepFreeze(config);
}

/**
 * Every problem of a config text, not just the first (for `runbook-pilot check`): one line each, with the key's path
 * and the fix. `config` is set when there are none.
 */
export function checkConfigText(text: string, source: string): { config?: Readonly<Config>; problems: string[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
        return `not valid YAML${where}: ${e.message.split('\n')[0]}; fix the YAML syntax there`;
      }),
    };
  }
  const parsed = ConfigSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => describeIssue(i)) };
  try {
    return { config: parseConfigText(text, source), problems: [] };
  } catch (err) {
    return { problems: [(err as Error).message.replace(`config file ${source}: `, '')] };
  }
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

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `unknown key ${keys.join(', ')}: remove it or check its spelling against the configuration reference`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${path} is missing: add it`;
  return `${path || '(top level)'}: ${issue.message}`;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
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
      'CONFIG_MISSING_ENV',
      `SLACK_APP_TOKEN must be an app-level token (xapp-…), got one starting "${env.SLACK_APP_TOKEN?.slice(0, 5)}"`,
      {
        hint: "create one under the app's Basic Information → App-Level Tokens with the connections:write scope",
      },
    );
  }
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PilotError('CONFIG_MISSING_ENV', `PORT must be a port number, got "${env.PORT}"`);
  }
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : undefined;
  if (
    metricsPort !== undefined &&
    (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535 || (metricsPort === port && port !== 0))
  ) {
    throw new PilotError(
      'CONFIG_MISSING_ENV',
      `METRICS_PORT must be a port number other than PORT, got "${env.METRICS_PORT}"`,
    );
  }
  if (env.SLACK_API_URL && !/^https?:\/\/[^\s]+$/.test(env.SLACK_API_URL)) {
    throw new PilotError('CONFIG_MISSING_ENV', `SLACK_API_URL must be an http(s) URL, got "${env.SLACK_API_URL}"`);
  }
  if (env.REDIS_URL && !/^rediss?:\/\/\S+$/.test(env.REDIS_URL)) {
    throw new PilotError('CONFIG_MISSING_ENV', 'REDIS_URL must be a redis:// (or rediss://) URL', {
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
    redisUrl: env.REDIS_URL || undefined,
    storePath: env.RUNBOOK_PILOT_STORE_PATH || undefined,
  };
}

function parseBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new PilotError('CONFIG_MISSING_ENV', `${name} must be true or false, got "${value}"`);
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
