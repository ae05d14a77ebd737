import {
  MAX_SILENCE_MS,
  parseSilenceDuration,
  silenceComment,
  silenceWindow,
} from '../../../src/observe/silence-window';

const now = new Date('2026-01-01T12:00:00Z');

describe('silenceWindow', () => {
  it.each([
    ['30m', '2026-01-01T12:30:00.000Z'],
    ['1h', '2026-01-01T13:00:00.000Z'],
    ['4h', '2026-01-01T16:00:00.000Z'],
  ] as const)('%s ends at %s', (choice, end) => {
    const w = silenceWindow(choice, now);
    expect(w.startsAt).toEqual(now);
    expect(w.endsAt.toISOString()).toBe(end);
  });

  it('until a time in the future', () => {
    expect(silenceWindow({ until: new Date('2026-01-02T08:00:00Z') }, now).endsAt.toISOString()).toBe(
      '2026-01-02T08:00:00.000Z',
    );
  });

  it.each([
    ['in the past', new Date('2026-01-01T11:59:00Z')],
    ['now', now],
    ['beyond a week', new Date(now.getTime() + MAX_SILENCE_MS + 1000)],
    ['invalid', new Date('nope')],
  ])('refuses an end %s', (_, until) => {
    expect(() => silenceWindow({ until }, now)).toThrow(expect.objectContaining({ code: 'PARAM_INVALID' }));
  });
});

describe('parseSilenceDuration', () => {
  it.each([
    ['30m', undefined, '30m'],
    ['4h', undefined, '4h'],
    ['until', 1767312000, { until: new Date('2026-01-02T00:00:00Z') }],
    ['until', '1767312000', { until: new Date('2026-01-02T00:00:00Z') }],
  ])('%s %s', (duration, until, expected) => {
    expect(parseSilenceDuration(duration, until)).toEqual(expected);
  });

  it.each([
    ['2h', undefined],
    [undefined, undefined],
    ['until', undefined],
    ['until', 'x'],
  ])('refuses %s %s', (duration, until) => {
    expect(() => parseSilenceDuration(duration, until)).toThrow(expect.objectContaining({ code: 'PARAM_INVALID' }));
  });
});

describe('silenceComment', () => {
  it('names the incident and its link, and keeps the note on one line', () => {
    expect(
      silenceComment({
        incidentId: 12,
        incidentLink: 'https://slack.example/archives/C1/p123',
        note: ' working on it\n  in the DC ',
      }),
    ).toBe(
      'Silenced from runbook-pilot incident #12: https://slack.example/archives/C1/p123\nNote: working on it in the DC',
    );
    expect(silenceComment({ incidentId: 3, incidentLink: 'https://x' })).toBe(
      'Silenced from runbook-pilot incident #3: https://x',
    );
  });
});
