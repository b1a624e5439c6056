/**
 * Deriving runs and sessions from the spans of one trace (design.md, "Runs, precisely").
 * A pure function of the facts: when a late span arrives, the trace is derived again, so there is
 * no mutable run to patch and nothing to retract.
 *
 * - A run is the outermost agent span of a chain of ancestors; agent spans inside it are steps.
 * - Spans with no agent ancestor whose chain reaches the trace's real root form one run named
 *   after the service (an application that instruments only its LLM client), if they hold GenAI steps.
 * - Spans whose chain stops at a parent that has not arrived yet form the trace's provisional,
 *   running run, identified by the trace id: OpenTelemetry exports a span when it ends, so the
 *   agent span comes last.
 * - Voice/video session spans are sessions, not runs; their turns are counted on the session.
 */
import { Channel, Role, RunRow, RunStatus, SessionRow, SpanRecord, StepFact, UsageRow } from '../domain';
import { DerivedReplacement } from '../store/store';
import { deriveSteps, deriveUsage } from './steps-usage';

export interface DerivedTrace {
  runs: RunRow[];
  sessions: SessionRow[];
  /** Which run each span belongs to (span id to run id); spans of no run are absent. */
  stepRun: Map<string, string>;
  /** Every OTLP span record of the trace with its run (steps-usage.ts). */
  steps: StepFact[];
  /** LLM usage of the trace's runs per 15-minute bucket and model (steps-usage.ts). */
  usage: UsageRow[];
}

const RECORD_RANK: Record<string, number> = { span: 4, finished: 3, updated: 2, started: 1 };

function rank(r: { record: string }): number {
  return RECORD_RANK[r.record.split(':')[0]] ?? 0;
}

interface Mergeable {
  spanId: string;
  record: string;
  startUs: number;
}

/**
 * One record per span id: an OTLP span beats the native API's finished, updated and started
 * records; fields the winning record leaves empty are filled from the others (a native
 * run.finished event need not repeat the agent named at run.started).
 */
export function mergeRecords<R extends Mergeable>(records: Iterable<R>): Map<string, R> {
  const bySpan = new Map<string, R[]>();
  for (const r of records) {
    const list = bySpan.get(r.spanId);
    if (list) list.push(r);
    else bySpan.set(r.spanId, [r]);
  }
  const out = new Map<string, R>();
  for (const [spanId, list] of bySpan) {
    if (list.length === 1) {
      out.set(spanId, list[0]);
      continue;
    }
    list.sort((a, b) => rank(b) - rank(a) || (b.record > a.record ? 1 : b.record < a.record ? -1 : 0));
    const merged: R = { ...list[0] };
    const m = merged as unknown as Record<string, unknown>;
    for (const other of list.slice(1)) {
      const o = other as unknown as Record<string, unknown>;
      for (const key of Object.keys(o)) {
        const cur = m[key];
        if (cur === '' || cur === null) m[key] = o[key];
      }
    }
    // A native run.finished without a start time carries its end as start: the earliest start wins.
    merged.startUs = Math.min(...list.map((r) => r.startUs));
    out.set(spanId, merged);
  }
  return out;
}

interface Chain {
  outermostAgent: SpanRecord | null;
  session: SpanRecord | null;
  top: SpanRecord;
}

function chainOf(span: SpanRecord, spans: Map<string, SpanRecord>): Chain {
  let outermostAgent: SpanRecord | null = null;
  let session: SpanRecord | null = null;
  let top = span;
  const seen = new Set<string>();
  for (let cur: SpanRecord | undefined = span; cur && !seen.has(cur.spanId); cur = spans.get(cur.parentSpanId)) {
    seen.add(cur.spanId);
    if (cur.role === 'agent') outermostAgent = cur;
    if (cur.role === 'session' && !session) session = cur;
    top = cur;
  }
  return { outermostAgent, session, top };
}

function statusOf(root: SpanRecord): RunStatus {
  if (root.endUs === null) return 'running';
  if (root.statusCode === 2) return root.timeoutHint ? 'timed_out' : 'failed';
  return 'completed';
}

function firstNonEmpty<K extends keyof SpanRecord>(spans: SpanRecord[], key: K): string {
  for (const s of spans) {
    const v = s[key];
    if (typeof v === 'string' && v !== '') return v;
  }
  return '';
}

