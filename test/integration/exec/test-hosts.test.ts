/**
 * The loopback test hosts are what other tests rely on: web2 DOWN, a log file that says so, a previous config to
 * diff against, and a HostConfig the schema accepts.
 */
import { HostSchema } from '../../../src/config/schema';
import { SshPool } from '../../../src/exec/ssh-pool';
import { describeWithHosts, type TestHosts, testHostConfig, testSshTarget } from '../../support/test-hosts';

const opts = { timeoutMs: 10_000, outputCap: 64 * 1024 };

describeWithHosts('loopback test hosts', (hosts: TestHosts) => {
  const pool = new SshPool();
  const target = () => testSshTarget(hosts);
  const sh = async (command: string) => pool.run(target(), command, opts);
  /** A server's status column (field 18) in `show stat`, as the ssh user sees it. */
  const serverStatus = async (server: string) =>
    (
      await sh(
        `echo "show stat" | socat stdio ${hosts.haproxy.socket} | awk -F, '$1=="web" && $2=="${server}" {print $18}'`,
      )
    ).stdout.text.trim();
  const web2Status = () => serverStatus('web2');

  afterAll(() => pool.close());

  it('describes itself with a fingerprint as ssh-keygen prints it', () => {
    expect(hosts.ssh.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(hosts.haproxy.web2Port).not.toBe(hosts.haproxy.web1Port);
  });

  it('has web1 UP and web2 DOWN, and a log file that says web2 went DOWN', async () => {
    expect(await serverStatus('web1')).toBe('UP');
    expect(await web2Status()).toMatch(/^DOWN/);
    const log = (await sh(`cat ${hosts.haproxy.log}`)).stdout.text;
    expect(log).toMatch(/Server web\/web2 is DOWN, reason: Layer4 connection problem, info: "Connection refused"/);
  });

  it('keeps a previous config that differs from the current one', async () => {
    const diff = await sh(`diff -u ${hosts.haproxy.previousConfig} ${hosts.haproxy.config}`);
    expect(diff.exitCode).toBe(1);
    expect(diff.stdout.text).toContain(`+    server web2 127.0.0.1:${hosts.haproxy.web2Port}`);
  });

  it('gives a HostConfig the schema accepts, pinned to the real host key, with no command overrides', () => {
    // Restart and reload through the catalog on this host (no systemd) are tested end to end in
    // test/integration/slack/mitigation.test.ts.
    const config = testHostConfig(hosts);
    expect(HostSchema.parse(config)).toEqual(config);
    expect(config.ssh.hostKey).toBe(hosts.ssh.hostKeyFingerprint);
    expect(config.haproxy.pidFile).toBe(hosts.haproxy.pidFile);
    expect(config.commands).toEqual({});
  });
});
