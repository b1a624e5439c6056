/**
 * Demo traffic generator: sends realistic agent telemetry to an Agent Insights server over
 * OTLP/HTTP until stopped. Configuration is environment variables only (see settings.ts and
 * docs/instrumentation.md); endpoint and headers are the standard OTEL_EXPORTER_OTLP_* variables.
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
 *   OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer%20<key>' \
 *   DEMO_BACKFILL_HOURS=6 npm run demo -w server
 */
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { SeededIdGenerator } from './ids';
import { World } from './scenario';
import { TrafficScheduler } from './scheduler';
import { readSettings } from './settings';
import { createOtlpSink } from './telemetry';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Export failures (server down, 401 with a wrong key) are reported by the SDK through diag.
  diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const settings = readSettings(env);
  const world = new World(settings.seed);
  const sink = createOtlpSink({ protocol: settings.protocol }, { idGenerator: new SeededIdGenerator(world.rng.fork('ids')) });
  const scheduler = new TrafficScheduler(sink, world, settings);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130); // a second Ctrl-C means now
    console.log(`[demo] ${signal}: stopping (again to quit at once)`);
    scheduler.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  console.log(
    `[demo] sending to ${settings.endpointForDisplay} (${settings.protocol}), ~${settings.runsPerMinute} runs/min, seed ${settings.seed}`
      + (settings.durationSeconds > 0 ? `, for ${settings.durationSeconds}s` : ', until stopped'),
  );
  await scheduler.backfill();
  await scheduler.runLive();
  await scheduler.drain(settings.drainSeconds * 1000);
  await sink.forceFlush();
  await sink.shutdown();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  console.log('[demo] stopped');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('[demo] failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
