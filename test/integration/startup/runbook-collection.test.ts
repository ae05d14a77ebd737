/**
 * The real bot starts with a collection that has broken files in it (the fixture collection): the usable runbooks are
 * served, and each skipped file is one warning line in the log naming the file and the fix.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../../src/app';
import { parseConfigText } from '../../../src/config/load-config';
import { createLogger } from '../../../src/logger';
import { SlackStandIn } from '../../support/slack-standin';

const collection = join(__dirname, '../../fixtures/runbooks/collection');

it('starts with the usable runbooks of a collection and logs one warning line per skipped file', async () => {
  const slack = new SlackStandIn({ channels: { C0123ALERTS: 'incidents' } });
  const { apiUrl } = await slack.start();
  const dir = mkdtempSync(join(tmpdir(), 'rbp-collection-'));
  const lines: Array<{ level: number; msg: string; file?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const config = parseConfigText(
    `slack: { channels: [C0123ALERTS] }\nalertmanager: { token: a-token }\nrunbooks: ${JSON.stringify(collection)}\nstore: { path: ${JSON.stringify(join(dir, 'p.db'))} }\n`,
    'config.yml',
  );
  const pilot = await createApp({
    settings: {
      config,
      env: {
        botToken: slack.botToken,
        signingSecret: 'secret',
        socketMode: false,
        apiUrl,
        port: 0,
        configPath: 'config.yml',
        logLevel: 'warn',
      },
    },
    logger: createLogger('warn', sink),
  });
  try {
    const port = await pilot.start();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(pilot.deps.runbooks.list()).toHaveLength(10);
    const runbookLines = lines.filter((l) => l.msg.startsWith('runbook: '));
    expect(runbookLines).toHaveLength(8);
    for (const l of runbookLines) {
      expect(l.level).toBe(40);
      expect(l.msg).toContain(`${l.file}: `);
      expect(l.msg).not.toContain('\n');
    }
    expect(runbookLines.map((l) => l.msg)).toContainEqual(
      expect.stringMatching(/HaproxyRetryHigh\.md: empty file, skipped; write the runbook/),
    );
  } finally {
    await pilot.stop();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
