/**
 * Issue #19 §4 through the real bot, on each store: a webhook alert whose labels and annotations carry every control
 * character is answered 202 and becomes an incident. Before the fix Postgres refused the NUL (`invalid byte sequence
 * for encoding "UTF8": 0x00`) after the webhook had answered 202, and the alert was lost.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Incident } from '../../../src/incident/types';
import { REPLACED } from '../../../src/ingest/clean-alert-text';
import { datastoresUnavailable, freshDatabase } from '../../support/datastores';
import { type Harness, startHarness } from '../../support/pilot-harness';

const EVERY_CONTROL = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
]
  .map((c) => String.fromCharCode(c))
  .join('');

const FIXTURE = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'alertmanager', 'by-instance.webhook.firing.json'), 'utf8'),
) as { alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> };

/** The captured webhook payload with one alert for `server`, its `note` label and description carrying `text`. */
function payload(server: string, text: string): unknown {
  const body = structuredClone(FIXTURE);
  const { fingerprint: _f, ...template } = body.alerts[0] as Record<string, unknown> & {
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  body.alerts = [
    {
      ...template,
      labels: { ...template.labels, server, note: `n${text}n` },
      annotations: { ...template.annotations, description: `d${text}d`, [`odd${text}key`]: 'v' },
    },
  ];
  return body;
}

const pgReason = datastoresUnavailable();

describe.each([
  ['SQLite', async () => ({ config: {}, drop: async () => undefined })],
  [
    'Postgres',
    async () => {
      const db = await freshDatabase('ctl');
      return { config: { store: { path: '/nonexistent-dir/unused.db', url: db.url } }, drop: db.drop };
    },
  ],
] as const)('security: every control character in an alert, on %s (#19 §4)', (store, open) => {
  const run = store === 'Postgres' && pgReason ? it.skip : it;
  let h: Harness | undefined;
  let drop: () => Promise<void> = async () => undefined;
  afterAll(async () => {
    await h?.stop();
    await drop();
  });

  run(
    'is answered 202 and becomes an incident, its control characters shown as U+FFFD',
    async () => {
      const made = await open();
      drop = made.drop;
      // one alert at a time: once the clean alert sent second is an incident, the first has been handled
      h = await startHarness({ config: { ...made.config, ingest: { concurrency: 1 } } });
      expect((await h.webhook(payload('web-ctl', EVERY_CONTROL))).status).toBe(202);
      expect((await h.webhook(payload('web-clean', 'plain'))).status).toBe(202);

      const deadline = Date.now() + 15_000;
      let open_: Incident[] = [];
      while (!open_.some((i) => i.alert.labels.server === 'web-clean')) {
        if (Date.now() > deadline) throw new Error('the second alert never became an incident');
        await new Promise((r) => setTimeout(r, 50));
        open_ = (await h.pilot.deps.store.listOpen()) as Incident[];
      }
      const ctl = open_.find((i) => i.alert.labels.server === 'web-ctl');
      expect(ctl).toBeDefined();
      const stored = (await h.pilot.deps.store.get((ctl as Incident).id)) as Incident;
      expect(stored.alert.labels.note).toBe(`n${REPLACED.repeat(EVERY_CONTROL.length)}n`);
      // the description keeps its tab and line breaks
      expect(stored.alert.annotations.description).toBe(
        `d${[...EVERY_CONTROL].map((c) => ('\t\n\r'.includes(c) ? c : REPLACED)).join('')}d`,
      );
      expect(stored.alert.annotations[`odd${REPLACED.repeat(EVERY_CONTROL.length)}key`]).toBe('v');
    },
    40_000,
  );
});
