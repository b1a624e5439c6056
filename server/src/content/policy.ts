/**
 * What happens to content (prompts, completions, tool inputs and outputs) before it is stored:
 * dropped entirely, or redacted and then cut to a size limit.
 */
import { Config } from '../config';

/**
 * Built-in secret patterns. Each is specific enough not to eat ordinary prose: provider key
 * prefixes, bearer tokens, JWTs, PEM private keys, credentials in URLs and `password=` pairs.
 */
export const REDACTED = '[REDACTED]';

interface Redaction {
  pattern: RegExp;
  /** String.replace replacement: '$1' keeps a prefix such as "password=". */
  replacement: string;
}

const whole = (pattern: RegExp): Redaction => ({ pattern, replacement: REDACTED });

export const DEFAULT_REDACTIONS: Redaction[] = [
  whole(/\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}/g), // OpenAI, Anthropic, Stripe style keys
  whole(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g), // AWS access key ids
  whole(/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g), // GitHub tokens
  whole(/\bgithub_pat_[A-Za-z0-9_]{30,}\b/g),
  whole(/\bxox[abposr]-[A-Za-z0-9-]{10,}/g), // Slack tokens
  whole(/\bAIza[0-9A-Za-z_-]{35}\b/g), // Google API keys
  whole(/\bglpat-[A-Za-z0-9_-]{20,}\b/g), // GitLab tokens
  whole(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g), // JWTs
  whole(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g),
  { pattern: /\b([Bb]earer\s+)[A-Za-z0-9._~+/=-]{16,}/g, replacement: `$1${REDACTED}` },
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^:\s/@]+:)[^@\s/]+@/gi, replacement: `$1${REDACTED}@` }, // user:password@ in URLs
  // password=..., "api_key": "...": the name stays, the value goes (quoted values whole).
  { pattern: /\b((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token)"?\s*[=:]\s*")[^"]*"/gi, replacement: `$1${REDACTED}"` },
  { pattern: /\b((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token)\s*[=:]\s*)[^\s"',;&]{4,}/gi, replacement: `$1${REDACTED}` },
];

export class ContentPolicy {
  private readonly redactions: Redaction[];
  readonly keepContent: boolean;
  readonly maxBytes: number;
  readonly attributeMaxBytes: number;

  constructor(config: Pick<Config, 'content' | 'contentMaxBytes' | 'attributeMaxBytes' | 'redactDefaults' | 'redactPatterns'>) {
    this.keepContent = config.content === 'full';
    this.maxBytes = config.contentMaxBytes;
    this.attributeMaxBytes = config.attributeMaxBytes;
    this.redactions = [...(config.redactDefaults ? DEFAULT_REDACTIONS : []), ...config.redactPatterns.map(whole)];
  }

  redact(text: string): string {
    let out = text;
    for (const r of this.redactions) out = out.replace(r.pattern, r.replacement);
    return out;
  }

  /** Content as stored: null when content is off, else redacted and cut to the limit. */
  content(text: string | null | undefined): string | null {
    if (!this.keepContent || text === null || text === undefined || text === '') return null;
    return truncate(this.redact(text), this.maxBytes);
  }

  /** A non-content attribute value as stored: redacted and cut to the attribute limit. */
  attribute(text: string): string {
    return truncate(this.redact(text), this.attributeMaxBytes);
  }
}

/** Cuts to at most maxBytes of UTF-8 (never inside a character) and says how much was cut. */
export function truncate(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3) return text; // fast path: cannot exceed in UTF-8
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const marker = `…[truncated ${bytes} bytes]`;
  let cut = Buffer.from(text, 'utf8').subarray(0, Math.max(0, maxBytes - Buffer.byteLength(marker))).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + marker;
}
