/**
 * Issue #19 §9 through the real bot: a private key readable by group or others is refused whoever owns it (before,
 * only a key owned by the bot's own user was checked, as ssh does), and a key loosened after start-up is refused at
 * the click with what to fix (before: "internal error, see logs").
 */
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PilotError } from '../../../src/errors';
import { type Harness, startHarness } from '../../support/pilot-harness';
import { plain, runStep } from '../../support/step-helpers';
import { describeWithHosts, testHostConfig } from '../../support/test-hosts';

describeWithHosts('security: SSH key permissions (#19 §9)', (hosts) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-key-perms-'));
  const key = join(dir, 'id_ed25519');
  let h: Harness | undefined;
  beforeEach(() => {
    // a copy, so the shared test key is never loosened under other tests
    copyFileSync(hosts.ssh.privateKeyPath, key);
    chmodSync(key, 0o600);
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const host = () => {
    const base = testHostConfig(hosts);
    return { ...base, ssh: { ...base.ssh, privateKeyPath: key } };
  };

  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  (asRoot ? it : it.skip)('refuses at start-up a key another user owns, readable by its group', async () => {
    chownSync(key, 65534, 65534);
    chmodSync(key, 0o640);
    const e = (await startHarness({ hosts: [host()] }).catch((err: unknown) => err)) as PilotError;
    expect(e).toBeInstanceOf(PilotError);
    expect(`${e.message}. ${e.hint}`).toMatch(
      new RegExp(`the SSH private key ${key} for lb-test is not private \\(mode 0640 lets group at it\\).*chmod 600`),
    );
  });

  it('refuses a key loosened after start-up at the next click (its connection still open), saying what to fix; runs once it is private again', async () => {
    h = await startHarness({ hosts: [host()] });
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);
    // a first command: the connection made with the private key is kept open in the pool
    expect(plain(await runStep(h, ts, 'diagnosis-2', 'status-check'))).not.toMatch(/readable by others/);

    chmodSync(key, 0o644);
    const refused = plain(await runStep(h, ts, 'diagnosis-2', 'status-check'));
    expect(refused).toMatch(/became readable by others since start-up \(mode 0644 lets group and others at it\)/);
    expect(refused).toContain(`chmod 600 ${key}`);
    expect(refused).not.toMatch(/[Ii]nternal error/);

    chmodSync(key, 0o600);
    const ran = plain(await runStep(h, ts, 'diagnosis-2', 'status-check'));
    expect(ran).not.toMatch(/became readable/);
  }, 60_000);
});
