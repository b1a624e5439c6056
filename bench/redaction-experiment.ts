/**
 * Experiment, not a change: what the default redaction patterns cost per span in normalisation,
 * and how much two exact pre-checks would save. A pattern can only match text that contains what
 * it requires, so skipping it otherwise changes no output:
 *   - the credentials-in-URL pattern needs "://";
 *   - the password/secret/api_key patterns need "=" or ":".
 * Uses the benchmark's payloads and the server's own normaliseSpan and ContentPolicy.
 *
 *   npx tsx bench/redaction-experiment.ts
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../server/src/config';
import { ContentPolicy, DEFAULT_REDACTIONS } from '../server/src/content/policy';
import { normaliseSpan } from '../server/src/conventions/normalise';
import { decodeTraces } from '../server/src/ingest/otlp/decode';
import { buildTemplates, instantiate } from './payload';

const nonce = randomBytes(4);
nonce[0] |= 1;
const spans = Array.from({ length: 8 }, (_, i) => decodeTraces(instantiate(buildTemplates(1000 + i, 512, nonce, ['protobuf'])[0], i + 1), 'protobuf').items).flat();
const policy = new ContentPolicy(loadConfig({}));
const original = ContentPolicy.prototype.redact;

let calls = 0;
let chars = 0;
ContentPolicy.prototype.redact = function (this: ContentPolicy, t: string) {
  calls++;
  chars += t.length;
  return original.call(this, t);
};
for (const s of spans) normaliseSpan('bench', s, policy);
console.log(`${spans.length} spans; per span ${(calls / spans.length).toFixed(1)} redacted values, ${(chars / spans.length).toFixed(0)} characters`);

function measure(label: string): void {
  for (let k = 0; k < 2; k++) for (const s of spans) normaliseSpan('bench', s, policy);
  const started = performance.now();
  for (let k = 0; k < 3; k++) for (const s of spans) normaliseSpan('bench', s, policy);
  console.log(`  ${label.padEnd(48)} ${(((performance.now() - started) * 1000) / (3 * spans.length)).toFixed(1).padStart(6)} µs/span`);
}

ContentPolicy.prototype.redact = original;
measure('normaliseSpan as it is');
ContentPolicy.prototype.redact = (t: string) => t;
measure('without any redaction (lower bound)');
const needsUrl = DEFAULT_REDACTIONS.map((r) => r.pattern.source.includes(':\\/\\/'));
const needsAssign = DEFAULT_REDACTIONS.map((r) => r.pattern.source.includes('password'));
ContentPolicy.prototype.redact = (text: string) => {
  let out = text;
  const assign = out.includes('=') || out.includes(':');
  for (let i = 0; i < DEFAULT_REDACTIONS.length; i++) {
    if (needsUrl[i] && !out.includes('://')) continue;
    if (needsAssign[i] && !assign) continue;
    out = out.replace(DEFAULT_REDACTIONS[i].pattern, DEFAULT_REDACTIONS[i].replacement);
  }
  return out;
};
measure('with the two pre-checks');
console.log(`  (pre-checked patterns: ${needsUrl.filter(Boolean).length} URL, ${needsAssign.filter(Boolean).length} password-like)`);
