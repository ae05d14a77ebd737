import type { Alert } from '../../../src/ingest/alert';
import { capAlert } from '../../../src/ingest/cap-alert';
import { cleanAlertText, REPLACED, replaceControlChars } from '../../../src/ingest/clean-alert-text';

/** Every control character: C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F). */
const EVERY_CONTROL = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
].map((c) => String.fromCharCode(c));

const alert = (over: Partial<Alert> = {}): Alert => ({
  alertname: 'HaproxyServerDown',
  status: 'firing',
  labels: { alertname: 'HaproxyServerDown', server: 'web2' },
  annotations: { description: 'line one\nline two' },
  fingerprint: 'abc',
  source: 'webhook',
  missingLabels: [],
  ...over,
});

describe('replaceControlChars (#19 §4)', () => {
  it.each(EVERY_CONTROL.map((c) => [c.charCodeAt(0).toString(16).padStart(4, '0'), c]))(
    'U+%s in a label becomes U+FFFD',
    (_hex, c) => {
      expect(replaceControlChars(`web${c}2`)).toBe(`web${REPLACED}2`);
    },
  );

  it('an annotation keeps tab and line breaks, and loses every other control character', () => {
    const text = EVERY_CONTROL.join('');
    const kept = replaceControlChars(text, true);
    expect([...kept].filter((c) => c !== REPLACED)).toEqual(['\t', '\n', '\r']);
    expect(kept).toHaveLength(text.length);
  });

  it('leaves other text alone (emoji, accents, U+2028)', () => {
    const text = 'Café ⚠️ \u2028 web2 日本';
    expect(replaceControlChars(text)).toBe(text);
  });
});

describe('cleanAlertText', () => {
  it('returns the same object when there is nothing to clean', () => {
    const a = alert();
    expect(cleanAlertText(a)).toBe(a);
  });

  it('cleans label names and values, annotations, the alertname and the generatorURL; keeps the fingerprint', () => {
    const nul = '\u0000';
    const a = alert({
      alertname: `Haproxy${nul}ServerDown`,
      labels: { alertname: `Haproxy${nul}ServerDown`, [`ser${nul}ver`]: `web${nul}2`, job: `x\ny` },
      annotations: { 'de\u0085sc': `a\u0007b\nc` },
      generatorURL: `http://p/graph?g0.expr=up${nul}`,
    });
    const clean = cleanAlertText(a);
    expect(clean.alertname).toBe(`Haproxy${REPLACED}ServerDown`);
    expect(clean.labels).toEqual({
      alertname: `Haproxy${REPLACED}ServerDown`,
      [`ser${REPLACED}ver`]: `web${REPLACED}2`,
      job: `x${REPLACED}y`,
    });
    expect(clean.annotations).toEqual({ [`de${REPLACED}sc`]: `a${REPLACED}b\nc` });
    expect(clean.generatorURL).toBe(`http://p/graph?g0.expr=up${REPLACED}`);
    expect(clean.fingerprint).toBe('abc');
    expect(a.labels[`ser${nul}ver`]).toBe(`web${nul}2`); // the input is not changed
  });

  it('is applied by capAlert, which every ingest path calls', () => {
    const capped = capAlert(alert({ labels: { alertname: 'HaproxyServerDown', server: 'w\u0000' } }), {
      maxValueChars: 2048,
      maxAlertChars: 16_384,
    });
    expect(capped.labels.server).toBe(`w${REPLACED}`);
  });
});
