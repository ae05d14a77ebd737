import { PilotError } from '../../../src/errors';
import { classifyConnectError } from '../../../src/exec/ssh-errors';
import captured from '../../fixtures/exec/ssh2-connect-errors.json';

const ctx = { name: 'lb-1', host: '10.0.0.5', port: 2222, user: 'pilot', connectTimeoutMs: 5000 };

function asError(shape: { message: string; code?: string; level?: string }): Error {
  return Object.assign(new Error(shape.message), { code: shape.code, level: shape.level });
}

describe('classifyConnectError', () => {
  it.each([
    // captured error, code, words the message must contain
    ['refused', 'SSH_UNREACHABLE', ['connection refused', 'sshd']],
    ['notfound', 'SSH_UNREACHABLE', ['not found in DNS']],
    ['wronguser', 'SSH_AUTH_FAILED', ['refused the key of user pilot']],
    ['hostkey', 'SSH_HOST_KEY_UNKNOWN', ['host key', 'nothing was run']],
    ['silent', 'SSH_TIMEOUT', ['within 5000 ms']],
    ['closes', 'SSH_UNREACHABLE', ['closed the connection before login completed']],
    ['badkey', 'SSH_AUTH_FAILED', ['private key', 'Unsupported key format']],
  ] as const)('%s → %s', (name, code, words) => {
    // given
    const shape = (captured as unknown as Record<string, { message: string; code?: string; level?: string }>)[name];
    // when
    const err = classifyConnectError(asError(shape), ctx);
    // then
    expect(err.code).toBe(code);
    expect(err.message).toContain('lb-1 (10.0.0.5:2222)');
    for (const w of words) expect(err.message).toContain(w);
  });

  it.each([
    ['EHOSTUNREACH', 'host unreachable'],
    ['ENETUNREACH', 'network unreachable'],
    ['ECONNRESET', 'reset'],
  ])('socket error %s is SSH_UNREACHABLE', (code, words) => {
    const err = classifyConnectError(
      asError({ message: `connect ${code} 10.0.0.5:2222`, code, level: 'client-socket' }),
      ctx,
    );
    expect(err.code).toBe('SSH_UNREACHABLE');
    expect(err.message).toContain(words);
  });

  it("node-ssh's 'No response from server' before login is SSH_UNREACHABLE", () => {
    expect(classifyConnectError(asError({ message: 'No response from server', code: 'ETIMEDOUT' }), ctx).code).toBe(
      'SSH_UNREACHABLE',
    );
  });

  it('keeps a PilotError and makes anything else INTERNAL', () => {
    const mine = new PilotError('SSH_HOST_KEY_MISMATCH', 'x');
    expect(classifyConnectError(mine, ctx)).toBe(mine);
    const other = classifyConnectError(new Error('something new'), ctx);
    expect(other.code).toBe('INTERNAL');
    expect(other.userFacing).toBe(false);
  });
});
