/**
 * The fixture collection has the traits of the real srerun collection (exporter sub-folders, empty files, one alert
 * name in two folders, names with `>`, `%`, `(` and spaces, front-matter variants): it loads, and every skipped file
 * is reported once, naming the file and the fix.
 */
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import {
  formatRunbookProblem,
  loadRunbookCollection,
  loadRunbooks,
  type RunbookProblem,
} from '../../../src/runbook/load-runbooks';

const dir = join(__dirname, '../../fixtures/runbooks/collection');

describe('the fixture collection', () => {
  const loaded = loadRunbookCollection(dir, builtinActions, { displayDir: 'runbooks' });

  it('loads every usable runbook, from every sub-folder, whatever its file name', () => {
    expect(loaded.files).toBe(17);
    expect(
      loaded.registry
        .list()
        .map((rb) => rb.doc.alertname)
        .sort(),
    ).toEqual([
      'HaproxyBackendMaxActiveSession>80%',
      'HaproxyPendingRequests',
      'HaproxyServerDown',
      'HostClockSkew',
      'HostOutOfMemory',
      'MysqlDown',
      'MysqlTooManyConnections(>80%)',
      'Php-fpmMax-childrenReached',
      'WindowsServerCpuUsage',
      'WindowsServerDiskSpaceUsage',
    ]);
    // Front-matter variants: none (BOM, CRLF, `# ` heading) and a quoted title.
    expect(loaded.registry.get('WindowsServerCpuUsage')?.steps.map((s) => s.title)).toEqual([
      'Check the top processes',
      'Check recent deployments',
      'Scale out',
    ]);
    expect(loaded.registry.get('WindowsServerDiskSpaceUsage')?.file).toBe(
      join(dir, 'windows exporter', 'Disk 90% (C drive).md'),
    );
    expect(
      loaded.registry
        .get('HaproxyServerDown')
        ?.steps.filter((s) => s.kind === 'action')
        .map((s) => s.id),
    ).toEqual(['diagnosis-1', 'diagnosis-4']);
  });

  it('reports each skipped file and each choice on one line with the file and the fix', () => {
    const byFile = (file: string): RunbookProblem | undefined =>
      loaded.problems.find((p) => p.file === `runbooks/${file}`);
    expect(loaded.problems.map((p) => [p.level, p.file])).toEqual([
      ['warning', 'runbooks/haproxy-embedded-exporter-v2/HaproxyRetryHigh.md'],
      ['warning', 'runbooks/haproxy-exporter-v1/HaproxyServerResponseErrors.md'],
      ['warning', 'runbooks/mysqld-exporter/MysqlDown.md'],
      ['error', 'runbooks/node-exporter/HostClockSkew.yml'],
      ['error', 'runbooks/node-exporter/HostOutOfMemory.yml'],
      ['error', 'runbooks/windows exporter/Broken front matter.md'],
      ['error', 'runbooks/windows exporter/No name.md'],
      ['error', 'runbooks/windows exporter/Unclosed front matter.md'],
    ]);
    for (const p of loaded.problems) {
      const line = formatRunbookProblem(p);
      expect(line).not.toMatch(/\n/);
      expect(line.startsWith(`${p.file}: `)).toBe(true);
      expect(p.fix).toMatch(/^[a-z]/);
    }
    expect(byFile('haproxy-embedded-exporter-v2/HaproxyRetryHigh.md')?.problem).toBe('empty file, skipped');
    expect(formatRunbookProblem(byFile('mysqld-exporter/MysqlDown.md')!)).toBe(
      "runbooks/mysqld-exporter/MysqlDown.md: alert MysqlDown also has a runbook in runbooks/percona-mysqld-exporter/MysqlDown.md; using runbooks/mysqld-exporter/MysqlDown.md (first by path); to choose, name the runbook in the alert's binding with runbook: <path>, or delete the other file",
    );
    expect(byFile('node-exporter/HostOutOfMemory.yml')?.problem).toContain('unknown key "stesp"');
    expect(byFile('node-exporter/HostOutOfMemory.yml')?.fix).toContain(
      'runbooks/node-exporter/HostOutOfMemory.md is served as a checklist',
    );
    expect(byFile('node-exporter/HostClockSkew.yml')?.problem).toContain('"no-such-action"');
    expect(byFile('windows exporter/No name.md')?.fix).toContain('title: <AlertName>');
    // The runbooks of the skipped bindings are still served, as checklists.
    expect(loaded.registry.get('HostOutOfMemory')?.binding).toBeUndefined();
    expect(loaded.registry.get('HostClockSkew')?.steps.every((s) => s.kind === 'checklist')).toBe(true);
  });

  it('a binding that names its runbook chooses it among runbooks of the same alert, without a warning', () => {
    const rb = loaded.registry.get('HaproxyPendingRequests');
    expect(rb?.file).toBe(join(dir, 'haproxy-embedded-exporter-v2', 'HaproxyPendingRequests.md'));
    expect(rb?.steps.map((s) => s.id)).toEqual(['diagnosis-backend-state']);
    expect(loaded.problems.some((p) => p.problem.includes('HaproxyPendingRequests'))).toBe(false);
  });

  it('loadRunbooks hands every problem to the callback and returns the registry', () => {
    const seen: string[] = [];
    const registry = loadRunbooks(dir, builtinActions, (p) => seen.push(p.file));
    expect(seen).toHaveLength(8);
    expect(registry.get('HaproxyServerDown')).toBeDefined();
  });
});
