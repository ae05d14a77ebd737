import type { PromSeries } from '../../../src/observe/prometheus-client';
import {
  describeServerUp,
  findTargetSeries,
  formatDuration,
  summariseServerUp,
} from '../../../src/observe/server-up-summary';
import backend from '../../fixtures/prometheus/query-range-backend.json';

const T0 = Date.parse('2026-01-01T11:00:00Z');
const windowStart = new Date(T0);
const windowEnd = new Date(T0 + 3_600_000);
const labels = {
  alertname: 'HaproxyServerDown',
  backend: 'web',
  instance: 'lb:9101',
  job: 'haproxy',
  server: 'web2',
  severity: 'critical',
};

/** A series sampled every minute for an hour from a string of states: '1' up, '0' down, '.' no sample. */
function series(server: string, states: string): PromSeries {
  const points: Array<[number, number]> = [];
  [...states].forEach((c, i) => {
    if (c !== '.') points.push([T0 + i * 60_000, Number(c)]);
  });
  return {
    labels: { __name__: 'haproxy_server_up', backend: 'web', instance: 'lb:9101', job: 'haproxy', server },
    points,
  };
}

describe('summariseServerUp', () => {
  const up = '1'.repeat(60);
  it.each([
    // name, web2's states, alertStart, expected
    [
      'down since minute 45',
      '1'.repeat(45) + '0'.repeat(15),
      undefined,
      { isDown: true, downSince: T0 + 45 * 60_000, downTransitions: 1, flapping: false, downSinceIsLowerBound: false },
    ],
    [
      'alert start earlier than the first down sample wins',
      '1'.repeat(45) + '0'.repeat(15),
      T0 + 44.5 * 60_000,
      { isDown: true, downSince: T0 + 44.5 * 60_000, downTransitions: 1 },
    ],
    [
      'down the whole hour, start unknown',
      '0'.repeat(60),
      undefined,
      { isDown: true, downSince: T0, downTransitions: 0, downSinceIsLowerBound: true },
    ],
    [
      'down the whole hour, alert started before',
      '0'.repeat(60),
      T0 - 7_200_000,
      { isDown: true, downSince: T0 - 7_200_000, downTransitions: 0, downSinceIsLowerBound: false },
    ],
    [
      'flapping',
      '110011001100110011111111111111111111111111111111111111111000',
      undefined,
      { isDown: true, downTransitions: 5, flapping: true, downSince: T0 + 57 * 60_000 },
    ],
    [
      'up again',
      '1'.repeat(30) + '0'.repeat(10) + '1'.repeat(20),
      undefined,
      { isDown: false, downSince: undefined, downTransitions: 1, flapping: false },
    ],
    [
      'a gap does not count as going down',
      '1'.repeat(20) + '.'.repeat(10) + '1'.repeat(20) + '0'.repeat(10),
      undefined,
      { isDown: true, downTransitions: 1, downSince: T0 + 50 * 60_000 },
    ],
  ])('%s', (_name, states, alertStart, expected) => {
    const s = summariseServerUp([series('web1', up), series('web2', states)], {
      labels,
      alertStart: alertStart === undefined ? undefined : new Date(alertStart),
      windowStart,
      windowEnd,
    });
    const { downSince, ...rest } = expected;
    expect(s).toMatchObject(rest);
    expect(s.downSince?.getTime()).toBe(downSince);
  });

  it('counts the servers of the backend that are up in their latest sample', () => {
    const s = summariseServerUp(
      [
        series('web1', up),
        series('web2', '0'.repeat(60)),
        series('web3', `${'1'.repeat(59)}0`),
        series('web4', '.'.repeat(60)),
      ],
      { labels },
    );
    expect(s).toMatchObject({ serversUp: 1, serversTotal: 3 });
  });

  it('without a series for the alert’s server: no verdict, still the backend count', () => {
    const s = summariseServerUp([series('web1', up)], { labels });
    expect(s).toMatchObject({ serversUp: 1, serversTotal: 1 });
    expect(s.isDown).toBeUndefined();
    expect(s.target).toBeUndefined();
  });

  it('works on a real query_range answer (web2 down, web1 up)', () => {
    const real: PromSeries[] = backend.data.result.map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => [Number(t) * 1000, Number(v)] as [number, number]),
    }));
    const s = summariseServerUp(real, { labels: { ...labels, instance: '127.0.0.1:19101' } });
    expect(s.target?.server).toBe('web2');
    expect(s).toMatchObject({ isDown: true, serversUp: 1, serversTotal: 2 });
  });
});

describe('findTargetSeries', () => {
  it('prefers the series agreeing on most labels and skips any that disagree', () => {
    const other = { labels: { backend: 'web', server: 'web1' }, points: [] };
    const mine = { labels: { backend: 'web', server: 'web2' }, points: [] };
    const loose = { labels: { backend: 'web' }, points: [] };
    expect(findTargetSeries([loose, other, mine], labels)).toBe(mine);
    expect(findTargetSeries([other], labels)).toBeUndefined();
  });
});

describe('describeServerUp', () => {
  const now = new Date(T0 + 3_600_000);
  it.each([
    [
      'down, flapping',
      {
        isDown: true,
        downSince: new Date(T0 + 57 * 60_000),
        downSinceIsLowerBound: false,
        downTransitions: 5,
        flapping: true,
        serversUp: 1,
        serversTotal: 2,
      },
      'web2 is down since 11:57 UTC (3 min). It went down 5 times in the last hour: flapping. 1 of 2 servers of backend web is up.',
    ],
    [
      'down before the window',
      {
        isDown: true,
        downSince: new Date(T0),
        downSinceIsLowerBound: true,
        downTransitions: 0,
        flapping: false,
        serversUp: 2,
        serversTotal: 3,
      },
      'web2 is down since before 11:00 UTC (more than 1 h). It did not go down in the last hour. 2 of 3 servers of backend web are up.',
    ],
    [
      'up again',
      {
        isDown: false,
        downSinceIsLowerBound: false,
        downTransitions: 1,
        flapping: false,
        serversUp: 2,
        serversTotal: 2,
      },
      'web2 is up in the latest sample. It went down once in the last hour. 2 of 2 servers of backend web are up.',
    ],
    [
      'no data',
      { downSinceIsLowerBound: false, downTransitions: 0, flapping: false, serversUp: 0, serversTotal: 0 },
      'Prometheus has no samples for web2 in the last hour.',
    ],
  ])('%s', (_name, partial, text) => {
    expect(
      describeServerUp({ target: { backend: 'web', server: 'web2' }, windowStart, windowEnd: now, ...partial }, now),
    ).toBe(text);
  });

  it.each([
    [45_000, '45 s'],
    [15 * 60_000, '15 min'],
    [125 * 60_000, '2 h 5 min'],
    [120 * 60_000, '2 h'],
  ])('formatDuration(%d) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
