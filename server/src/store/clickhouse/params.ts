/**
 * Positional parameters ($1, $2, ... as the query engine binds them for both engines) as
 * ClickHouse's typed placeholders {p1:Type}: the values still travel apart from the SQL (as
 * param_p1 in the request), never spliced into it. The type follows the JavaScript value.
 */

export function clickHouseType(v: unknown): string {
  if (v === null || v === undefined) return 'Nullable(String)';
  if (typeof v === 'boolean') return 'Bool';
  if (typeof v === 'bigint') return 'Int64';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? 'Int64' : 'Float64';
  if (Array.isArray(v)) return `Array(${v.length ? clickHouseType(v[0]).replace(/^Nullable\((.*)\)$/, '$1') : 'String'})`;
  return 'String';
}

/** Rewrites $n outside string literals, quoted identifiers and comments. */
export function toClickHouseParams(sql: string, params: unknown[]): { sql: string; params: Record<string, unknown> } {
  const out: Record<string, unknown> = {};
  let result = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    // Comments are copied as they are: an apostrophe in one ("each tool's") is not a string.
    if ((ch === '-' && sql[i + 1] === '-') || (ch === '/' && sql[i + 1] === '*')) {
      const end = ch === '-' ? sql.indexOf('\n', i) : sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : ch === '-' ? end : end + 2;
      result += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      // Copy the quoted text as it is (a doubled or backslashed quote stays inside).
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '\\') j += 2;
        else if (sql[j] === ch && sql[j + 1] === ch) j += 2;
        else if (sql[j] === ch) break;
        else j++;
      }
      result += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && /[0-9]/.test(sql[j])) j++;
      const n = Number(sql.slice(i + 1, j));
      if (n < 1 || n > params.length) throw new Error(`SQL parameter $${n} has no value (${params.length} given)`);
      const value = params[n - 1];
      out[`p${n}`] = typeof value === 'bigint' ? value.toString() : value;
      result += `{p${n}:${clickHouseType(value)}}`;
      i = j;
      continue;
    }
    result += ch;
    i++;
  }
  return { sql: result, params: out };
}
