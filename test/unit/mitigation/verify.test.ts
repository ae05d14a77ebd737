import { type HostSnapshot, verifyMitigation } from '../../../src/mitigation/verify';

const up = (pid: number, uptimeSec: number, servers: HostSnapshot['servers'] = []): HostSnapshot => ({
  answered: true,
  pid,
  uptimeSec,
  frontends: [{ name: 'fe_main', status: 'OPEN' }],
  servers,
});
const target = { backend: 'web', server: 'web2' };

describe('verifyMitigation', () => {
  it.each([
    [
      'a restart that replaced the process',
      'restart',
      true,
      up(100, 3600),
      up(200, 2),
      true,
      /new process pid 200 \(was 100\)/,
    ],
    [
      'a restart that left the old process',
      'restart',
      true,
      up(100, 3600),
      up(100, 3603),
      false,
      /not replaced: pid 100/,
    ],
    [
      'a restart after which the API is silent',
      'restart',
      true,
      up(100, 3600),
      { answered: false, error: 'connection refused', frontends: [], servers: [] },
      false,
      /does not answer .*connection refused/,
    ],
    [
      'a restart whose frontend did not open',
      'reload',
      true,
      up(100, 3600),
      { ...up(200, 1), frontends: [{ name: 'fe_main', status: 'STOP' }] },
      false,
      /fe_main STOP/,
    ],
    [
      'a drain read back as drain',
      'drain',
      false,
      up(1, 9),
      up(1, 10, [{ backend: 'web', server: 'web2', status: 'DRAIN', adminState: 'DRAIN' }]),
      true,
      /in drain/,
    ],
    [
      'a drain not applied',
      'drain',
      false,
      up(1, 9),
      up(1, 10, [{ backend: 'web', server: 'web2', status: 'DOWN', adminState: 'READY' }]),
      false,
      /is not in drain/,
    ],
    [
      'maintenance read back',
      'maint',
      false,
      up(1, 9),
      up(1, 10, [{ backend: 'web', server: 'web2', status: 'MAINT', adminState: 'MAINT' }]),
      true,
      /in maintenance/,
    ],
    [
      'ready after maintenance',
      'ready',
      false,
      up(1, 9),
      up(1, 10, [{ backend: 'web', server: 'web2', status: 'DOWN', adminState: 'READY' }]),
      true,
      /ready/,
    ],
    [
      'ready while still in maintenance',
      'ready',
      false,
      up(1, 9),
      up(1, 10, [{ backend: 'web', server: 'web2', status: 'MAINT', adminState: 'MAINT' }]),
      false,
      /is not ready/,
    ],
    [
      'a server-state action on an unknown server',
      'drain',
      false,
      up(1, 9),
      up(1, 10, []),
      false,
      /not in HAProxy's server list/,
    ],
  ])('%s', (_name, actionId, restartLike, before, after, verified, why) => {
    const v = verifyMitigation(actionId, restartLike, before, after, target, 2);
    expect(v.verified).toBe(verified);
    expect(v.why).toMatch(why);
  });
});
