import { parseDocument } from 'yaml';
import { z } from 'zod';
import { closest, describeIssue, editDistance } from '../../../src/config/describe-issue';
import { ConfigSchema } from '../../../src/config/schema';

/** Every issue of `yaml` against `schema`, described. */
function described(yaml: string, schema: z.core.$ZodType = ConfigSchema) {
  const input = parseDocument(yaml).toJS();
  const res = z.safeParse(schema, input);
  if (res.success) throw new Error('expected issues');
  return res.error.issues.flatMap((i) => describeIssue(i, input, schema)).map((d) => ({ ...d, code: undefined }));
}
const base = 'slack: { channels: [C0123ALERTS] }\n';

describe('describeIssue: one sentence per zod issue, with the value found and the one expected', () => {
  // given a config with one mistake // when described // then key, message and fix
  it.each([
    [
      'invalid_type, a word for an integer',
      'limits: { perHost: { concurrency: two } }',
      'limits.perHost.concurrency',
      'expected an integer, got "two"',
      undefined,
    ],
    [
      'invalid_type, a quoted number',
      'limits: { perHost: { concurrency: "2" } }',
      'limits.perHost.concurrency',
      'expected an integer, got "2"',
      'write the number without quotes',
    ],
    [
      'invalid_type, a fraction for an integer',
      'limits: { perHost: { concurrency: 2.5 } }',
      'limits.perHost.concurrency',
      'expected an integer, got 2.5',
      'write a whole number such as 3',
    ],
    [
      'invalid_type, yes for a boolean',
      'mitigation: { dryRun: yes }',
      'mitigation.dryRun',
      'expected true or false, got "yes"',
      'write true or false, without quotes (yes/no are text in YAML 1.2)',
    ],
    [
      'invalid_type, words for seconds',
      'mitigation: { cooldownSec: five minutes }',
      'mitigation.cooldownSec',
      'expected an integer, got "five minutes"',
      undefined,
    ],
    [
      'invalid_type, a number (not integer) field',
      'replicas: { leaseSec: soon }',
      'replicas.leaseSec',
      'expected a number, got "soon"',
      undefined,
    ],
    [
      'invalid_type, a map for a list',
      'hosts: {}',
      'hosts',
      'expected a list ([a, b] or lines starting with "- "), got a map (key: value)',
      undefined,
    ],
    [
      'invalid_type, an empty value for a map',
      'limits: { perHost: null }',
      'limits.perHost',
      'expected a map of keys (key: value), got nothing (an empty value)',
      undefined,
    ],
    [
      'invalid_type, no space after a colon',
      'mitigation: dryRun:true',
      'mitigation',
      'expected a map of keys (key: value), got "dryRun:true"',
      'put a space after the colon (`key: value`)',
    ],
    [
      'too_big',
      'limits: { perHost: { concurrency: 20 } }',
      'limits.perHost.concurrency',
      'must be at most 10, got 20',
      undefined,
    ],
    [
      'too_small, a number',
      'limits: { perHost: { concurrency: 0 } }',
      'limits.perHost.concurrency',
      'must be at least 1, got 0',
      undefined,
    ],
    [
      'too_small, a list',
      'hosts: [{ name: a, match: { instance: [] }, ssh: { host: h, user: ops, privateKeyPath: /k, hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" } }]',
      'hosts[0].match.instance',
      'must be at least 1 item, got 0 item(s)',
      undefined,
    ],
    [
      'invalid_format, a regex with its own message',
      'store: { url: "mysql://x" }',
      'store.url',
      'must be a postgres:// (or postgresql://) URL, got "mysql://x"',
      undefined,
    ],
    [
      'invalid_format, a url',
      'prometheus: { url: nope }',
      'prometheus.url',
      'must be a URL such as http://alertmanager:9093, got "nope"',
      undefined,
    ],
    [
      'custom (a refinement)',
      'replicas: { heartbeatSec: 20 }',
      'replicas.heartbeatSec',
      'replicas.heartbeatSec must be at most a third of replicas.leaseSec (a late heartbeat must not expire a lease)',
      undefined,
    ],
  ])('%s', (_name, yaml, key, message, fix) => {
    const [d] = described(base + yaml);
    expect({ key: d.key, message: d.message, fix: d.fix }).toEqual({ key, message, fix });
  });

  it('a missing key points at the map it belongs in and says what to add', () => {
    const [d] = described('slack: {}\n');
    expect(d).toMatchObject({ key: 'slack.channels', message: 'missing', at: { path: ['slack'], target: 'parent' } });
    expect(d.fix).toBe('add it: a list ([a, b] or lines starting with "- ")');
  });

  it('unrecognized_keys: one problem per key, each with its guess, pointing at the key', () => {
    const ds = described(`${base}mitigation: { dryrun: true, coldownSec: 5, bogus: 1 }\n`);
    expect(ds.map((d) => [d.key, d.message, d.fix, d.meant])).toEqual([
      ['mitigation.dryrun', 'unknown key', 'did you mean `dryRun`?', 'mitigation.dryRun'],
      ['mitigation.coldownSec', 'unknown key', 'did you mean `cooldownSec`?', 'mitigation.cooldownSec'],
      [
        'mitigation.bogus',
        'unknown key',
        // every key of the map, as the schema has them
        expect.stringMatching(/^remove it; the keys here are dryRun, cooldownSec, maxRestartsPerHour, .*lockTtlSec/),
        undefined,
      ],
    ]);
    expect(ds[0].at).toEqual({ path: ['mitigation', 'dryrun'], target: 'key' });
  });

  it('invalid_union: what each alternative takes', () => {
    const schema = z.strictObject({ log: z.union([z.literal('journal'), z.number()]) });
    const [d] = described('log: /var/log\n', schema);
    expect(d.message).toBe('must be "journal", or a number; got "/var/log"');
  });

  it.each([
    ['not_multiple_of', z.strictObject({ n: z.number().multipleOf(5) }), 'n: 7', 'must be a multiple of 5, got 7'],
    ['invalid_value', z.strictObject({ mode: z.enum(['a', 'b']) }), 'mode: c', 'must be one of "a", "b", got "c"'],
    [
      'invalid_key',
      z.strictObject({ m: z.record(z.string().regex(/^[a-z]+$/, 'must be lower-case letters'), z.number()) }),
      'm: { A1: 1 }',
      'has a key that is not allowed: it must be lower-case letters',
    ],
    [
      'too_big, a string',
      z.strictObject({ s: z.string().max(3) }),
      's: abcdef',
      'must be at most 3 characters, got "abcdef"',
    ],
  ])('%s', (_code, schema, yaml, message) => {
    const [d] = described(`${yaml}\n`, schema);
    expect(d.message).toBe(message);
  });
});

it('invalid_element: the element that is not allowed', () => {
  // a Map cannot come from YAML; the issue kind is still described, should a schema use one
  const schema = z.strictObject({ m: z.map(z.object({}), z.number()) });
  const input = { m: new Map([[{}, 'x']]) };
  const res = z.safeParse(schema, input);
  if (res.success) throw new Error('expected issues');
  expect(res.error.issues[0].code).toBe('invalid_element');
  expect(describeIssue(res.error.issues[0], input, schema)[0].message).toBe(
    'has an element that is not allowed: it must be a number',
  );
});

describe('closest: a guess only when the spelling is near', () => {
  it.each([
    ['chanels', ['channels', 'alertSenders'], 'channels'],
    ['sokcet', ['socket', 'config', 'log'], 'socket'],
    ['privatekeypath', ['privateKeyPath', 'privateKeyEnv'], 'privateKeyPath'],
    ['url', ['token', 'apiToken'], undefined],
    ['bogus', ['dryRun', 'cooldownSec'], undefined],
  ])('%s → %s', (name, known, guess) => {
    expect(closest(name, known)).toBe(guess);
  });
  it('counts a swap of two letters once', () => {
    expect(editDistance('sokcet', 'socket')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'ab')).toBe(2);
  });
});
