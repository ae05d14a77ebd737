import { stringify } from 'yaml';
import { configWarnings } from '../../../src/config/config-warnings';
import { parseConfigText } from '../../../src/config/load-config';

const host = {
  name: 'lb-1',
  match: { instance: ['lb-1:9101'] },
  ssh: {
    host: '10.0.0.5',
    user: 'ops',
    privateKeyPath: '/k',
    hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  },
};
const config = (extra: Record<string, unknown>) =>
  parseConfigText(stringify({ slack: { channels: ['C0123ALERTS'] }, ...extra }), 'test.yml');

describe('configWarnings', () => {
  it('is quiet for a careful config', () => {
    expect(
      configWarnings(config({ alertmanager: { token: 's3cret' }, access: { mitigate: ['S0123SRE'] }, hosts: [host] })),
    ).toEqual([]);
  });

  it.each([
    [
      'a webhook left open on purpose',
      { alertmanager: { allowUnauthenticated: true }, access: { mitigate: ['S0123SRE'] }, hosts: [host] },
      /alertmanager\.allowUnauthenticated is on/,
    ],
    ['nobody allowed to mitigate', { alertmanager: { token: 's' }, hosts: [host] }, /access\.mitigate is empty/],
    ['no hosts', { alertmanager: { token: 's' }, access: { mitigate: ['U1ABC'] } }, /no hosts are configured/],
    [
      'accept-any host keys',
      {
        alertmanager: { token: 's' },
        access: { mitigate: ['U1ABC'] },
        hosts: [{ ...host, ssh: { ...host.ssh, insecureAcceptAnyHostKey: true } }],
      },
      /insecureAcceptAnyHostKey is on/,
    ],
    [
      'dry run',
      { alertmanager: { token: 's' }, access: { mitigate: ['U1ABC'] }, hosts: [host], mitigation: { dryRun: true } },
      /dryRun is on/,
    ],
  ])('warns about %s', (_name, extra, warning) => {
    const warnings = configWarnings(config(extra));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(warning);
  });
});

describe('configWarnings and the webhook', () => {
  it('says nothing about allowUnauthenticated once credentials are set (they are then required anyway)', () => {
    expect(
      configWarnings(
        config({
          alertmanager: { token: 's', allowUnauthenticated: true },
          access: { mitigate: ['S0123SRE'] },
          hosts: [host],
        }),
      ),
    ).toEqual([]);
  });
});
