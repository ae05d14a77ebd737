import { PilotError, userText } from '../../../src/errors';
import { AlertmanagerClient, silenceMatchers } from '../../../src/observe/alertmanager-client';
import firing from '../../fixtures/prometheus/alertmanager-alerts-firing.json';
import silenced from '../../fixtures/prometheus/alertmanager-alerts-silenced.json';
import active from '../../fixtures/prometheus/silence-active.json';
import created from '../../fixtures/prometheus/silence-created.json';
import { deadUrl, type HttpStub, json, startHttpStub } from './http-stub';

const labels = firing[0].labels;
const start = new Date('2026-01-01T12:00:00Z');
const end = new Date('2026-01-01T12:30:00Z');

describe('silenceMatchers', () => {
  it('makes one exact matcher per label, sorted, skipping empty values', () => {
    expect(silenceMatchers({ server: 'web2', alertname: 'HaproxyServerDown', empty: '' })).toEqual([
      { name: 'alertname', value: 'HaproxyServerDown', isRegex: false, isEqual: true },
      { name: 'server', value: 'web2', isRegex: false, isEqual: true },
    ]);
  });
  it.each([[{}], [{ a: '' }], [{ 'bad-name': 'x' }]])('refuses %j', (l) => {
    expect(() => silenceMatchers(l)).toThrow(expect.objectContaining({ code: 'PARAM_INVALID' }));
  });
});

