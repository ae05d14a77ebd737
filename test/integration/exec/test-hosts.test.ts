/**
 * The loopback test hosts are what other tests rely on: web2 DOWN, a log file that says so, a previous config to
 * diff against, and the HostConfig's command overrides (no systemd) really check, reload and restart haproxy.
 */
import { readFileSync } from 'node:fs';
import { HostSchema } from '../../../src/config/schema';
import { SshPool } from '../../../src/exec/ssh-pool';
import { describeWithHosts, testHostConfig, testSshTarget, type TestHosts } from '../../support/test-hosts';

const opts = { timeoutMs: 10_000, outputCap: 64 * 1024 };

describeWithHosts('loopback test hosts', (hosts: TestHosts) => {
  const pool = new SshPool();
  const target = () => testSshTarget(hosts);
  const sh = async (command: string) => pool.run(target(), command, opts);
  /** A server's status column (field 18) in `show stat`, as the ssh user sees it. */
  const serverStatus = async (server: string) =>
    (await sh(`echo "show stat" | socat stdio ${hosts.haproxy.socket} | awk -F, '$1=="web" && $2=="${server}" {print $18}'`)).stdout.text.trim();
  const web2Status = () => serverStatus('web2');
  const untilWeb2Down = async () => {
    for (let i = 0; i < 50 && !(await web2Status()).startsWith('DOWN'); i++) await new Promise((r) => setTimeout(r, 100));
  };
  const pid = () => readFileSync(hosts.haproxy.pidFile, 'utf8').trim();

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

  it('gives a HostConfig the schema accepts, whose commands check, reload and restart haproxy', async () => {
    // given
    const config = testHostConfig(hosts);
    expect(HostSchema.parse(config)).toEqual(config);
    expect(config.ssh.hostKey).toBe(hosts.ssh.hostKeyFingerprint);
    // status
    const status = await sh(config.commands['haproxy.status']);
    expect(status.exitCode).toBe(0);
    expect(status.stdout.text).toContain(`${hosts.haproxy.binary} -f ${hosts.haproxy.config}`);
    // reload: a new process takes over
    const before = pid();
    const reload = await sh(config.commands['haproxy.reload']);
    expect(reload).toMatchObject({ exitCode: 0, timedOut: false });
    expect(pid()).not.toBe(before);
    await untilWeb2Down();
    // restart: stopped, then started again
    const afterReload = pid();
    const restart = await sh(config.commands['haproxy.restart']);
    expect(restart).toMatchObject({ exitCode: 0, timedOut: false });
    expect(pid()).not.toBe(afterReload);
    await untilWeb2Down();
    expect(await web2Status()).toMatch(/^DOWN/);
  });
});
