/** Reading attribute values by any of several names, newest name first. */
import { Attributes, AttrValue } from '../ingest/otlp/types';

export function str(a: Attributes, ...names: string[]): string {
  for (const n of names) {
    const v = a[n];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return '';
}

export function num(a: Attributes, ...names: string[]): number | null {
  for (const n of names) {
    const v = a[n];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  return null;
}

export function bool(a: Attributes, ...names: string[]): boolean | null {
  for (const n of names) {
    const v = a[n];
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 1) return true;
    if (v === 'false' || v === 0) return false;
  }
  return null;
}

/** A value as text: strings as they are, anything structured as JSON. */
export function text(v: AttrValue | undefined): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function firstText(a: Attributes, ...names: string[]): string | null {
  for (const n of names) {
    const t = text(a[n]);
    if (t !== null && t !== '') return t;
  }
  return null;
}

/** Attributes under a prefix with a key the caller picks, e.g. traceloop.association.properties.* */
export function withPrefix(a: Attributes, prefix: string): [string, AttrValue][] {
  const out: [string, AttrValue][] = [];
  for (const k in a) if (k.startsWith(prefix)) out.push([k.slice(prefix.length), a[k]]);
  return out;
}
