/**
 * The only place that reads process.env, opens ports and starts timers. A user's mistake (config, environment)
 * prints one line that says what to fix, and exits non-zero without a stack trace.
 */
import 'dotenv/config';
import { createApp } from './app';
import { loadConfig } from './config/load-config';
import { createLogger } from './logger';
import { startupErrorText } from './startup-error';

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
    logger.info(
      { signal, graceMs: settings.config.shutdown.graceMs },
      'stopping: finishing running actions, closing SSH connections',
    );
    // stop() bounds each of its waits; this is the last resort if something still hangs.
    setTimeout(() => {
      logger.error('could not stop in time: exiting anyway');
      process.exit(1);
    }, settings.config.shutdown.graceMs + 20_000).unref();
    try {
      await pilot.stop();
    } catch (err) {
      logger.error({ err }, 'could not stop cleanly');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(0);
  };
  // Bolt 5.1 reads a signed body that parses to `null` outside any handler; that one request must not end the bot.
  process.on('unhandledRejection', (err: unknown) =>
    logger.error({ err }, 'unhandled promise rejection; still running'),
  );
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  // A user's mistake (config, environment, runbooks, store, Slack's answer) is one line per problem that says what to
  // fix; anything else is a bug and keeps its stack trace.
  process.stderr.write(startupErrorText(err));
  process.exit(1);
});