const GENAI_STEPS: ReadonlySet<Role> = new Set(['llm', 'tool', 'retrieval']);

function sum(spans: SpanRecord[], key: 'inputTokens' | 'outputTokens' | 'cachedTokens' | 'reasoningTokens' | 'totalTokens'): number {
  let t = 0;
  for (const s of spans) t += s[key] ?? 0;
  return t;
}

function reportsUsage(s: SpanRecord): boolean {
  return s.inputTokens !== null || s.outputTokens !== null || s.totalTokens !== null;
}

function buildRun(traceId: string, root: SpanRecord | null, members: SpanRecord[]): RunRow {
  // Root first, so that its own values win over its descendants'.
  const ordered = root ? [root, ...members.filter((m) => m !== root)] : members;
  const steps = root ? members.filter((m) => m !== root) : members;
  const llm = steps.filter((s) => s.role === 'llm');
  const llmWithUsage = llm.filter(reportsUsage);
  // Tokens are counted on LLM steps; a total carried by an agent span is used only without them.
  const usageSource = llmWithUsage.length > 0 ? llmWithUsage : root && reportsUsage(root) ? [root] : [];
  const costed = (llm.some((s) => s.cost !== null) ? llm : root ? [root] : []).filter((s) => s.cost !== null);
  const channels = ordered.map((s) => s.channel).filter((c): c is Channel => c !== '');
  const service = firstNonEmpty(ordered, 'service');
  const start = root ? root.startUs : Math.min(...members.map((m) => m.startUs));
  return {
    tenant: ordered[0].tenant,
    runId: root ? root.externalRunId || `${traceId}-${root.spanId}` : traceId,
    traceId,
    rootSpanId: root ? root.spanId : '',
    agent: firstNonEmpty(ordered, 'agentName') || service || 'unknown',
    agentVersion: firstNonEmpty(ordered, 'agentVersion'),
    service,
    environment: firstNonEmpty(ordered, 'environment'),
    channel: channels.includes('video') ? 'video' : channels.includes('voice') ? 'voice' : 'text',
    conversationId: firstNonEmpty(ordered, 'conversationId'),
    userId: firstNonEmpty(ordered, 'userId'),
    status: root ? statusOf(root) : 'running',
    startUs: start,
    endUs: root ? root.endUs : null,
    toolCalls: steps.filter((s) => s.role === 'tool').length,
    llmCalls: llm.length,
    inputTokens: sum(usageSource, 'inputTokens'),
    outputTokens: sum(usageSource, 'outputTokens'),
    cachedTokens: sum(usageSource, 'cachedTokens'),
    reasoningTokens: sum(usageSource, 'reasoningTokens'),
    totalTokens: sum(usageSource, 'totalTokens'),
    cost: costed.length ? costed.reduce((t, s) => t + (s.cost ?? 0), 0) : null,
    errorType: root?.errorType ?? '',
    errorMessage: root && root.statusCode === 2 ? root.statusMessage : '',
    models: [...new Set(llm.map((s) => s.model).filter(Boolean))].sort().join(', '),
    spanCount: members.length,
    // Filled in by deriveTrace, which sees all runs and records of the trace.
    runsInTrace: 1,
    traceStartUs: start,
    traceEndUs: start,
    traceTools: [],
    traceModels: [],
    traceProviders: [],
  };
}

function buildSession(traceId: string, root: SpanRecord | null, members: SpanRecord[]): SessionRow {
  const ordered = root ? [root, ...members.filter((m) => m !== root)] : members;
  // LiveKit reports a user_turn and an agent_turn per exchange: a turn is the agent's answer.
  const turns = members.filter((m) => m.role === 'turn' && m.name !== 'user_turn');
  const latencies = members.filter((m) => m.role === 'turn' && m.latencyMs !== null).map((m) => m.latencyMs as number);
  const llmCosts = members.filter((m) => m.cost !== null && m !== root);
  const service = firstNonEmpty(ordered, 'service');
  const channels = ordered.map((s) => s.channel);
  const useNative = root !== null && root.turns !== null;
  return {
    tenant: ordered[0].tenant,
    sessionId: root ? root.sessionId || `${traceId}-${root.spanId}` : traceId,
    traceId,
    rootSpanId: root ? root.spanId : '',
    agent: firstNonEmpty(ordered, 'agentName') || service || 'unknown',
    channel: channels.includes('video') ? 'video' : 'voice',
    service,
    environment: firstNonEmpty(ordered, 'environment'),
    conversationId: firstNonEmpty(ordered, 'conversationId'),
    userId: firstNonEmpty(ordered, 'userId'),
    status: root ? statusOf(root) : 'running',
    startUs: root ? root.startUs : Math.min(...members.map((m) => m.startUs)),
    endUs: root ? root.endUs : null,
    turns: useNative ? (root.turns as number) : turns.length,
    interruptions: useNative ? root.interruptions ?? 0 : turns.filter((t) => t.interrupted === true).length,
    avgLatencyMs: useNative && root.latencyMs !== null ? root.latencyMs : latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null,
    endReason: root?.endReason ?? '',
    cost: root && root.cost !== null ? root.cost : llmCosts.length ? llmCosts.reduce((t, s) => t + (s.cost ?? 0), 0) : null,
  };
}

