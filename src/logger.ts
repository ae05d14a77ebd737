/** pino, with secrets redacted, and an adapter so Bolt logs through it. */
import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they sit in the first levels of a log object. */
const SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'clientSecret',
  'password',
  'privateKey',
  'passphrase',
  'apiToken',
];

// pino's redaction has no recursive wildcard, so each depth is listed: settings.env.botToken, host.ssh.privateKey,
// err.config.auth.password and err.config.headers.Authorization (axios errors) are the deepest the bot logs.
const DEPTHS = ['', '*.', '*.*.', '*.*.*.'];

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((key) => DEPTHS.map((d) => `${d}${key}`)),
  ...['authorization', 'Authorization', 'cookie'].flatMap((h) => DEPTHS.slice(0, 3).map((d) => `${d}headers.${h}`)),
];

/** Creates the process logger. `destination` is for tests (defaults to stdout). */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { app: 'runbook-pilot' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination,
  );
}

/** Bolt's Logger interface on top of a pino logger. */
export function boltLogger(logger: Logger): BoltLogger {
  let name = 'bolt';
  let child = logger.child({ component: name });
  const toBolt: Record<string, LogLevel> = {
    debug: LogLevel.DEBUG,
    info: LogLevel.INFO,
    warn: LogLevel.WARN,
    error: LogLevel.ERROR,
  };
  return {
    debug: (...msg: unknown[]) => child.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => child.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) =>
      child.error(msg.map((m) => (m instanceof Error ? (m.stack ?? m.message) : String(m))).join(' ')),
    setLevel: (level: LogLevel) => {
      child.level = level;
    },
    getLevel: () => toBolt[child.level] ?? LogLevel.INFO,
    setName: (n: string) => {
      name = n;
      child = logger.child({ component: name });
    },
  };
}
