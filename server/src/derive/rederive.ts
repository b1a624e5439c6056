/**
 * Deriving every stored trace again, once, after a schema migration added derived tables (steps,
 * LLM usage, new run columns) that only derivation can fill. Engine-neutral: it reads the stored
 * facts part by part (a part is a hash range of traces, ordered by tenant and trace id), derives
 * each trace exactly as ingest does, and replaces the trace's derived rows through Store.commit.
 * Progress is stored after each part, so a restart resumes where it stopped; a part done twice is
 * harmless, as a commit replaces a trace's rows whole.
 */
import { SpanRecord } from '../domain';
import { DerivedReplacement, Store } from '../store/store';
import { replacementOf } from './trace';

export async function rederiveStored(store: Store, log: (message: string) => void): Promise<{ traces: number; records: number } | null> {
  const task = await store.rederivation();
  if (!task) return null;
  const started = Date.now();
  let traces = 0;
  let records = 0;
  for (let part = task.part; part < task.parts; part++) {
    const facts = await store.loadFactsPart(part, task.parts);
    const derived: DerivedReplacement[] = [];
    // Records come ordered by tenant and trace id: each trace is one consecutive slice.
    for (let i = 0; i < facts.length; ) {
      let j = i + 1;
      while (j < facts.length && facts[j].traceId === facts[i].traceId && facts[j].tenant === facts[i].tenant) j++;
      const slice: SpanRecord[] = facts.slice(i, j);
      derived.push(replacementOf(slice[0].tenant, slice[0].traceId, slice, { newTrace: false }));
      i = j;
    }
    if (derived.length) await store.commit({ spans: [], events: [], derived });
    await store.setRederivation(part + 1, task.parts);
    traces += derived.length;
    records += facts.length;
    if (records > 0) log(`re-deriving stored traces: part ${part + 1} of ${task.parts}, ${traces} traces, ${records} records, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { traces, records };
}
