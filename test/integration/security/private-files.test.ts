/**
 * Issue #12 §7 through the real bot: a private key file others can read stops start-up with one line naming the file
 * and the `chmod` (as ssh refuses such a key), and the store the bot creates is readable by its user only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostSchema } from '../../../src/config/schema';
import { PilotError } from '../../../src/errors';
import { startHarness } from '../../support/pilot-harness';

describe('security: private files (#12 §7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-keyfile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start with a private key readable by group or others', async () => {
    const key = join(dir, 'id_ed25519');
    // a real private key: start-up also checks that the file holds one (#21 item 5)
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(key, privateKey);
    chmodSync(key, 0o644);
    const host = HostSchema.parse({
      name: 'lb-1',
      match: { instance: ['127.0.0.1:9101'] },
      ssh: {
        host: '127.0.0.1',
        user: 'ops',
        privateKeyPath: key,
        hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
      },
    });
    const started = startHarness({ hosts: [host] });
    await expect(started).rejects.toBeInstanceOf(PilotError);
    const e = (await started.catch((err: unknown) => err)) as PilotError;
    expect(`${e.message}. ${e.hint}`).toMatch(
      new RegExp(
        `the SSH private key ${key} for lb-1 is not private \\(mode 0644 lets group and others at it\\).*chmod 600 ${key}`,
      ),
    );

    chmodSync(key, 0o600);
    const h = await startHarness({ hosts: [host] });
    await h.stop();
  });

  it('creates its SQLite store 0600', async () => {
    const h = await startHarness();
    try {
      expect(statSync(join(h.dir, 'pilot.db')).mode & 0o777).toBe(0o600);
    } finally {
      await h.stop();
    }
  });
});
