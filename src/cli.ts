/**
 * Entry point of the `runbook-pilot` command (the package's `bin`, started by bin/runbook-pilot.js). Like main.ts, the
 * only place that reads process.argv and process.env and exits.
 */
import 'dotenv/config';
import { cli } from './check/cli';

cli(
  process.argv.slice(2),
  process.env,
  (l) => process.stdout.write(`${l}\n`),
  (l) => process.stderr.write(`${l}\n`),
).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`runbook-pilot: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
