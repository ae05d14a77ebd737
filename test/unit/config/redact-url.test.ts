import { redactUrl } from '../../../src/config/redact-url';

describe('redactUrl', () => {
  it('hides the password of a Postgres or Redis URL and keeps the rest', () => {
    expect(redactUrl('postgres://pilot:s3cret@db:5432/pilot')).toBe('postgres://pilot:***@db:5432/pilot');
    expect(redactUrl('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactUrl('redis://cache:6379')).toBe('redis://cache:6379');
  });

  it('says nothing of a URL it cannot read (it may be a password pasted in the wrong place)', () => {
    expect(redactUrl('not a url s3cret')).toBe('the configured URL');
  });
});
