/**
 * Where the server's main thread spent its time, from a V8 .cpuprofile (node --cpu-prof):
 * self time by pipeline stage (V8 builtins such as JSON.parse or RegExp count for the server code
 * that called them), inclusive time of the pipeline's main functions, and the hottest functions.
 * DuckDB's own threads (commit, WAL fsync) are not in this profile; the benchmark reports the
 * process's CPU time of all threads separately.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [spans]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  wallSeconds: number;
  busySeconds: number;
  stages: { stage: string; seconds: number; percentOfBusy: number }[];
  functions: { name: string; seconds: number; percentOfBusy: number }[];
  hottest: { name: string; where: string; seconds: number; percentOfBusy: number }[];
}

/** Pipeline stage of a frame, from its script; null for frames without a script (builtins). */
function stageOf(f: CallFrame): string | null {
  const u = f.url;
  if (f.functionName === '(idle)') return 'idle';
  if (f.functionName === '(garbage collector)') return 'garbage collection';
  if (f.functionName === '(program)') return 'V8/native, unattributed';
  if (f.functionName === '(root)') return null;
  if (!u) return null;
  if (u.includes('/server/dist/')) {
    if (u.includes('/ingest/otlp/')) return 'decode (server code)';
    if (u.includes('/conventions/')) return 'normalise';
    if (u.includes('/content/')) return 'redact + truncate';
    if (u.includes('/ingest/writer')) return 'writer: dedup + caches';
    if (u.includes('/derive/')) return 'derive runs';
    if (u.includes('/store/')) return 'store: appender rows';
    if (u.includes('/ingest/pipeline')) return 'pipeline';
    if (u.includes('/http/')) return 'http handlers';
    if (u.includes('/auth/')) return 'auth';
    return 'server, other';
  }
  if (u.includes('/protobufjs/') || u.includes('/@protobufjs/')) return 'decode (protobufjs)';
  if (u.includes('/@duckdb/')) return 'duckdb node-api (JS)';
  if (/\/(fastify|@fastify|find-my-way|avvio|light-my-request|pino|fast-json-stringify|secure-json-parse|process-warning|abstract-logging|toad-cache|rfdc)\//.test(u)) return 'fastify';
  if (u.includes('/prom-client/')) return 'metrics';
  if (u.startsWith('node:') || u.startsWith('internal/')) return 'node core (http, net, streams)';
  return 'other';
}

export function summariseProfile(file: string): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stageCache = new Map<number, string>();
  const stageOfNode = (id: number): string => {
    const cached = stageCache.get(id);
    if (cached) return cached;
    let s: string | null = null;
    for (let cur: number | undefined = id; cur !== undefined && s === null; cur = parent.get(cur)) s = stageOf((byId.get(cur) as ProfileNode).callFrame);
    const result = s ?? 'other';
    stageCache.set(id, result);
    return result;
  };
  const KEY_FUNCTIONS = [
    'decodeTraces',
    'decodeProtobuf',
    'parseJson',
    'normaliseSpan',
    'extractContent',
    'keptAttributes',
    'redact',
    'spanEvents',
    'submit',
    'writeBatch',
    'deriveTrace',
    // (the store's commit() runs its appends inside an async callback: appendSpan stands for it)
    'appendSpan',
    'decodedBody',
  ];
  const stageTime = new Map<string, number>();
  const selfTime = new Map<number, number>();
  const fnTime = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i];
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1e6; // a sample lasts until the next one
    total += dt;
    const stage = stageOfNode(id);
    stageTime.set(stage, (stageTime.get(stage) ?? 0) + dt);
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const fn = (byId.get(cur) as ProfileNode).callFrame.functionName;
      if (KEY_FUNCTIONS.includes(fn) && !seen.has(fn)) {
        seen.add(fn);
        fnTime.set(fn, (fnTime.get(fn) ?? 0) + dt);
      }
    }
  }
  const idle = stageTime.get('idle') ?? 0;
  const busy = total - idle;
  const pct = (s: number) => (busy > 0 ? (s / busy) * 100 : 0);
  const hotByName = new Map<string, { name: string; where: string; seconds: number }>();
  for (const [id, s] of selfTime) {
    const f = (byId.get(id) as ProfileNode).callFrame;
    if (f.functionName === '(idle)') continue;
    const where = f.url ? `${f.url.replace(/^.*\/(server\/dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '(builtin)';
    const key = `${f.functionName}@${where}`;
    const e = hotByName.get(key) ?? { name: f.functionName || '(anonymous)', where, seconds: 0 };
    e.seconds += s;
    hotByName.set(key, e);
  }
  return {
    file,
    wallSeconds: (p.endTime - p.startTime) / 1e6,
    busySeconds: busy,
    stages: [...stageTime]
      .filter(([k]) => k !== 'idle')
      .map(([stage, seconds]) => ({ stage, seconds, percentOfBusy: pct(seconds) }))
      .sort((a, b) => b.seconds - a.seconds),
    functions: KEY_FUNCTIONS.filter((f) => fnTime.has(f)).map((name) => ({ name, seconds: fnTime.get(name) as number, percentOfBusy: pct(fnTime.get(name) as number) })),
    hottest: [...hotByName.values()]
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, 25)
      .map((h) => ({ ...h, percentOfBusy: pct(h.seconds) })),
  };
}

export function formatProfileSummary(s: ProfileSummary, spans?: number): string {
  const perSpan = (sec: number) => (spans ? `  ${((sec / spans) * 1e6).toFixed(1).padStart(7)} µs/span` : '');
  const lines = [
    `main-thread profile ${s.file}`,
    `  ${s.wallSeconds.toFixed(1)} s profiled, ${s.busySeconds.toFixed(1)} s busy (${((s.busySeconds / s.wallSeconds) * 100).toFixed(0)} % of one core)`,
    '  self time by stage (builtins count for their caller):',
    ...s.stages.map((x) => `    ${x.stage.padEnd(34)} ${x.seconds.toFixed(2).padStart(8)} s ${x.percentOfBusy.toFixed(1).padStart(5)} %${perSpan(x.seconds)}`),
    '  inclusive time of pipeline functions:',
    ...s.functions.map((x) => `    ${x.name.padEnd(34)} ${x.seconds.toFixed(2).padStart(8)} s ${x.percentOfBusy.toFixed(1).padStart(5)} %${perSpan(x.seconds)}`),
    '  hottest functions (self time):',
    ...s.hottest.map((x) => `    ${x.name.slice(0, 34).padEnd(34)} ${x.seconds.toFixed(2).padStart(8)} s ${x.percentOfBusy.toFixed(1).padStart(5)} %  ${x.where}`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const [file, spans] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [spans]');
    process.exit(2);
  }
  console.log(formatProfileSummary(summariseProfile(file), spans ? Number(spans) : undefined));
}
