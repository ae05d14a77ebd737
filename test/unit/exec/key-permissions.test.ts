import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkKeyFile, checkKeyFileSync, keyPermissionProblem } from '../../../src/exec/key-permissions';
import { expectPilotError } from '../../support/expect-pilot-error';

describe('keyPermissionProblem (mode & 077, whoever owns the key: #19 §9)', () => {
  it.each([
    [0o100600, undefined],
    [0o100400, undefined],
    [0o100640, 'mode 0640 lets group at it'],
    [0o100644, 'mode 0644 lets group and others at it'],
    [0o100604, 'mode 0604 lets others at it'],
    [0o100610, 'mode 0610 lets group at it'],
  ])('mode %o → %s', (mode, expected) => {
    expect(keyPermissionProblem({ mode })).toBe(expected);
  });
});

describe('checkKeyFile on real files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-key-'));
  const key = join(dir, 'id_ed25519');
  writeFileSync(key, 'not really a key\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a key readable by others with the file and the chmod to run', async () => {
    chmodSync(key, 0o644);
    const e = expectPilotError(() => checkKeyFileSync(key, 'lb-1'), 'CONFIG_UNREADABLE', key, 'lb-1', 'mode 0644');
    expect(e.hint).toBe(`run chmod 600 ${key} (the bot's user must own it)`);
    // after start-up (before a connection): a code the user who clicked may read, with the fix
    await expect(checkKeyFile(key, 'lb-1')).rejects.toMatchObject({
      code: 'SSH_KEY_NOT_PRIVATE',
      userFacing: true,
      hint: `nothing was run; the bot's operators must run chmod 600 ${key} (the bot's user must own it)`,
    });
  });

  it('accepts 0600, and leaves a missing file to the read', async () => {
    chmodSync(key, 0o600);
    expect(() => checkKeyFileSync(key, 'lb-1')).not.toThrow();
    await expect(checkKeyFile(key, 'lb-1')).resolves.toBeUndefined();
    expect(() => checkKeyFileSync(join(dir, 'missing'), 'lb-1')).not.toThrow();
  });
});
