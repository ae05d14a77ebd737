import { HOSTS_INSTALL_COMMAND, hostsMissingMessage } from '../../support/start-demo';

describe('hostsMissingMessage', () => {
  // The reasons are the ones testHostsUnavailable() gives (test/support/test-hosts.ts).
  it.each([
    [
      'programs missing: the install command',
      'sshd, haproxy or socat is not installed (run test/support/hosts.sh install)',
      `sshd, haproxy or socat is not installed.\nInstall them (Debian/Ubuntu) with:\n  ${HOSTS_INSTALL_COMMAND}\nthen restart the demo.`,
    ],
    [
      'no root: how to run it',
      'the test hosts need root or passwordless sudo (to add the ssh user and start sshd)',
      'the test hosts need root or passwordless sudo (to add the ssh user and start sshd).\nRun the demo as root or as a user with passwordless sudo.',
    ],
  ])('%s', (_name, reason, start) => {
    const message = hostsMissingMessage(reason);
    expect(message.startsWith(start)).toBe(true);
    expect(message).toMatch(/host not configured/);
  });
});
