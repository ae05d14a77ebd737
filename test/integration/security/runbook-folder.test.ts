/**
 * Issue #19 §5 through `runbook-pilot check` and the loader the bot starts with: the runbook folder may be writable by
 * more people than the config. A link to a file outside the folder is not read (before, /etc/shadow's lines were
 * printed as "unknown keys"), no problem quotes a file beyond a short escaped excerpt of a key, and a file over the
 * size cap is not read (a 16.9 MB binding took 2.1 GB in `check`).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import { runCheck } from '../../../src/check/run-check';
import { formatRunbookProblem, loadRunbookCollection, MAX_RUNBOOK_BYTES } from '../../../src/runbook/load-runbooks';

const REPO = join(__dirname, '..', '..', '..');
const SECRET = 'S3CRET-HASH-0123456789';

describe('security: the runbook folder (#19 §5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-rb-folder-'));
  const runbooks = join(dir, 'runbooks');
  beforeAll(() => {
    mkdirSync(runbooks);
    // A file outside the folder, shaped like a YAML mapping so a parser would name its lines as keys.
    const secret = join(dir, 'shadow');
    writeFileSync(secret, `root_${SECRET}: x\ndaemon_${SECRET}: y\n`);
    copyFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.md'), join(runbooks, 'HaproxyServerDown.md'));
    symlinkSync(secret, join(runbooks, 'HaproxyServerDown.yml'));
    // A runbook linked from outside, too.
    writeFileSync(join(dir, 'outside.md'), `---\ntitle: ${SECRET}\n---\n# ${SECRET}\n`);
    symlinkSync(join(dir, 'outside.md'), join(runbooks, 'Outside.md'));
    // A binding over the cap, and one whose unknown keys are long and hold control characters.
    writeFileSync(join(runbooks, 'Big.md'), '---\ntitle: Big\n---\n## Diagnosis\n1. look\n');
    writeFileSync(join(runbooks, 'Big.yml'), `alert: Big\n# ${'x'.repeat(MAX_RUNBOOK_BYTES)}\n`);
    writeFileSync(join(runbooks, 'Keys.md'), '---\ntitle: Keys\n---\n## Diagnosis\n1. look\n');
    writeFileSync(
      join(runbooks, 'Keys.yml'),
      `alert: Keys\n"${SECRET}${'k'.repeat(100)}\\u001b[31m": 1\n${Array.from({ length: 20 }, (_, i) => `extra_${i}_${SECRET}: 1`).join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'config.yml'),
      'slack: { channels: [C0123ALERTS] }\nalertmanager: { token: "t" }\nrunbooks: ./runbooks\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check: links outside the folder are refused unread, oversized files unread, keys only as short excerpts', async () => {
    const lines: string[] = [];
    const result = await runCheck({ configPath: 'config.yml', hosts: false, cwd: dir, out: (l) => lines.push(l) });
    const out = lines.join('\n');
    expect(result.errors).toBeGreaterThanOrEqual(4);
    expect(out).toMatch(/HaproxyServerDown\.yml: is a link to a file outside the runbook folder, not read/);
    expect(out).toMatch(/Outside\.md: is a link to a file outside the runbook folder, not read/);
    expect(out).toMatch(
      new RegExp(`Big\\.yml: is \\d+ bytes, larger than the ${MAX_RUNBOOK_BYTES} a runbook or binding may be`),
    );
    // the unknown keys: at most three, each cut to 40 characters and escaped
    const keys = lines.find((l) => l.includes('Keys.yml')) ?? '';
    expect(keys).toMatch(/unknown keys .* and \d+ more/);
    expect(keys).not.toContain('\u001b');
    expect(keys.length).toBeLessThan(600);
    // nothing of the linked file's content anywhere (its name excerpts aside, never the lines themselves)
    expect(out).not.toContain(`root_${SECRET}`);
    expect(out).not.toContain(`daemon_${SECRET}`);
    expect(
      out
        .split('\n')
        .filter((l) => l.includes(SECRET))
        .every((l) => l.includes('Keys.yml')),
    ).toBe(true);
  });

  it('start-up: the loader the bot starts with reports the same, and serves the linked runbook as nothing', () => {
    const loaded = loadRunbookCollection(runbooks, builtinActions, { displayDir: './runbooks' });
    const text = loaded.problems.map(formatRunbookProblem).join('\n');
    expect(text).toContain('HaproxyServerDown.yml: is a link to a file outside the runbook folder');
    expect(text).not.toContain(`root_${SECRET}`);
    expect(loaded.registry.get(SECRET)).toBeUndefined();
    // the runbook beside the refused binding is still served, as a checklist
    expect(loaded.registry.get('HaproxyServerDown')?.binding).toBeUndefined();
  });
});
