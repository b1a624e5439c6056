import { loadConfig } from '../config';
import { ContentPolicy, truncate } from './policy';

const policy = (env: Record<string, string> = {}) => new ContentPolicy(loadConfig(env));

describe('redaction', () => {
  it.each([
    ['my key is sk-proj-abcdefghijklmnopqrstuvwx1234', 'my key is [REDACTED]'],
    ['aws AKIAIOSFODNN7EXAMPLE here', 'aws [REDACTED] here'],
    ['Authorization: Bearer abcdefghijklmnop.qrstuvwx', 'Authorization: Bearer [REDACTED]'],
    ['db at postgres://admin:hunter2secret@db:5432/x', 'db at postgres://admin:[REDACTED]@db:5432/x'],
    ['{"password": "correct horse"}', '{"password": "[REDACTED]"}'],
    ['login?user=bob&password=s3cret!x', 'login?user=bob&password=[REDACTED]'],
    ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'token [REDACTED]'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', '[REDACTED]'],
  ])('%s', (input, expected) => {
    expect(policy().redact(input)).toBe(expected);
  });

  it('leaves ordinary prose alone', () => {
    const text = 'The skeleton key opened the door; password policy requires 12 characters.';
    expect(policy().redact(text)).toBe(text);
  });

  it('applies configured patterns, and none of the defaults when they are switched off', () => {
    const p = policy({ AGENT_INSIGHTS_REDACT_PATTERNS: 'ACME-\\d{6};;\\b\\d{3}-\\d{2}-\\d{4}\\b', AGENT_INSIGHTS_REDACT_DEFAULTS: 'false' });
    expect(p.redact('order ACME-123456 for 123-45-6789 with sk-abcdefghijklmnopqrstuvwx')).toBe('order [REDACTED] for [REDACTED] with sk-abcdefghijklmnopqrstuvwx');
  });
});

describe('content limits', () => {
  it('cuts content to the configured bytes and says how long it was', () => {
    const p = policy({ AGENT_INSIGHTS_CONTENT_MAX_BYTES: '100' });
    const out = p.content('é'.repeat(200))!;
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(100);
    expect(out).toMatch(/…\[truncated 400 bytes\]$/);
    expect(out.startsWith('éé')).toBe(true);
  });
  it('stores no content at all when content is none', () => {
    expect(policy({ AGENT_INSIGHTS_CONTENT: 'none' }).content('hello')).toBeNull();
  });
  it('truncate never splits a character', () => {
    expect(truncate('a'.repeat(10), 100)).toBe('a'.repeat(10));
    expect(truncate('😀'.repeat(50), 60)).not.toContain('\uFFFD');
  });
});
