/** Test support: POST /api/v1/query and read frames by field name. */
import { FrameJson } from '../query/frame';
import { postJson } from './server';

export async function query(url: string, key: string, queries: Record<string, unknown>[]): Promise<{ status: number; results: Record<string, any> }> {
  const res = await postJson(`${url}/api/v1/query`, key, { queries });
  return { status: res.status, results: res.body.results };
}

/** Column values of a frame by field name. */
export function column(f: FrameJson, name: string): unknown[] {
  const i = f.schema.fields.findIndex((x) => x.name === name);
  if (i < 0) throw new Error(`frame ${f.schema.name} has no field "${name}" (has: ${f.schema.fields.map((x) => x.name).join(', ')})`);
  return f.data.values[i];
}

/** Rows of a frame as objects keyed by field name. */
export function rows(f: FrameJson): Record<string, unknown>[] {
  const n = f.data.values[0]?.length ?? 0;
  return Array.from({ length: n }, (_, r) => Object.fromEntries(f.schema.fields.map((x, i) => [x.name, f.data.values[i][r]])));
}