/** The distinct non-empty values of one field over records, sorted (the same list on every engine). */
function distinctOf(records: SpanRecord[], key: 'toolName' | 'model' | 'provider'): string[] {
  const out = new Set<string>();
  for (const r of records) if (r[key] !== '') out.add(r[key]);
  return [...out].sort();
}

export function deriveTrace(traceId: string, input: Iterable<SpanRecord>): DerivedTrace {
  const records = [...input];
  const spans = mergeRecords(records);
  const runGroups = new Map<string, { root: SpanRecord | null; members: SpanRecord[] }>();
  const sessionGroups = new Map<string, { root: SpanRecord | null; members: SpanRecord[] }>();
  const add = (groups: typeof runGroups, key: string, root: SpanRecord | null, span: SpanRecord): void => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { root, members: [] }));
    g.members.push(span);
  };

  for (const span of spans.values()) {
    const chain = chainOf(span, spans);
    if (chain.session) add(sessionGroups, chain.session.spanId, chain.session, span);
    else if (span.role === 'turn') add(sessionGroups, '', null, span); // turns before their session span

    if (chain.outermostAgent) add(runGroups, chain.outermostAgent.spanId, chain.outermostAgent, span);
    else if (chain.session || span.role === 'session' || span.role === 'turn') continue;
    else if (chain.top.parentSpanId === '') add(runGroups, chain.top.spanId, chain.top, span);
    else add(runGroups, '', null, span);
  }

  const runs: RunRow[] = [];
  const stepRun = new Map<string, string>();
  for (const g of runGroups.values()) {
    const isAgentRun = g.root?.role === 'agent';
    if (!isAgentRun && !g.members.some((m) => GENAI_STEPS.has(m.role))) continue; // not a run: no GenAI at all
    const run = buildRun(traceId, g.root, g.members);
    runs.push(run);
    for (const m of g.members) stepRun.set(m.spanId, run.runId);
  }
  let traceStartUs = Infinity;
  let traceEndUs = -Infinity;
  for (const r of records) {
    if (r.startUs < traceStartUs) traceStartUs = r.startUs;
    if (r.startUs > traceEndUs) traceEndUs = r.startUs;
  }
  // Every record counts, of any role and whether or not it belongs to a run, as the spans table holds them.
  const traceTools = distinctOf(records, 'toolName');
  const traceModels = distinctOf(records, 'model');
  const traceProviders = distinctOf(records, 'provider');
  for (const run of runs) Object.assign(run, { runsInTrace: runs.length, traceStartUs, traceEndUs, traceTools, traceModels, traceProviders });
  const sessions = [...sessionGroups.values()].map((g) => buildSession(traceId, g.root, g.members));
  const steps = deriveSteps(records, runs, stepRun);
  return { runs, sessions, stepRun, steps, usage: deriveUsage(records, runs, steps) };
}

/**
 * Everything storage keeps of a trace's derivation (runs, sessions, steps, usage), as one
 * replacement of the trace's derived rows: the one place that lists them, for ingest, re-derivation
 * and copies between stores.
 */
export function replacementOf(
  tenant: string,
  traceId: string,
  records: Iterable<SpanRecord>,
  how: Pick<DerivedReplacement, 'newTrace' | 'factsVersion'> = {},
): DerivedReplacement {
  const { runs, sessions, steps, usage } = deriveTrace(traceId, records);
  return { tenant, traceId, runs, sessions, steps, usage, ...how };
}
