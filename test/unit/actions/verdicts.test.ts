/**
 * Verdicts on real outputs: every fixture under test/fixtures/triage is what the catalog's command printed on the
 * loopback hosts (HAProxy 2.6.12, Debian 12) in one fault, with its exit code beside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionSpecSchema } from '../../../src/actions/action-spec-schema';
import { builtinActions } from '../../../src/actions/catalog';
import { roughAge, verdictParsers } from '../../../src/actions/verdict-parsers';
import { fillSay, holds, judge, VerdictSpecSchema } from '../../../src/actions/verdicts';
import { judgeStep } from '../../../src/incident/run-step';

const dir = join(__dirname, '..', '..', 'fixtures', 'triage');
const labels = {
  alertname: 'HaproxyServerDown',
  backend: 'web',
  server: 'web2',
  instance: '127.0.0.1:9101',
  mountpoint: '/',
};

function result(name: string) {
  return {
    stdout: readFileSync(join(dir, `${name}.txt`), 'utf8'),
    exitCode: Number(readFileSync(join(dir, `${name}.exit`), 'utf8').trim()),
    timedOut: false,
  };
}

function verdictOf(fixture: string) {
  const actionId = fixture.split('.')[1];
  const spec = builtinActions.find((a) => a.id === actionId);
  if (!spec?.verdicts) throw new Error(`${actionId} has no verdicts`);
  return judge(spec.verdicts, result(fixture), labels);
}

describe('catalog verdicts on real HAProxy and node outputs', () => {
  it.each([
    ['web2-refused.backend-state', 'problem', /^web2 DOWN — L4CON connection refused, 57 s; 1 of 2 servers up$/],
    ['web2-timeout.backend-state', 'problem', /^web2 DOWN — L4TOUT layer4 timeout, \d+ s; 1 of 2 servers up$/],
    ['web2-up.backend-state', 'ok', /^web2 UP now \(L7OK\) for 0 s; 2 of 2 servers up$/],
    ['haproxy-killed.backend-state', 'problem', /^HAProxy's stats socket gave no backend web$/],
    ['web2-refused.status-check', 'ok', /^haproxy running, pid 11547 up 57 s, listening on :18081 :18080$/],
    ['config-broken.status-check', 'ok', /^haproxy running, pid \d+ up/],
    // Another haproxy runs on the host (the shared test one): only this config's stats socket counts.
    ['haproxy-killed.status-check', 'problem', /^haproxy does not answer on its stats socket \(1 haproxy process/],
    ['web2-refused.config-check', 'ok', /^config valid$/],
    [
      'config-broken.config-check',
      'problem',
      /^config invalid: line 30: unknown keyword 'severr' in 'backend' section$/,
    ],
    [
      'web2-refused.log-tail',
      'problem',
      /^32 lines about web\/web2 in 3 min, last: "Server web\/web2 is DOWN, reason: Layer4 connection problem/,
    ],
    ['web2-refused.connectivity-check', 'problem', /^LB → 127\.0\.0\.1:18082 refused in 85 ms$/],
    ['web2-timeout.connectivity-check', 'problem', /^LB → 127\.0\.0\.1:18082 timed out after 3 s/],
    ['web2-up.connectivity-check', 'ok', /^LB → 127\.0\.0\.1:19082 connected in 96 ms$/],
    [
      'haproxy-killed.connectivity-check',
      'warn',
      /^could not test the LB → web2 connection: server web\/web2 is not in/,
    ],
    ['node.disk-space', 'ok', /^\/ 23% used, 79G free of 252G$/],
    ['node.memory-usage', 'ok', /^93% memory available \(22367 of 24105 MB\); most: node \(pid 4165, 786 MB\)$/],
    ['node.cpu-load', 'warn', /^load 3\.87 on 2 CPU\(s\) \(1\.94 per CPU\); busiest: node \(pid 4165, 31\.4% CPU\)$/],
  ])('%s → %s', (fixture, level, text) => {
    const v = verdictOf(fixture);
    expect(v.level).toBe(level);
    expect(v.text).toMatch(text);
  });

  it('reads the facts cause rules use', () => {
    expect(verdictOf('web2-timeout.connectivity-check').facts).toMatchObject({ result: 'timeout', port: 18082 });
    expect(verdictOf('web2-refused.backend-state').facts).toMatchObject({
      status: 'DOWN',
      check: 'L4CON',
      up: 1,
      total: 2,
    });
    expect(verdictOf('haproxy-killed.status-check').facts).toMatchObject({ running: false, processes: 1 });
    expect(verdictOf('config-broken.config-check').facts).toMatchObject({ valid: false, line: 30, exit: 1 });
  });

  it('a full disk, low memory and an overloaded host are problems', () => {
    const df = builtinActions.find((a) => a.id === 'disk-space')!.verdicts!;
    const full = judge(
      df,
      {
        stdout:
          '== df -hT /\nFilesystem Type Size Used Avail Use% Mounted on\n/dev/vda ext4 50G 47G 3.0G 95% /\n== largest directories under / (this file system only)\n47G\t/\n30G\t/var/log\n',
        exitCode: 0,
        timedOut: false,
      },
      labels,
    );
    expect(full).toMatchObject({ level: 'problem', text: '/ 95% full, 3.0G free of 50G; largest: /var/log 30G' });
    const mem = builtinActions.find((a) => a.id === 'memory-usage')!.verdicts!;
    const low = judge(
      mem,
      {
        stdout:
          '== free -m\n               total        used        free      shared  buff/cache   available\nMem:            3900        3700          60           1         140         150\nSwap:              0           0           0\n== top 15 processes by resident memory\n  PID USER       RSS    VSZ %MEM     ELAPSED COMMAND\n  812 app   3500000 4000000 89.0   1-02:00:00 java\n',
        exitCode: 0,
        timedOut: false,
      },
      labels,
    );
    expect(low).toMatchObject({
      level: 'problem',
      text: 'memory low: 150 MB available of 3900 MB (4%); most: java (pid 812, 3418 MB)',
    });
  });

  it('says so when no rule fits, never a guess', () => {
    const spec = {
      parser: 'tcp-connect' as const,
      rules: [{ when: { result: 'connected' }, level: 'ok' as const, say: 'ok' }],
    };
    expect(judge(spec, { stdout: 'refused', exitCode: 1, timedOut: false }, labels)).toMatchObject({
      level: 'warn',
      text: 'no verdict rule fits this output: read it below',
    });
  });

  it('checks conditions and placeholders', () => {
    expect(holds(3, { ge: 2, lt: 4 })).toBe(true);
    expect(holds(undefined, { ge: 0 })).toBe(false);
    expect(holds('DOWN', { in: ['DOWN', 'MAINT'] })).toBe(true);
    expect(holds(true, false)).toBe(false);
    expect(fillSay('{a} and {b}', { a: 1 })).toBe('1 and ?');
    expect(roughAge(200)).toBe('3 min');
  });

  it('refuses a rule on a fact its parser does not give, and triage on a host-changing action', () => {
    const bad = VerdictSpecSchema.safeParse({
      parser: 'df',
      rules: [{ when: { usePtc: { ge: 90 } }, level: 'problem', say: 'x' }],
    });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('fact \\"usePtc\\" is not given by parser df');
    const change = builtinActions.find((a) => a.id === 'restart')!;
    expect(ActionSpecSchema.safeParse({ ...change, triage: true }).success).toBe(false);
  });

  it('every catalog spec with verdicts passes the schema; triage marks only read actions', () => {
    for (const a of builtinActions) {
      const parsed = ActionSpecSchema.safeParse(a);
      expect(parsed.error?.issues ?? []).toEqual([]);
      if (a.triage) expect(a.risk).toBe('read');
    }
    expect(Object.keys(verdictParsers).length).toBeGreaterThanOrEqual(8);
  });
});

describe('judgeStep (#20: what a step keeps of its verdict, decided beside the rules)', () => {
  const execResult = (name: string) => {
    const r = result(name);
    return { ...r, stdout: { text: r.stdout } };
  };
  it('keeps the level and the line of the rules’ verdict', () => {
    const spec = builtinActions.find((a) => a.id === 'backend-state');
    expect(judgeStep(spec ?? {}, execResult('web2-refused.backend-state'), labels)).toEqual({
      level: 'problem',
      text: 'web2 DOWN — L4CON connection refused, 57 s; 1 of 2 servers up',
    });
  });
  it('gives no verdict for an action without rules', () => {
    expect(judgeStep({}, execResult('web2-refused.backend-state'), labels)).toBeUndefined();
  });
});
