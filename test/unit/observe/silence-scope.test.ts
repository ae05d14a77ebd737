import { assertSilenceScope, silenceCoverageRefusal } from '../../../src/observe/silence-scope';
import { parseSilenceMeta, silenceModal } from '../../../src/slack/blocks/observe';
import { openIncident } from '../../support/domain-fixtures';
import { expectPilotError } from '../../support/expect-pilot-error';

describe('assertSilenceScope: a silence names at least the alert and its host', () => {
  it('accepts matchers with the alertname and the host label', () => {
    expect(() =>
      assertSilenceScope({ alertname: 'HaproxyServerDown', instance: 'lb-1:9101', server: 'web2' }, 'instance'),
    ).not.toThrow();
  });
  it.each([
    [{ alertname: 'HaproxyServerDown', server: 'web2' }, 'instance', '`instance` label is not known'],
    [{ instance: 'lb-1:9101' }, 'instance', '`alertname` label is not known'],
    [{ alertname: 'HaproxyServerDown', instance: '' }, 'instance', '`instance` label is not known'],
    [{ server: 'web2' }, 'host', '`alertname` and `host` labels are not known'],
  ])('refuses %p (host label %s)', (labels, hostLabel, part) => {
    expectPilotError(() => assertSilenceScope(labels, hostLabel), 'PARAM_INVALID', part, 'nothing was silenced');
  });
});

describe('silenceCoverageRefusal: more than one alert only when confirmed', () => {
  it.each<[number | undefined, number | undefined, boolean]>([
    [undefined, undefined, true],
    [0, undefined, true],
    [1, undefined, true],
    [3, undefined, false],
    [3, 3, true],
    [2, 3, true],
    [4, 3, false],
  ])('matched %p, confirmed %p → allowed %p', (matched, confirmed, allowed) => {
    expect(silenceCoverageRefusal(matched, confirmed) === undefined).toBe(allowed);
  });
  it('says how many and what to do', () => {
    const e = silenceCoverageRefusal(5, 3);
    expect(e?.message).toBe(
      'these matchers now cover 5 alerts in Alertmanager, more than the 3 you confirmed: nothing was silenced',
    );
    expect(e?.hint).toMatch(/click Silence again/);
  });
});

describe('silenceModal over more than one alert', () => {
  const labels = { alertname: 'HaproxyServerDown', instance: 'lb-1:9101' };
  it('lists how many and requires "silence all N"; the count travels to the submission', () => {
    const view = silenceModal({
      incident: openIncident(),
      labels,
      channel: 'C0123ALERTS',
      now: new Date('2026-11-25T03:00:00Z'),
      covers: 4,
    });
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('cover *4 alerts* now');
    const tick = view.blocks.find((b) => b.block_id === 'silence-all') as {
      optional?: boolean;
      element: { options: Array<{ text: { text: string } }> };
    };
    expect(tick.optional).toBeUndefined();
    expect(tick.element.options[0].text.text).toBe('Silence all 4');
    expect(parseSilenceMeta(view.private_metadata)).toEqual({ incidentId: 7, channel: 'C0123ALERTS', covers: 4 });
  });
  it.each([undefined, 0, 1])('asks nothing more for %p alerts', (covers) => {
    const view = silenceModal({
      incident: openIncident(),
      labels,
      channel: 'C0123ALERTS',
      now: new Date('2026-11-25T03:00:00Z'),
      ...(covers !== undefined ? { covers } : {}),
    });
    expect(view.blocks.some((b) => b.block_id === 'silence-all')).toBe(false);
    expect(parseSilenceMeta(view.private_metadata)?.covers).toBeUndefined();
  });
});
