/**
 * A client process for tests: sends runs of every convention, voice sessions and a non-GenAI
 * trace through the real OpenTelemetry JS SDK and OTLP exporters (the demo generator's emitters),
 * then prints what it sent as JSON on stdout. It runs outside Jest because the exporters load
 * node:http through a dynamic import(), which Jest's module sandbox does not support.
 *
 * usage: tsx sdk-client.ts <endpoint> <bearer key> <protobuf|json> <seed>
 */
import { createOtlpSink, emitNonGenAiTrace, emitRun, emitVoiceSession, Outcome, RUN_CONVENTIONS, VOICE_FRAMEWORKS } from '../demo';

async function main(): Promise<void> {
  const [endpoint, key, protocol, seed] = process.argv.slice(2);
  const sink = createOtlpSink({ endpoint, headers: { Authorization: `Bearer ${key}` }, protocol: protocol as 'protobuf' | 'json' });
  const outcomes: Outcome[] = ['completed', 'failed', 'timed_out', 'never_ends'];
  const startTime = Date.now() - 20 * 60_000; // old enough that a run that never ends is past the 15 min deadline
  const runs = RUN_CONVENTIONS.flatMap((convention) =>
    outcomes.map((outcome) => emitRun(sink, convention, { seed: `${seed}-${convention}-${outcome}`, outcome, startTime, toolRounds: 2 })),
  );
  const sessions = VOICE_FRAMEWORKS.map((framework) => emitVoiceSession(sink, framework, { seed: `${seed}-${framework}` }));
  const noise = emitNonGenAiTrace(sink, { seed: `${seed}-noise` });
  await Promise.all([...runs, ...sessions, noise].map((e) => e.done));
  await sink.forceFlush();
  await sink.shutdown();
  const strip = ({ done: _d, cancel: _c, pending: _p, plan: _pl, scenario: _s, session: _se, ...rest }: Record<string, unknown>) => rest;
  process.stdout.write(JSON.stringify({ runs: runs.map((r) => strip(r as never)), sessions: sessions.map((s) => strip(s as never)), noise: strip(noise as never) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
