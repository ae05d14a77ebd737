/**
 * Issue #6: hostile alert labels into every catalog action. Each build is either refused (PARAM_INVALID, naming the
 * parameter) or a command in which every label value sits single-quoted and intact. A sample of the commands then
 * runs under bash with a canary program first in PATH: none of them may run it, and a value printed by the shell
 * comes back byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import { shellQuote } from '../../../src/actions/shell-quote';
import type { ActionSpec, BuiltCommand } from '../../../src/actions/types';
import { HostSchema } from '../../../src/config/schema';
import { PilotError } from '../../../src/errors';
import { CANARY, HOSTILE_STRINGS, mutateText, randomString, rng } from '../../support/fuzz';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1500);
const LABELS = {
  alertname: 'HaproxyServerDown',
  instance: 'lb-1:9101',
  backend: 'web',
  server: 'web2',
  job: 'haproxy',
  severity: 'critical',
};

describe('buildCommand with hostile labels', () => {
  let dir: string;
  let canaryLog: string;
  let host: ReturnType<typeof HostSchema.parse>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rbp-fuzz-'));
    canaryLog = join(dir, 'canary.log');
    // The canary records that it ran; it is first in PATH, so an injected `rbp-canary` would find it.
    writeFileSync(join(dir, CANARY), `#!/bin/sh\necho ran >> '${canaryLog}'\n`);
    chmodSync(join(dir, CANARY), 0o755);
    // Host paths inside the temporary folder: a read action run here touches nothing of this machine.
    host = HostSchema.parse({
      name: 'lb-1',
      match: { instance: ['lb-1:9101'] },
      ssh: {
        host: '10.0.0.5',
        user: 'pilot',
        privateKeyPath: '/k',
        hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
      },
      haproxy: {
        socket: `${dir}/admin.sock`,
        config: `${dir}/haproxy.cfg`,
        log: `${dir}/haproxy.log`,
        service: 'haproxy',
        pidFile: `${dir}/haproxy.pid`,
      },
    });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/tmp/${CANARY}-abs`, { force: true });
  });

  /** Runs a command under bash with the canary first in PATH; returns stdout. */
  function bash(command: string): string {
    try {
      return execFileSync('bash', ['-c', command], {
        env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir },
        cwd: dir,
        encoding: 'utf8',
        timeout: 5000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? '');
    }
  }

  function labelParams(action: ActionSpec): [string, string][] {
    // `label:backend|proxy` reads the first label the alert has: the fuzzed value goes into the first one.
    return Object.entries(action.params)
      .filter(([, p]) => p.from.startsWith('label:'))
      .map(([name, p]) => [name, p.from.slice('label:'.length).split('|')[0]]);
  }

  it('refuses or quotes every hostile label value, for every action', () => {
    const r = rng(20261125);
    const built: BuiltCommand[] = [];
    let refused = 0;
    const failures: string[] = [];
    const cases = ITERATIONS * 2;
    for (let i = 0; i < cases; i++) {
      const action = r.pick(builtinActions);
      const params = labelParams(action);
      if (params.length === 0) continue;
      const [, label] = r.pick(params);
      const value = r.chance(0.5)
        ? r.pick(HOSTILE_STRINGS)
        : r.chance(0.5)
          ? mutateText(r, LABELS[label as keyof typeof LABELS] ?? 'web', 3)
          : randomString(r, 80);
      const labels = { ...LABELS, [label]: value };
      try {
        const cmd = buildCommand(action, { labels, host });
        // accepted: every label-sourced parameter is in the command exactly as its quoted value
        for (const [name, from] of params) {
          const v = cmd.params[name];
          if (v === undefined) continue;
          if (v !== labels[from as keyof typeof labels])
            failures.push(`${action.id}.${name}: value changed: ${JSON.stringify(v)}`);
          if (!cmd.command.includes(shellQuote(v)))
            failures.push(`${action.id}.${name}: ${JSON.stringify(v)} not single-quoted in the command`);
        }
        if (/[\0]/.test(cmd.command)) failures.push(`${action.id}: NUL in the command`);
        built.push(cmd);
      } catch (err) {
        if (!(err instanceof PilotError) || err.code !== 'PARAM_INVALID')
          failures.push(`${action.id}: threw ${String(err)}`);
        else if (!/Parameter "\w+" \(from label:\w+/.test(err.message))
          failures.push(`${action.id}: refusal does not name the parameter: ${err.message}`);
        refused++;
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // the hostile half must mostly be refused; the plain mutations mostly accepted
    expect(refused).toBeGreaterThan(cases / 4);
    expect(built.length).toBeGreaterThan(cases / 20);

    // run a sample of the accepted read-only commands: nothing injected may run
    const read = built.filter((c) => builtinActions.find((a) => a.id === c.actionId)?.risk === 'read');
    expect(read.length).toBeGreaterThan(40);
    for (let i = 0; i < 40 && read.length; i++) bash(r.pick(read).command);
    expect(existsSync(canaryLog)).toBe(false);
    expect(existsSync(`/tmp/${CANARY}-abs`)).toBe(false);
  }, 60_000);

  it('quotes any value so the shell passes it through untouched (values accepted by an enum)', () => {
    // An enum accepts whatever its list holds, so it carries values no label pattern would let through.
    const values = HOSTILE_STRINGS.filter(
      (v) => v !== '' && !v.includes('\0') && v.length < 6000 && !/[\ud800-\udfff]/.test(v),
    );
    const echo: ActionSpec = {
      id: 'echo-value',
      title: 'Echo',
      description: 'prints its value',
      risk: 'read',
      params: { v: { from: 'label:server', type: 'enum', values } },
      command: "printf '%s' {v}",
      timeoutMs: 1000,
      outputCap: 100_000,
    };
    for (const value of values) {
      const cmd = buildCommand(echo, { labels: { ...LABELS, server: value }, host });
      expect(bash(cmd.command)).toBe(value);
    }
    expect(existsSync(canaryLog)).toBe(false);
    expect(existsSync(`/tmp/${CANARY}-abs`)).toBe(false);
  }, 60_000);

  it('refuses a NUL in any label, whatever the parameter type', () => {
    for (const action of builtinActions) {
      for (const [, label] of labelParams(action)) {
        expect(() => buildCommand(action, { labels: { ...LABELS, [label]: `web\u0000x` }, host })).toThrow(PilotError);
      }
    }
  });

  it('the canary works: an unquoted injection would be caught', () => {
    bash(`echo x; ${CANARY}`);
    expect(readFileSync(canaryLog, 'utf8')).toBe('ran\n');
    rmSync(canaryLog);
  });
});
