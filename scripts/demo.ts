/**
 * `npm run demo`: runbook-pilot without a Slack workspace. Starts the loopback test hosts (when installed), the local
 * Slack stand-in with the demo page, and the real bot; posts a HaproxyServerDown alert as Alertmanager would; prints
 * the page's address. Ctrl-C stops everything it started.
 *
 *   npm run demo                    # the page on http://127.0.0.1:3100
 *   npm run demo -- --no-alert      # start with an empty channel (fire alerts from the page)
 *   DEMO_PORT=3200 LOG_LEVEL=info npm run demo
 *
 * The setup itself is test/support/start-demo.ts, shared with the browser test.
 */
import { DEFAULT_DEMO_PORT, startDemo } from '../test/support/start-demo';

const USAGE = 'usage: npm run demo [-- --no-alert]   (environment: DEMO_PORT, default 3100; LOG_LEVEL, default warn)';

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const unknown = argv.filter((a) => a !== '--no-alert');
  if (unknown.length) {
    process.stderr.write(`demo: unknown argument ${unknown.join(' ')}\n${USAGE}\n`);
    process.exit(2);
  }
  const port = env.DEMO_PORT ? Number(env.DEMO_PORT) : DEFAULT_DEMO_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`DEMO_PORT=${env.DEMO_PORT} is not a port number: use 1-65535`);

  process.stdout.write('Starting the runbook-pilot demo (test hosts, Slack stand-in, bot)…\n');
  const demo = await startDemo({
    port,
    postAlert: !argv.includes('--no-alert'),
    logLevel: env.LOG_LEVEL || 'warn',
    freshLog: true,
  });

  const hostsLine = demo.hosts
    ? `Test hosts: sshd 127.0.0.1:${demo.hosts.ssh.port}, haproxy 127.0.0.1:${demo.hosts.haproxy.frontendPort}${demo.startedHosts ? ' (started by the demo)' : ' (already running)'}`
    : `Test hosts: not running: ${demo.hostsStatus.message ?? ''}`;
  process.stdout.write(
    [
      '',
      `  Demo page: ${demo.url}`,
      '',
      hostsLine,
      demo.alertTs
        ? 'Posted a HaproxyServerDown alert (instance 127.0.0.1:9101) as Alertmanager would.'
        : 'No alert posted (--no-alert): fire one from the page.',
      'Open the page, act as olivia.oncall (may mitigate) or ivan.intern (may not), click the runbook steps.',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(
        `demo: ${signal} again: exiting without waiting (test hosts may still run: bash test/support/hosts.sh stop)\n`,
      );
      process.exit(130);
    }
    stopping = true;
    process.stdout.write('\nStopping the demo…\n');
    demo.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2), process.env).catch((err: unknown) => {
  process.stderr.write(`demo: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
