/**
 * Every config problem at once, each with its line and column, key and fix (#21 items 1–3, 6): what `check` prints and
 * what start-up stops with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigText, formatConfigProblem, parseConfigText } from '../../../src/config/load-config';
import { PilotError } from '../../../src/errors';
import { startupErrorText } from '../../../src/startup-error';

const REPO = join(__dirname, '..', '..', '..');
const lines = (text: string, env = {}) =>
  checkConfigText(text, { env, placeholders: 'lenient' }).problems.map((p) => formatConfigProblem('config.yml', p));

describe('config problems: file, line, column, key and fix', () => {
  it('lists every mistake of a config, in the order of its lines', () => {
    // given a config with five typical mistakes
    const text = [
      'slack:',
      '  chanels: [C0123ALERTS]',
      'limits:',
      '  perHost: { concurrency: two }',
      'mitigation:',
      '  dryRun: yes',
      '  cooldownSec: "300"',
      'hosts: {}',
    ].join('\n');
    // when / then
    expect(lines(text)).toEqual([
      'config.yml:2:3: slack.chanels: unknown key; did you mean `channels`?',
      'config.yml:4:27: limits.perHost.concurrency: expected an integer, got "two"',
      'config.yml:6:11: mitigation.dryRun: expected true or false, got "yes"; write true or false, without quotes (yes/no are text in YAML 1.2)',
      'config.yml:7:16: mitigation.cooldownSec: expected an integer, got "300"; write the number without quotes',
      'config.yml:8:8: hosts: expected a list ([a, b] or lines starting with "- "), got a map (key: value)',
    ]);
  });

  it('a missing key points at the map that lacks it; a host named twice at the second name', () => {
    const host = (name: string) =>
      `  - { name: ${name}, match: { instance: [x] }, ssh: { host: h, user: ops, privateKeyPath: /k, knownHostsPath: /kh } }`;
    expect(lines('alertmanager: { token: t }\nslack:\n  alertSenders: [B0123]\n')).toEqual([
      'config.yml:3:3: slack.channels: missing; add it: a list ([a, b] or lines starting with "- ")',
    ]);
    expect(lines(`slack: { channels: [C0123ALERTS] }\nhosts:\n${host('lb-1')}\n${host('lb-1')}\n`)).toEqual([
      'config.yml:4:13: hosts[1].name: "lb-1" is used twice (also hosts[0]); give each host its own name',
    ]);
  });

  it.each([
    [
      'an unclosed bracket: at the bracket, not the next line',
      'slack:\n  channels: [C0123ALERTS, C2\nhosts: []\n',
      'config.yml:2:13: not valid YAML: this bracket is never closed (or a line inside it is indented less than the key); close it (] or }) at the end of the value',
    ],
    [
      'an unclosed quote: at the quote, not the end of the file',
      'slack:\n  channels: [C1A]\nalertmanager:\n  token: "abc\nhosts: []\nlimits: {}\n',
      'config.yml:4:10: not valid YAML: this quote is never closed; close the quote at the end of the value',
    ],
    [
      'a tab',
      'slack:\n\tchannels: [C1A]\n',
      'config.yml:2:1: not valid YAML: Tabs are not allowed as indentation; indent with spaces, not tabs',
    ],
    [
      'a key indented too far',
      'slack:\n  channels: [C1A]\n   stillFiringIntervalSec: 5\n',
      'config.yml:3:1: not valid YAML: All mapping items must start at the same column; indent the keys of one map by the same number of spaces',
    ],
    [
      'a key twice',
      'slack: { channels: [C1A] }\nslack: {}\n',
      'config.yml:2:1: not valid YAML: Map keys must be unique; each key may appear once in a map: merge the two',
    ],
    [
      'an apostrophe in a plain value is no quote',
      "slack:\n  channels: [C1A]\nalertmanager:\n  token: it's\n  url: [x\n",
      'config.yml:5:8: not valid YAML: this bracket is never closed (or a line inside it is indented less than the key); close it (] or }) at the end of the value',
    ],
  ])('a YAML syntax error points at the line of the mistake: %s', (_name, text, line) => {
    expect(lines(text)[0]).toBe(line);
  });
});

it('a tab used as indentation is one problem, not one per line below it', () => {
  const text = 'slack:\n  channels: [C1A]\nhosts:\n  - name: a\n\tgroup: g\n    match: {}\n    ssh: {}\nlimits: {}\n';
  expect(lines(text)).toEqual([
    'config.yml:5:1: not valid YAML: Tabs are not allowed as indentation; indent with spaces, not tabs',
  ]);
});

describe('${NAME} placeholders', () => {
  const text =
    'slack: { channels: [C0123ALERTS] }\nalertmanager:\n  token: ${AM_TOKEN}\n  url: "http://${AM_HOST}:9093"\n';

  it('are read from the environment passed in', () => {
    const config = parseConfigText(text, 'config.yml', { env: { AM_TOKEN: 's3cret', AM_HOST: 'am' } });
    expect(config.alertmanager).toMatchObject({ token: 's3cret', url: 'http://am:9093' });
  });

  it('stop start-up when unset, each at its line; check only warns (its machine may lack the secrets)', () => {
    let err: unknown;
    try {
      parseConfigText(text, 'config.yml', { env: { AM_HOST: 'am' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).message).toBe(
      'config.yml:3:10: alertmanager.token: environment variable AM_TOKEN is not set; set AM_TOKEN in the environment or in .env, or write the value in place of ${AM_TOKEN}',
    );
    const checked = checkConfigText(text, { env: { AM_HOST: 'am' }, placeholders: 'lenient' });
    expect(checked.config?.alertmanager.token).toBe('${AM_TOKEN}');
    expect(checked.problems.map((p) => [p.level, p.line, p.message])).toEqual([
      ['warning', 3, 'environment variable AM_TOKEN is not set here'],
    ]);
  });

  it('leave hosts[].commands alone (shell templates) and keep $${ as a literal', () => {
    const config = parseConfigText(
      `${text}hosts:\n  - name: lb-1\n    match: { instance: [x] }\n    ssh: { host: "$\${H}", user: ops, privateKeyPath: /k, knownHostsPath: /kh }\n    commands: { restart: "systemctl restart \${SERVICE:-haproxy}" }\n`,
      'config.yml',
      { env: { AM_TOKEN: 't', AM_HOST: 'am', SERVICE: 'nginx' } },
    );
    expect(config.hosts[0].commands.restart).toBe('systemctl restart ${SERVICE:-haproxy}');
    expect(config.hosts[0].ssh.host).toBe('${H}');
  });

  it('config.example.yml passes as shipped, its webhook token a placeholder', () => {
    const example = readFileSync(join(REPO, 'config.example.yml'), 'utf8');
    expect(example).toMatch(/^ {2}token: \$\{ALERTMANAGER_TOKEN\}/m);
    const checked = checkConfigText(example, { env: {}, placeholders: 'lenient' });
    expect(checked.problems.filter((p) => p.level === 'error')).toEqual([]);
    expect(checked.problems.map((p) => p.key)).toEqual(['alertmanager.token']);
    expect(parseConfigText(example, 'x', { env: { ALERTMANAGER_TOKEN: 'abc' } }).alertmanager.token).toBe('abc');
  });
});

describe('start-up shows every config problem, as check does', () => {
  it('one line per problem under one heading, no stack trace', () => {
    let err: unknown;
    try {
      parseConfigText('slack: { chanels: [C1A] }\nmitigation: { dryRun: yes }\n', 'config.yml');
    } catch (e) {
      err = e;
    }
    expect(startupErrorText(err)).toBe(
      [
        'runbook-pilot: config file config.yml has 2 problems:',
        '  config.yml:1:10: slack.chanels: unknown key; did you mean `channels`?',
        '  config.yml:2:23: mitigation.dryRun: expected true or false, got "yes"; write true or false, without quotes (yes/no are text in YAML 1.2)',
        '',
      ].join('\n'),
    );
  });

  it('a single problem is one line; an error of the environment keeps its hint; a bug keeps its stack', () => {
    expect(
      startupErrorText(
        new PilotError('CONFIG_INVALID', 'c.yml:1:1: x: y', { details: { problems: ['c.yml:1:1: x: y'] } }),
      ),
    ).toBe('runbook-pilot: c.yml:1:1: x: y\n');
    expect(
      startupErrorText(new PilotError('CONFIG_MISSING_ENV', 'environment variable X is not set', { hint: 'set X' })),
    ).toBe('runbook-pilot: environment variable X is not set. Set X.\n');
    expect(startupErrorText(new TypeError('boom'))).toMatch(/^runbook-pilot: could not start: TypeError: boom\n\s+at /);
  });
});
