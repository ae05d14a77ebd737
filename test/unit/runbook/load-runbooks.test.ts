import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import { PilotError } from '../../../src/errors';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';

const repoRunbooks = join(__dirname, '../../../runbooks');
const srerun = join(__dirname, '../../fixtures/runbooks/srerun');

describe('loadRunbooks', () => {
  it("loads the repo's runbooks folder with HaproxyServerDown bound", () => {
    const registry = loadRunbooks(repoRunbooks, builtinActions);
    const rb = registry.get('HaproxyServerDown');
    expect(rb?.binding?.hostLabel).toBe('instance');
    expect(rb?.steps.filter((s) => s.kind === 'action').map((s) => s.id)).toEqual([
      'diagnosis-1', 'diagnosis-2', 'diagnosis-3', 'diagnosis-4', 'diagnosis-5', 'diagnosis-backend-state',
      'mitigation-1', 'mitigation-2', 'mitigation-3', 'mitigation-server-state',
    ]);
    expect(registry.action(rb!, 'drain')?.risk).toBe('change');
    expect(registry.action(rb!, 'no-such-action')).toBeUndefined();
    expect(registry.get('haproxyserverdown')).toBeUndefined();
  });

  it('loads the whole srerun sample without bindings, every item a checklist step', () => {
    const registry = loadRunbooks(srerun, builtinActions);
    expect(registry.list()).toHaveLength(21);
    for (const rb of registry.list()) {
      expect(rb.binding).toBeUndefined();
      expect(rb.steps.length).toBeGreaterThan(0);
      expect(rb.steps.every((s) => s.kind === 'checklist')).toBe(true);
    }
    expect(registry.get('MysqlTooManyConnections(>80%)')).toBeUndefined(); // it sits in templates/, not loaded
  });

  describe('in a folder of its own', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
      cpSync(join(repoRunbooks, 'HaproxyServerDown.md'), join(dir, 'HaproxyServerDown.md'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const expectInvalid = (...words: string[]): void => {
      let caught: unknown;
      try {
        loadRunbooks(dir, builtinActions);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(PilotError);
      expect((caught as PilotError).code).toBe('RUNBOOK_INVALID');
      for (const w of words) expect((caught as PilotError).message).toContain(w);
    };

    it('serves the runbook of a new alert with its own action, no code change', () => {
      writeFileSync(join(dir, 'DiskFull.md'), '---\ntitle: DiskFull\n---\n# DiskFull\n\n## Diagnosis\n\n1. See which mount is full\n2. Ask the owner\n');
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

    it('refuses a binding without its runbook', () => {
      writeFileSync(join(dir, 'Orphan.yml'), 'alert: Orphan\n');
      expectInvalid('Orphan.yml', 'binding without a runbook');
    });

    it('refuses a binding for another alert', () => {
      writeFileSync(join(dir, 'HaproxyServerDown.yml'), 'alert: HaproxyBackendDown\n');
      expectInvalid('HaproxyServerDown.yml', '"HaproxyBackendDown"');
    });

    it('refuses an own action that reuses a built-in id', () => {
      writeFileSync(
        join(dir, 'HaproxyServerDown.yml'),
        'alert: HaproxyServerDown\nactions:\n  - { id: restart, title: R, description: d, risk: change, params: {}, command: reboot, timeoutMs: 1000, outputCap: 1000 }\n',
      );
      expectInvalid('HaproxyServerDown.yml', '"restart" is already a built-in');
    });

    it('refuses two runbooks for one alert', () => {
      cpSync(join(repoRunbooks, 'HaproxyServerDown.md'), join(dir, 'Copy.md'));
      expectInvalid('HaproxyServerDown', 'already has a runbook');
    });

    it('names the file of an unparsable runbook', () => {
      writeFileSync(join(dir, 'Broken.md'), '---\ntitle: [oops\n---\n');
      expectInvalid(join(dir, 'Broken.md'));
    });

    it('names a missing folder', () => {
      expect(() => loadRunbooks(join(dir, 'nope'), builtinActions)).toThrow(/cannot read the runbook folder/);
    });
  });
});
