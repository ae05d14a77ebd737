/**
 * The only place that reads process.env, opens ports and starts timers. A user's mistake (config, environment)
 * prints one line that says what to fix, and exits non-zero without a stack trace.
 */
import 'dotenv/config';
import { createApp } from './app';
import { loadConfig } from './config/load-config';
import { PilotError } from './errors';
import { createLogger } from './logger';

async function main(): Promise<void> {
  const settings = loadConfig({ env: process.env });
  const logger = createLogger(settings.env.logLevel);
  const pilot = await createApp({ settings, logger });
  await pilot.start();
  logger.info({ port: settings.env.port, socketMode: settings.env.socketMode }, 'runbook-pilot is ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing running actions, closing SSH connections');
    await pilot.stop();
    process.exit(0);
  };
  // Bolt 5.1 reads a signed body that parses to `null` outside any handler; that one request must not end the bot.
  process.on('unhandledRejection', (err: unknown) => logger.error({ err }, 'unhandled promise rejection; still running'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof PilotError && !err.userFacing) {
    process.stderr.write(`runbook-pilot: ${err.message}. ${err.hint[0].toUpperCase()}${err.hint.slice(1)}.\n`);
  } else if (err instanceof PilotError) {
    process.stderr.write(`runbook-pilot: ${err.message}. ${err.hint}.\n`);
  } else {
    process.stderr.write(`runbook-pilot: could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
