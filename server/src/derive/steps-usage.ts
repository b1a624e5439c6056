/**
 * The per-step and per-run-usage rows derived from one trace, next to its runs (trace.ts): steps
 * (every OTLP span record with its run) and LLM usage summed per run, 15-minute bucket and model.
 * Computed here, in TypeScript, so every storage engine stores the same rows; and derived per
 * trace like runs, so a late span or a run derived again replaces them whole: no aggregate is ever
 * patched, so none can go stale.
 */
import { RunRow, SpanRecord, StepFact, UsageRow } from '../domain';
import { tokenClasses } from '../pricing/prices';

/** Usage rows are summed per 15 minutes of UTC: every time zone's offset is a multiple of it. */
export const USAGE_BUCKET_US = 15 * 60 * 1_000_000;
export const USAGE_BUCKET_MS = USAGE_BUCKET_US / 1000;

export const bucketOf = (us: number): number => Math.floor(Math.round(us) / USAGE_BUCKET_US) * USAGE_BUCKET_US;

/**
 * The 15-minute buckets (or intervals of widthMs, aligned on the epoch) wholly inside a query
 * range [from, to] (epoch ms, both inclusive; stored times are µs), as [from, to) in ms: from ===
 * to when there is none.
 */
export function wholeBucketSpan(range: { from: number; to: number }, widthMs = USAGE_BUCKET_MS): { from: number; to: number } {
  const from = Math.ceil(range.from / widthMs) * widthMs;
  const to = Math.floor((range.to + 0.001) / widthMs) * widthMs;
  return { from, to: Math.max(from, to) };
}

function durationOf(r: SpanRecord): number | null {
  if (r.durationMs !== undefined) return r.durationMs;
  return r.endUs === null ? null : (r.endUs - r.startUs) / 1000;
}

/**
 * The run a span record belongs to: derivation's (the tree: its outermost agent ancestor's run).
 * A span of no run (a voice session's turn, an LLM call under a turn rather than an agent) goes
 * to the trace's only run, or else to the first run whose time encloses its start: the rule the
 * steps view used before steps were stored, so such spans still count for the run around them.
 */
function runOf(r: SpanRecord, stepRun: Map<string, string>, runs: RunRow[], byId: Map<string, RunRow>): RunRow | undefined {
  const id = stepRun.get(r.spanId);
  if (id !== undefined) return byId.get(id);
  if (runs.length === 1) return runs[0];
  return runs.find((run) => r.startUs >= run.startUs && (run.endUs === null || r.startUs <= run.endUs));
}

export function deriveSteps(records: SpanRecord[], runs: RunRow[], stepRun: Map<string, string>): StepFact[] {
  if (!runs.length) return [];
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const out: StepFact[] = [];
  for (const r of records) {
    if (r.record !== 'span') continue;
    const run = runOf(r, stepRun, runs, byId);
    if (!run) continue;
    out.push({
      tenant: r.tenant,
      traceId: r.traceId,
      spanId: r.spanId,
      runId: run.runId,
      runAgent: run.agent,
      runAgentVersion: run.agentVersion,
      runStatus: run.status,
      runStartUs: run.startUs,
      runEnvironment: run.environment,
      runService: run.service,
      runChannel: run.channel,
      runConversationId: run.conversationId,
      runUserId: run.userId,
      parentSpanId: r.parentSpanId,
      role: r.role,
      name: r.name,
      toolName: r.toolName,
      model: r.model,
      responseModel: r.responseModel,
      provider: r.provider,
      statusCode: r.statusCode,
      statusMessage: r.statusMessage,
      errorType: r.errorType,
      startUs: r.startUs,
      durationMs: durationOf(r),
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      cachedTokens: r.cachedTokens,
      cacheWriteTokens: r.cacheWriteTokens,
      reasoningTokens: r.reasoningTokens,
      totalTokens: r.totalTokens,
      cost: r.cost,
    });
  }
  return out;
}

/** An LLM step counts as a call when it reports usage or cost. */
export function reportsCallUsage(s: { inputTokens: number | null; outputTokens: number | null; totalTokens: number | null; cost: number | null }): boolean {
  return s.inputTokens !== null || s.outputTokens !== null || s.totalTokens !== null || s.cost !== null;
}

interface Call {
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  totalTokens: number;
  cost: number | null;
}

const addNullable = (a: number | null, b: number | null): number | null => (b === null ? a : (a ?? 0) + b);

