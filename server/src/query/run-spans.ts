/**
 * Which spans make up one run, in one place: derivation's answer (deriveTrace on the trace's stored
 * facts, exactly as at ingest), with the native API's records of one span (started, updated,
 * finished) merged into one. Used by GET /api/v1/runs/:runId and by the runTrace, runSteps and
 * runEvents capabilities, so the API and the trace view never disagree about a run's steps.
 */
import { deriveTrace, mergeRecords } from '../derive/trace';
import { SpanRecord } from '../domain';
import { Row, StepRow, Store, TraceWindow } from '../store/store';
import { Dialect, dialectOf } from './dialect';

/** One span of a run: its content, attributes and events (step) and its derivation facts (fact). */
export interface RunSpan {
  step: StepRow;
  /** The merged fact record: status message, span kind, service, tokens, timeout hint. */
  fact: SpanRecord | undefined;
}

/** The spans of one run, oldest first, each span once. */
export async function loadRunSpans(store: Store, tenant: string, run: { runId: string; traceId: string; window?: TraceWindow }): Promise<RunSpan[]> {
  // The run's row knows when its trace's records start and end: the engine reads only those blocks.
  // Facts and steps are independent reads: the store's reader connections answer them side by side.
  const [facts, steps] = await Promise.all([store.loadTrace(tenant, run.traceId, run.window), store.loadTraceSteps(tenant, run.traceId, run.window)]);
  const derived = deriveTrace(run.traceId, facts);
  const mergedFacts = mergeRecords(facts);
  const records = steps.filter((s) => derived.stepRun.get(s.spanId) === run.runId);
  return [...mergeRecords(records).values()]
    .sort((a, b) => a.startUs - b.startUs || a.spanId.localeCompare(b.spanId))
    .map((step) => {
      const fact = mergedFacts.get(step.spanId);
      // A native run.finished without a start time stores a duration of 0; after merging, the span
      // lasts from the earliest start to its end.
      if (fact && fact.endUs !== null) step.durationMs = (fact.endUs - fact.startUs) / 1000;
      return { step, fact };
    });
}

/** Columns of runs_v a run's trace, steps and events need. */
const runDetailColumns = (d: Dialect): string => `r.run_id, r.trace_id, r.root_span_id, r.agent, r.agent_version, r.service, r.environment, r.channel,
  r.conversation_id, r.user_id, r.status, ${d.epochMs('r.start_time')}::DOUBLE AS start_ms, r.duration_ms, r.tool_calls, r.llm_calls,
  r.input_tokens, r.output_tokens, r.total_tokens, r.cost, r.error_type, r.error_message,
  ${d.epochUs('r.trace_start')}::DOUBLE AS trace_start_us, ${d.epochUs('r.trace_end')}::DOUBLE AS trace_end_us`;

/** The trace window of a run row read with runDetailColumns (absent on rows not derived since migration 2). */
export function traceWindowOf(run: Row): TraceWindow | undefined {
  const from = run.trace_start_us;
  const to = run.trace_end_us;
  return from === null || from === undefined || to === null || to === undefined ? undefined : { fromUs: Number(from), toUs: Number(to) };
}

/**
 * Finds a run by any id it is known by: its run id (trace id + span id, or a native platform's own
 * id), its trace id + root span id (a native run that also has an id of its own), or its trace id
 * (a provisional running run; once the agent span arrives the run's id gains the span id, so a link
 * taken from a live table still opens the run). With several runs in one trace, a bare trace id
 * opens the earliest.
 */
export async function findRun(store: Store, tenant: string, id: string): Promise<Row | null> {
  // "<trace id>-<root span id>" is matched as equalities on the two columns, one pair per place the
  // id could be split at a '-', rather than by concatenating both columns of every run (about 30 ms
  // of CPU of opening one run among 647,039).
  const params: unknown[] = [tenant, id];
  const pairs: string[] = [];
  for (let k = id.indexOf('-'); k > 0; k = id.indexOf('-', k + 1)) {
    params.push(id.slice(0, k), id.slice(k + 1));
    pairs.push(`(r.trace_id = $${params.length - 1} AND r.root_span_id = $${params.length})`);
  }
  const bySpan = pairs.length ? `(r.root_span_id <> '' AND (${pairs.join(' OR ')}))` : 'false';
  const rows = await store.read(
    `SELECT ${runDetailColumns(dialectOf(store.engine))},
       CASE WHEN r.run_id = $2 THEN 0 WHEN ${bySpan} THEN 1 ELSE 2 END AS how
     FROM runs_v r
     WHERE r.tenant = $1 AND (r.run_id = $2 OR ${bySpan} OR r.trace_id = $2)
     ORDER BY how, r.start_time, r.run_id LIMIT 1`,
    params,
  );
  return rows[0] ?? null;
}
