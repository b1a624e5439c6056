import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARS, loadConfig } from './config';

describe('configuration', () => {
  it('the README table lists every variable with its default and meaning', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const v of CONFIG_VARS) {
      const row = `| \`${v.name}\` | ${v.default ? `\`${v.default}\` ` : ''}| ${v.meaning} |`;
      expect(readme).toContain(row);
    }
    const documented = [...readme.matchAll(/^\| `(AGENT_INSIGHTS_[A-Z_]+)`/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(CONFIG_VARS.map((v) => v.name).sort());
  });

  it('defaults are safe: no dev mode, content redacted and bounded', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ devMode: false, port: 4318, content: 'full', redactDefaults: true, runTimeoutMinutes: 15, retentionDays: 30 });
    expect(c.presharedKeys).toEqual([]);
  });

  it('says which variable is wrong and why', () => {
    expect(() => loadConfig({ AGENT_INSIGHTS_PORT: 'http' })).toThrow('AGENT_INSIGHTS_PORT must be an integer >= 0, got "http"');
    expect(() => loadConfig({ AGENT_INSIGHTS_CONTENT: 'some' })).toThrow('AGENT_INSIGHTS_CONTENT must be full or none, got "some"');
    expect(() => loadConfig({ AGENT_INSIGHTS_DEV_MODE: 'maybe' })).toThrow('AGENT_INSIGHTS_DEV_MODE must be true or false');
    expect(() => loadConfig({ AGENT_INSIGHTS_INGEST_KEY: 'short' })).toThrow('AGENT_INSIGHTS_INGEST_KEY must be at least 16 characters long');
    expect(() => loadConfig({ AGENT_INSIGHTS_REDACT_PATTERNS: '([' })).toThrow(/AGENT_INSIGHTS_REDACT_PATTERNS: "\(\[" is not a valid regular expression/);
  });

  it('pre-shared keys get their scopes; the admin key can also read and ingest', () => {
    const c = loadConfig({ AGENT_INSIGHTS_TENANT: 'acme', AGENT_INSIGHTS_INGEST_KEY: 'i'.repeat(20), AGENT_INSIGHTS_ADMIN_KEY: 'a'.repeat(20) });
    expect(c.presharedKeys).toEqual([
      { tenant: 'acme', scopes: ['ingest'], secret: 'i'.repeat(20) },
      { tenant: 'acme', scopes: ['admin', 'read', 'ingest'], secret: 'a'.repeat(20) },
    ]);
  });
});
