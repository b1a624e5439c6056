/**
 * Test support: differences between two JSON answers (DuckDB's and ClickHouse's), as paths.
 * Numbers compare within 1e-9 relative: exact for counts and integer sums below 1e9, and floats
 * (averages, rates, percentiles, costs) may differ in their last digits only, where the engines
 * add up in another order.
 */
export function differences(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  if (typeof a === 'number' && typeof b === 'number') {
    if (a !== b && Math.abs(a - b) > 1e-9 * Math.max(Math.abs(a), Math.abs(b))) out.push(`${path}: ${a} (DuckDB) vs ${b} (ClickHouse)`);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: length ${a.length} (DuckDB) vs ${b.length} (ClickHouse)`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) differences(a[i], b[i], `${path}[${i}]`, out);
    return out;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    for (const k of ka) if (!kb.includes(k)) out.push(`${path}.${k}: only on DuckDB`);
    for (const k of kb) if (!ka.includes(k)) out.push(`${path}.${k}: only on ClickHouse`);
    for (const k of ka) if (kb.includes(k)) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
    return out;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: ${JSON.stringify(a)} (DuckDB) vs ${JSON.stringify(b)} (ClickHouse)`);
  return out;
}