describe('AlertmanagerClient against a local stub', () => {
  let stub: HttpStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it('creates a silence: POST /api/v2/silences with the exact matchers, author and comment, bearer auth', async () => {
    stub = await startHttpStub((_req, res) => json(res, 200, created));
    const am = new AlertmanagerClient({ url: `${stub.url}/prefix`, apiToken: 's3cret', timeoutMs: 1000 });
    await expect(
      am.createSilence({ labels, startsAt: start, endsAt: end, createdBy: 'alice', comment: 'incident #1' }),
    ).resolves.toEqual({
      silenceId: created.silenceID,
    });
    const [req] = stub.requests;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/prefix/api/v2/silences');
    expect(req.headers.authorization).toBe('Bearer s3cret');
    expect(JSON.parse(req.body)).toEqual({
      matchers: Object.keys(labels)
        .sort()
        .map((name) => ({ name, value: labels[name as keyof typeof labels], isRegex: false, isEqual: true })),
      startsAt: '2026-01-01T12:00:00.000Z',
      endsAt: '2026-01-01T12:30:00.000Z',
      createdBy: 'alice',
      comment: 'incident #1',
    });
  });

  it('uses basic auth when a username is set', async () => {
    stub = await startHttpStub((_req, res) => json(res, 200, []));
    await new AlertmanagerClient({ url: stub.url, username: 'bot', password: 'pw', timeoutMs: 1000 }).isAlertActive(
      labels,
    );
    expect(stub.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('bot:pw').toString('base64')}`);
  });

  it('asks for the alert with one quoted exact filter per label', async () => {
    stub = await startHttpStub((_req, res) => json(res, 200, firing));
    const am = new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 });
    const state = await am.getAlertState({ alertname: 'HaproxyServerDown', server: 'we"b\\2' });
    const url = new URL(stub.requests[0].url, stub.url);
    expect(url.pathname).toBe('/api/v2/alerts');
    expect(url.searchParams.get('active')).toBe('true');
    expect(url.searchParams.getAll('filter')).toEqual(['alertname="HaproxyServerDown"', 'server="we\\"b\\\\2"']);
    expect(state).toEqual({
      firing: true,
      state: 'active',
      silencedBy: [],
      inhibitedBy: [],
      startsAt: firing[0].startsAt,
      fingerprint: firing[0].fingerprint,
      generatorURL: firing[0].generatorURL,
      labels: firing[0].labels,
      matched: 1,
    });
  });

  it('reports a silenced alert as still firing, with the silence', async () => {
    stub = await startHttpStub((_req, res) => json(res, 200, silenced));
    const state = await new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 }).getAlertState(labels);
    expect(state.firing).toBe(true);
    expect(state.state).toBe('suppressed');
    expect(state.silencedBy).toEqual(silenced[0].status.silencedBy);
  });

  it('no matching alert: not active', async () => {
    stub = await startHttpStub((_req, res) => json(res, 200, []));
    await expect(new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 }).isAlertActive(labels)).resolves.toBe(false);
  });

  it('reads a silence back, and knows an unknown one', async () => {
    stub = await startHttpStub((req, res) =>
      req.url.endsWith(active.id) ? json(res, 200, active) : res.writeHead(404).end(),
    );
    const am = new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 });
    await expect(am.getSilence(active.id)).resolves.toMatchObject({
      id: active.id,
      state: 'active',
      createdBy: 'alice',
      matchers: active.matchers,
    });
    await expect(am.getSilence('00000000-0000-4000-8000-000000000000')).resolves.toBeUndefined();
    await expect(am.expireSilence('00000000-0000-4000-8000-000000000000')).resolves.toBe('not-found');
  });

  it('expires a silence with DELETE /api/v2/silence/{id}', async () => {
    stub = await startHttpStub((_req, res) => res.writeHead(200).end());
    await expect(new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 }).expireSilence(active.id)).resolves.toBe(
      'expired',
    );
    expect(stub.requests[0]).toMatchObject({ method: 'DELETE', url: `/api/v2/silence/${active.id}` });
  });

  it('refuses a silence id that is not a UUID before sending anything', async () => {
    stub = await startHttpStub((_req, res) => json(res, 200, {}));
    await expect(
      new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 }).expireSilence('../../api/v2/alerts'),
    ).rejects.toMatchObject({ code: 'PARAM_INVALID' });
    expect(stub.requests).toHaveLength(0);
  });

  it('refuses a silence that ends before it starts, or has no author', async () => {
    const am = new AlertmanagerClient({ url: 'http://127.0.0.1:9', timeoutMs: 1000 });
    await expect(
      am.createSilence({ labels, startsAt: end, endsAt: start, createdBy: 'a', comment: 'c' }),
    ).rejects.toMatchObject({ code: 'PARAM_INVALID' });
    await expect(
      am.createSilence({ labels, startsAt: start, endsAt: end, createdBy: ' ', comment: 'c' }),
    ).rejects.toMatchObject({ code: 'PARAM_INVALID' });
  });

  it('passes on what Alertmanager says about a refused request (400)', async () => {
    stub = await startHttpStub((_req, res) => json(res, 400, 'matcher value contains unescaped double quote: web2"'));
    await expect(
      new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 }).isAlertActive(labels),
    ).rejects.toMatchObject({
      code: 'PARAM_INVALID',
      message: expect.stringContaining('unescaped double quote'),
    });
  });

  describe('when Alertmanager is down, slow or broken: EXTERNAL_UNAVAILABLE that says what to check', () => {
    const cases: Array<[string, () => Promise<{ url: string; stub?: HttpStub }>, RegExp]> = [
      ['down', async () => ({ url: await deadUrl() }), /did not answer \(connection refused\)/],
      [
        'slow',
        async () => {
          const s = await startHttpStub(() => undefined);
          return { url: s.url, stub: s };
        },
        /did not answer \(no answer within 200 ms\)/,
      ],
      [
        '500',
        async () => {
          const s = await startHttpStub((_q, r) => json(r, 500, { error: 'boom' }));
          return { url: s.url, stub: s };
        },
        /unusable answer \(HTTP 500: boom\)/,
      ],
      [
        'bad JSON',
        async () => {
          const s = await startHttpStub((_q, r) =>
            r.writeHead(200, { 'Content-Type': 'application/json' }).end('{"silenceID":'),
          );
          return { url: s.url, stub: s };
        },
        /not JSON/,
      ],
      [
        'wrong shape',
        async () => {
          const s = await startHttpStub((_q, r) => json(r, 200, { hello: 'proxy' }));
          return { url: s.url, stub: s };
        },
        /not what its API returns/,
      ],
      [
        '401',
        async () => {
          const s = await startHttpStub((_q, r) => json(r, 401, 'unauthorized'));
          return { url: s.url, stub: s };
        },
        /refused the bot's credentials \(HTTP 401\)/,
      ],
    ];
    it.each(cases)('%s', async (_name, make, message) => {
      const target = await make();
      stub = target.stub;
      const am = new AlertmanagerClient({ url: target.url, apiToken: 'tok-123', timeoutMs: 200 });
      const t0 = Date.now();
      const err = await am
        .createSilence({ labels, startsAt: start, endsAt: end, createdBy: 'alice', comment: 'c' })
        .catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(err).toBeInstanceOf(PilotError);
      const e = err as PilotError;
      expect(e.code).toBe('EXTERNAL_UNAVAILABLE');
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`Alertmanager at ${target.url}`);
      expect(e.hint).toMatch(/alertmanager\./);
      // The token never travels with the error (it may be logged with its cause).
      expect(JSON.stringify({ m: e.message, h: e.hint, c: String(e.cause), d: e.details })).not.toContain('tok-123');
      expect(userText(e).text).toMatch(/^Alertmanager at .*\. Check alertmanager\./);
    });
  });

  it('says plainly when alertmanager.url is not set, without sending anything', async () => {
    const am = new AlertmanagerClient({ timeoutMs: 1000 });
    expect(am.configured).toBe(false);
    await expect(am.isAlertActive(labels)).rejects.toMatchObject({
      code: 'EXTERNAL_UNAVAILABLE',
      message: 'Alertmanager is not configured: alertmanager.url is not set',
    });
  });

  it('keeps user:password of the URL out of messages', async () => {
    const url = (await deadUrl()).replace('http://', 'http://bot:hunter2@');
    const err = (await new AlertmanagerClient({ url, timeoutMs: 500 })
      .isAlertActive(labels)
      .catch((e: unknown) => e)) as PilotError;
    expect(err.message).not.toContain('hunter2');
  });
});
