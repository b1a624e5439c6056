/**
 * The generator's configuration, from environment variables.
 *
 * Where to send and with which credentials is deliberately not read here: the OpenTelemetry
 * exporters read OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS themselves, exactly
 * as they would in an instrumented agent, so the demo exercises the same configuration path.
 */
import { isRunConvention, RUN_CONVENTIONS, type RunConvention } from './conventions';
import type { OtlpProtocol } from './telemetry';

export interface DemoSettings {
  protocol: OtlpProtocol;
  runsPerMinute: number;
  /** 0 = run until stopped. Counted from the start of live traffic (after any backfill). */
  durationSeconds: number;
  seed: string;
  backfillHours: number;
  backfillRunsPerMinute: number;
  /** Relative weight of each run convention in the traffic mix. */
  conventions: [RunConvention, number][];
  /** Share of arrivals that are voice sessions instead of agent runs. */
  voiceShare: number;
  /** Share of arrivals that are non-GenAI traces (health checks). */
  noiseShare: number;
  /** How long to wait for runs still in flight when stopping. */
  drainSeconds: number;
  verbose: boolean;
  /** For log lines only; the exporters resolve the endpoint themselves. */
  endpointForDisplay: string;
}

export const DEFAULT_CONVENTION_WEIGHTS: [RunConvention, number][] = [
  ['otel-genai', 30],
  ['otel-genai-legacy', 15],
  ['openinference', 20],
  ['openllmetry', 20],
  ['vercel-ai', 15],
];

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return value;
}

function protocolFrom(env: NodeJS.ProcessEnv): OtlpProtocol {
  const demo = env.DEMO_PROTOCOL?.trim().toLowerCase();
  if (demo) {
    if (demo === 'protobuf' || demo === 'http/protobuf') return 'protobuf';
    if (demo === 'json' || demo === 'http/json') return 'json';
    throw new Error(`DEMO_PROTOCOL must be protobuf or json, got "${env.DEMO_PROTOCOL}"`);
  }
  // Fall back to the standard variable, so an environment set up for agents works unchanged.
  const std = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim().toLowerCase();
  return std === 'http/json' ? 'json' : 'protobuf';
}

/** DEMO_CONVENTIONS=openinference,vercel-ai restricts the mix (equal weights). */
function conventionsFrom(env: NodeJS.ProcessEnv): [RunConvention, number][] {
  const raw = env.DEMO_CONVENTIONS?.trim();
  if (!raw) return DEFAULT_CONVENTION_WEIGHTS;
  const names = raw.split(',').map((n) => n.trim()).filter(Boolean);
  for (const n of names) {
    if (!isRunConvention(n)) throw new Error(`DEMO_CONVENTIONS: unknown convention "${n}" (known: ${RUN_CONVENTIONS.join(', ')})`);
  }
  return (names as RunConvention[]).map((n) => [n, 1]);
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): DemoSettings {
  const runsPerMinute = numberFrom(env, 'DEMO_RUNS_PER_MINUTE', 30, 0.01);
  return {
    protocol: protocolFrom(env),
    runsPerMinute,
    durationSeconds: numberFrom(env, 'DEMO_DURATION_SECONDS', 0),
    seed: env.DEMO_SEED?.trim() || `${Date.now()}-${process.pid}`,
    backfillHours: numberFrom(env, 'DEMO_BACKFILL_HOURS', 0),
    backfillRunsPerMinute: numberFrom(env, 'DEMO_BACKFILL_RUNS_PER_MINUTE', runsPerMinute, 0.01),
    conventions: conventionsFrom(env),
    voiceShare: numberFrom(env, 'DEMO_VOICE_SHARE', 0.08),
    noiseShare: numberFrom(env, 'DEMO_NOISE_SHARE', 0.03),
    drainSeconds: numberFrom(env, 'DEMO_DRAIN_SECONDS', 10),
    verbose: env.DEMO_VERBOSE === '1' || env.DEMO_VERBOSE === 'true',
    endpointForDisplay: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318',
  };
}
