import { renderSeriesChart, renderSeriesSvg, stateRuns } from '../../../src/observe/chart';

const T0 = Date.parse('2026-01-01T11:00:00Z');
const pts = (values: number[], step = 15_000): Array<[number, number]> => values.map((v, i) => [T0 + i * step, v]);
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('stateRuns', () => {
  it.each([
    ['one run', [1, 1, 1], [{ start: 0, end: 3, value: 1 }]],
    [
      'a down run in the middle',
      [1, 0, 0, 1],
      [
        { start: 0, end: 1, value: 1 },
        { start: 1, end: 3, value: 0 },
        { start: 3, end: 4, value: 1 },
      ],
    ],
    [
      'NaN leaves a gap',
      [1, NaN, 1],
      [
        { start: 0, end: 1, value: 1 },
        { start: 2, end: 3, value: 1 },
      ],
    ],
  ])('%s', (_name, values, runs) => {
    const step = 15_000;
    expect(stateRuns(pts(values))).toEqual(
      runs.map((r) => ({ start: T0 + r.start * step, end: T0 + r.end * step, value: r.value })),
    );
  });

  it('a missing stretch of samples leaves a gap', () => {
    const points: Array<[number, number]> = [
      [T0, 1],
      [T0 + 15_000, 1],
      [T0 + 300_000, 1],
    ];
    expect(stateRuns(points)).toEqual([
      { start: T0, end: T0 + 30_000, value: 1 },
      { start: T0 + 300_000, end: T0 + 315_000, value: 1 },
    ]);
  });
});

describe('renderSeriesSvg', () => {
  it('draws up/down series as rows, with the alert start marked and the time in UTC', () => {
    const svg = renderSeriesSvg({
      title: 'haproxy_server_up{backend="web"}',
      series: [
        { name: 'web1', points: pts(Array(240).fill(1)) },
        { name: 'web2', points: pts([...Array(200).fill(1), ...Array(40).fill(0)]) },
      ],
      markAt: new Date(T0 + 200 * 15_000),
    });
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('web1');
    expect(svg).toContain('web2');
    expect(svg).toContain('alert start 11:50 UTC');
    expect(svg).toContain('11:30');
    expect(svg).toContain('#d64541'); // a red (down) run is drawn
  });

  it('draws other series as lines', () => {
    const svg = renderSeriesSvg({ title: 'rate', series: [{ name: 'api', points: pts([0.5, 2.5, 1.25]) }] });
    expect(svg).toContain('rate');
    expect(svg).not.toContain('#d64541');
  });
});

describe('renderSeriesChart', () => {
  it('returns a PNG of the requested size', async () => {
    const png = await renderSeriesChart({
      title: 't',
      series: [{ name: 'web2', points: pts([1, 0, 1]) }],
      width: 640,
      height: 200,
    });
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const view = Buffer.from(png);
    // IHDR: width and height, big-endian, at bytes 16..24.
    expect([view.readUInt32BE(16), view.readUInt32BE(20)]).toEqual([640, 200]);
  });
});

describe('time axis', () => {
  it('shows seconds when the range is shorter than 10 minutes', () => {
    const svg = renderSeriesSvg({
      title: 't',
      series: [{ name: 'web2', points: pts([1, 0, 1, 1], 5_000) }],
      markAt: new Date(T0 + 5_000),
    });
    expect(svg).toContain('alert start 11:00:05 UTC');
    expect(svg).toMatch(/11:00:\d\d/);
  });
});
