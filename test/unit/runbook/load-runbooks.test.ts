import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import { formatRunbookProblem, loadRunbookCollection, loadRunbooks } from '../../../src/runbook/load-runbooks';

const repoRunbooks = join(__dirname, '../../../runbooks');
const srerun = join(__dirname, '../../fixtures/runbooks/srerun');

describe('loadRunbooks', () => {
  it("loads the repo's runbooks folder with HaproxyServerDown bound", () => {
    const registry = loadRunbooks(repoRunbooks, builtinActions);
    const rb = registry.get('HaproxyServerDown');
    expect(rb?.binding?.hostLabel).toBe('instance');
    expect(rb?.steps.filter((s) => s.kind === 'action').map((s) => s.id)).toEqual([
      'diagnosis-1',
      'diagnosis-2',
      'diagnosis-3',
      'diagnosis-4',
      'diagnosis-5',
      'diagnosis-backend-state',
      'mitigation-1',
      'mitigation-2',
      'mitigation-3',
      'mitigation-server-state',
    ]);
    expect(registry.action(rb!, 'drain')?.risk).toBe('change');
    expect(registry.action(rb!, 'no-such-action')).toBeUndefined();
    expect(registry.get('haproxyserverdown')).toBeUndefined();
  });

  it('loads the whole srerun sample, sub-folders too, without bindings: every item a checklist step', () => {
    const { registry, problems } = loadRunbookCollection(srerun, builtinActions);
    expect(problems).toEqual([]);
    expect(registry.list()).toHaveLength(27);
    for (const rb of registry.list()) {
      expect(rb.binding).toBeUndefined();
      expect(rb.steps.every((s) => s.kind === 'checklist')).toBe(true);
    }
    // The templates in the sub-folder load too, with no steps (their sections were never filled in).
    expect(registry.get('MysqlTooManyConnections(>80%)')?.steps).toEqual([]);
    expect(registry.list().filter((rb) => rb.steps.length > 0)).toHaveLength(21);
  });

  describe('in a folder of its own', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
      cpSync(join(repoRunbooks, 'HaproxyServerDown.md'), join(dir, 'HaproxyServerDown.md'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** The folder loads; exactly one problem is reported, one line naming the file and containing `words`. */
    const expectSkipped = (file: string, ...words: string[]): ReturnType<typeof loadRunbookCollection> => {
      const loaded = loadRunbookCollection(dir, builtinActions, { displayDir: 'runbooks' });
      expect(loaded.problems).toHaveLength(1);
      const line = formatRunbookProblem(loaded.problems[0]);
      expect(line).not.toContain('\n');
      expect(loaded.problems[0].file).toBe(`runbooks/${file}`);
      for (const w of words) expect(line).toContain(w);
      return loaded;
    };

    it('serves the runbook of a new alert with its own action, no code change', () => {
      writeFileSync(
        join(dir, 'DiskFull.md'),
        '---\ntitle: DiskFull\n---\n# DiskFull\n\n## Diagnosis\n\n1. See which mount is full\n2. Ask the owner\n',
      );
      writeFileSync(
        join(dir, 'DiskFull.yml'),
        [
          'alert: DiskFull',
          'steps:',
          '  diagnosis:',
          '    1: disk-usage',
          'actions:',
          '  - id: disk-usage',
          '    title: Disk usage',
          '    description: df of the mount',
          '    risk: read',
          '    params:',
          '      mount: { from: "label:mountpoint", type: path }',
          '    command: df -h -- {mount}',
          '    timeoutMs: 5000',
          '    outputCap: 4096',
        ].join('\n'),
      );
      const registry = loadRunbooks(dir, builtinActions);
      const rb = registry.get('DiskFull')!;
      expect(rb.steps.map((s) => [s.id, s.kind])).toEqual([
        ['diagnosis-1', 'action'],
        ['diagnosis-2', 'checklist'],
      ]);
      expect(registry.action(rb, 'disk-usage')?.command).toBe('df -h -- {mount}');
      expect(registry.action(registry.get('HaproxyServerDown')!, 'disk-usage')).toBeUndefined();
    });

    it('skips a binding without its runbook', () => {
      writeFileSync(join(dir, 'Orphan.yml'), 'alert: Orphan\n');
      const { registry } = expectSkipped('Orphan.yml', 'binding without a runbook', 'put Orphan.md beside it');
      expect(registry.list().map((rb) => rb.doc.alertname)).toEqual(['HaproxyServerDown']);
    });

    it('skips a binding for another alert, serving its runbook as a checklist', () => {
      writeFileSync(join(dir, 'HaproxyServerDown.yml'), 'alert: HaproxyBackendDown\n');
      const { registry } = expectSkipped(
        'HaproxyServerDown.yml',
        '"HaproxyBackendDown"',
        'set alert: HaproxyServerDown',
      );
      const rb = registry.get('HaproxyServerDown');
      expect(rb?.binding).toBeUndefined();
      expect(rb?.steps.every((s) => s.kind === 'checklist')).toBe(true);
    });

    it('skips an own action that reuses a built-in id', () => {
      writeFileSync(
        join(dir, 'HaproxyServerDown.yml'),
        'alert: HaproxyServerDown\nactions:\n  - { id: restart, title: R, description: d, risk: change, params: {}, command: reboot, timeoutMs: 1000, outputCap: 1000 }\n',
      );
      const { registry } = expectSkipped('HaproxyServerDown.yml', '"restart" is already a built-in', 'another id');
      expect(registry.action(registry.get('HaproxyServerDown'), 'restart')?.command).not.toBe('reboot');
    });

    it('skips a binding whose step names an unknown action', () => {
      writeFileSync(
        join(dir, 'HaproxyServerDown.yml'),
        'alert: HaproxyServerDown\nsteps: { diagnosis: { 1: reboot-now } }\n',
      );
      const { registry } = expectSkipped('HaproxyServerDown.yml', '"reboot-now"', 'served as a checklist');
      expect(registry.get('HaproxyServerDown')?.binding).toBeUndefined();
    });

    it('two runbooks for one alert: the first by path wins, with a warning naming both', () => {
      mkdirSync(join(dir, 'b-exporter'));
      mkdirSync(join(dir, 'a-exporter'));
      cpSync(join(repoRunbooks, 'HaproxyServerDown.md'), join(dir, 'b-exporter', 'HaproxyServerDown.md'));
      cpSync(join(repoRunbooks, 'HaproxyServerDown.md'), join(dir, 'a-exporter', 'Copy.md'));
      const { registry, problems } = loadRunbookCollection(dir, builtinActions, { displayDir: 'rb' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ level: 'warning', file: 'rb/HaproxyServerDown.md' });
      expect(formatRunbookProblem(problems[0])).toContain(
        'also has a runbook in rb/a-exporter/Copy.md, rb/b-exporter/HaproxyServerDown.md',
      );
      expect(formatRunbookProblem(problems[0])).toContain('runbook: <path>');
      expect(registry.get('HaproxyServerDown')?.file).toBe(join(dir, 'HaproxyServerDown.md'));
    });

    it('two runbooks for one alert: the one a binding names with runbook: wins, without a warning', () => {
      mkdirSync(join(dir, 'v2'));
      writeFileSync(
        join(dir, 'v2', 'HaproxyServerDown.md'),
        '---\ntitle: HaproxyServerDown\n---\n## Diagnosis\n\n1. Look at the v2 metrics\n',
      );
      writeFileSync(
        join(dir, 'v2', 'HaproxyServerDown.yml'),
        'alert: HaproxyServerDown\nrunbook: HaproxyServerDown.md\nsteps: { diagnosis: { 1: backend-state } }\n',
      );
      const { registry, problems } = loadRunbookCollection(dir, builtinActions);
      expect(problems).toEqual([]);
      const rb = registry.get('HaproxyServerDown');
      expect(rb?.file).toBe(join(dir, 'v2', 'HaproxyServerDown.md'));
      expect(rb?.steps.map((s) => [s.id, s.kind])).toEqual([['diagnosis-1', 'action']]);
    });

    it('a binding may bind a runbook elsewhere with runbook:, never outside the folder', () => {
      mkdirSync(join(dir, 'bindings'));
      writeFileSync(
        join(dir, 'bindings', 'mine.yml'),
        'alert: HaproxyServerDown\nrunbook: ../HaproxyServerDown.md\nsteps: { diagnosis: { 1: log-tail } }\n',
      );
      expect(loadRunbookCollection(dir, builtinActions).registry.get('HaproxyServerDown')?.steps[0].kind).toBe(
        'action',
      );
      writeFileSync(
        join(dir, 'bindings', 'mine.yml'),
        'alert: HaproxyServerDown\nrunbook: ../../etc/HaproxyServerDown.md\n',
      );
      expectSkipped('bindings/mine.yml', 'outside the runbook folder');
    });

    it.each([
      ['Empty.md', '', 'warning', 'empty file'],
      ['Blank.md', '  \n\n', 'warning', 'empty file'],
      ['Broken.md', '---\ntitle: [oops\n---\n', 'error', 'front matter is not valid YAML'],
      ['Unclosed.md', '---\ntitle: X\n\n# X\n', 'error', 'never closed'],
      ['Nameless.md', 'notes\n\n## Diagnosis\n\n1. ask\n', 'error', 'no alert name'],
    ])('skips %s with one line naming it and the fix, and loads the rest', (name, text, level, words) => {
      writeFileSync(join(dir, name), text);
      const { registry, problems } = expectSkipped(name, words, 'skipped');
      expect(problems[0].level).toBe(level);
      expect(problems[0].fix.length).toBeGreaterThan(10);
      expect(registry.list().map((rb) => rb.doc.alertname)).toEqual(['HaproxyServerDown']);
    });

    it('names a missing folder', () => {
      expect(() => loadRunbooks(join(dir, 'nope'), builtinActions)).toThrow(/cannot read the runbook folder/);
    });
  });
});