function emptyRow(run: RunRow, bucketUs: number, runLevel: boolean, model: string, responseModel: string, provider: string): UsageRow {
  return {
    tenant: run.tenant,
    traceId: run.traceId,
    runId: run.runId,
    agent: run.agent,
    agentVersion: run.agentVersion,
    status: run.status,
    runStartUs: run.startUs,
    channel: run.channel,
    environment: run.environment,
    service: run.service,
    conversationId: run.conversationId,
    userId: run.userId,
    bucketUs,
    runLevel,
    model,
    responseModel,
    provider,
    calls: 0,
    inputTokens: null,
    outputTokens: null,
    cachedTokens: null,
    cacheWriteTokens: null,
    reasoningTokens: null,
    totalTokens: 0,
    reportedCalls: 0,
    reportedCost: null,
    pricedCalls: 0,
    billableInput: 0,
    pricedCached: 0,
    pricedCacheWrite: 0,
    pricedOutput: 0,
  };
}

/** Adds one call; its cost class decides which sums it joins (pricing/sql.ts usageCostSql). */
function addCall(u: UsageRow, c: Call): void {
  u.calls++;
  u.inputTokens = addNullable(u.inputTokens, c.inputTokens);
  u.outputTokens = addNullable(u.outputTokens, c.outputTokens);
  u.cachedTokens = addNullable(u.cachedTokens, c.cachedTokens);
  u.cacheWriteTokens = addNullable(u.cacheWriteTokens, c.cacheWriteTokens);
  u.reasoningTokens = addNullable(u.reasoningTokens, c.reasoningTokens);
  u.totalTokens += c.totalTokens;
  if (c.cost !== null) {
    u.reportedCalls++;
    u.reportedCost = (u.reportedCost ?? 0) + c.cost;
  } else if (c.inputTokens !== null || c.outputTokens !== null) {
    const t = tokenClasses(c);
    u.pricedCalls++;
    u.billableInput += t.uncached;
    u.pricedCached += t.cached;
    u.pricedCacheWrite += t.cacheWrite;
    u.pricedOutput += t.output;
  }
}

/**
 * LLM usage rows of a trace's runs: the LLM steps reporting usage or cost, summed per run,
 * bucket, model, response model and provider; a run with none of them but with totals of its own
 * (an agent span's, a native run's) gets one run-level row (design.md: a total is used only
 * without its parts).
 */
export function deriveUsage(records: SpanRecord[], runs: RunRow[], steps: StepFact[]): UsageRow[] {
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const rows = new Map<string, UsageRow>();
  const withCalls = new Set<string>();
  for (const s of steps) {
    if (s.role !== 'llm' || !reportsCallUsage(s)) continue;
    const run = byId.get(s.runId) as RunRow;
    withCalls.add(run.runId);
    const bucket = bucketOf(s.startUs);
    const key = `${run.runId}\u0000${bucket}\u0000${s.model}\u0000${s.responseModel}\u0000${s.provider}`;
    let u = rows.get(key);
    if (!u) rows.set(key, (u = emptyRow(run, bucket, false, s.model, s.responseModel, s.provider)));
    addCall(u, {
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      cachedTokens: s.cachedTokens,
      cacheWriteTokens: s.cacheWriteTokens,
      reasoningTokens: s.reasoningTokens,
      totalTokens: s.totalTokens ?? (s.inputTokens ?? 0) + (s.outputTokens ?? 0),
      cost: s.cost,
    });
  }
  const out = [...rows.values()];
  for (const run of runs) {
    if (withCalls.has(run.runId)) continue;
    if (!(run.totalTokens > 0 || run.inputTokens > 0 || run.outputTokens > 0 || run.cost !== null)) continue;
    // The root's own OTLP record names the model (a native run has none).
    const root = run.rootSpanId ? records.find((r) => r.spanId === run.rootSpanId && r.record === 'span') : undefined;
    const u = emptyRow(run, bucketOf(run.startUs), true, root?.model ?? '', root?.responseModel ?? '', root?.provider ?? '');
    // The run keeps 0 for "not reported": without an input/output split there is nothing to price.
    const split = run.inputTokens + run.outputTokens > 0;
    addCall(u, {
      inputTokens: split ? run.inputTokens : null,
      outputTokens: split ? run.outputTokens : null,
      cachedTokens: run.cachedTokens,
      cacheWriteTokens: root ? root.cacheWriteTokens : null,
      reasoningTokens: run.reasoningTokens,
      totalTokens: run.totalTokens,
      cost: run.cost,
    });
    out.push(u);
  }
  return out;
}
