/**
 * When things happen: arrivals of runs, voice sessions and background traces.
 *
 * Live traffic is a Poisson process at DEMO_RUNS_PER_MINUTE (random gaps, as independent users
 * produce). Backfill spreads runs over the past hours with a daily and weekly rhythm (busy
 * afternoons, quiet nights and weekends) so usage heatmaps and forecasts have a shape to show.
 */
import { RUN_CONVENTIONS, VOICE_FRAMEWORKS, type RunConvention } from './conventions';
import { emitNonGenAiTrace, emitRun, emitVoiceSession, type EmittedNoise, type EmittedRun, type EmittedSession } from './emit';
import type { Rng } from './random';
import type { World } from './scenario';
import type { TelemetrySink } from './telemetry';

export interface SchedulerConfig {
  runsPerMinute: number;
  durationSeconds: number;
  backfillHours: number;
  backfillRunsPerMinute: number;
  conventions: [RunConvention, number][];
  voiceShare: number;
  noiseShare: number;
  verbose: boolean;
}

type Emission = EmittedRun | EmittedSession | EmittedNoise;

/** Relative traffic at a moment: 0.3 at night, about 1.4 mid-afternoon, halved at weekends. */
export function diurnalFactor(at: number): number {
  const d = new Date(at);
  const hour = d.getHours() + d.getMinutes() / 60;
  const day = 0.3 + 1.1 * Math.exp(-((hour - 14) ** 2) / (2 * 4 ** 2));
  const weekend = d.getDay() === 0 || d.getDay() === 6;
  return weekend ? day * 0.5 : day;
}
const MAX_DIURNAL = 1.4;

export class TrafficScheduler {
  private readonly arrivals: Rng;
  private readonly inFlight = new Set<Emission>();
  private stopped = false;
  private wake?: () => void;
  private counts = new Map<string, number>();

  constructor(
    private readonly sink: TelemetrySink,
    private readonly world: World,
    private readonly config: SchedulerConfig,
    private readonly log: (line: string) => void = (line) => console.log(line),
  ) {
    // A separate stream for timing, so the same seed gives the same runs at any rate.
    this.arrivals = world.rng.fork('arrivals');
    for (const [name] of config.conventions) {
      if (!RUN_CONVENTIONS.includes(name)) throw new Error(`unknown convention ${name}`);
    }
  }

  /** Emits one arrival starting at `at`: a run, a voice session or a background trace. */
  emitOne(at: number): Emission {
    const rng = this.world.rng;
    const r = rng.next();
    let emitted: Emission;
    if (r < this.config.noiseShare) {
      emitted = emitNonGenAiTrace(this.sink, { world: this.world, startTime: at, realtime: true });
      this.count('noise');
    } else if (r < this.config.noiseShare + this.config.voiceShare) {
      const framework = rng.pick(VOICE_FRAMEWORKS);
      emitted = emitVoiceSession(this.sink, framework, { world: this.world, startTime: at, realtime: true });
      this.count(`voice:${framework}`);
      this.count(`session:${emitted.expectedStatus}`);
    } else {
      const convention = rng.weighted(this.config.conventions);
      emitted = emitRun(this.sink, convention, { world: this.world, startTime: at, realtime: true });
      this.count(convention);
      this.count(`status:${emitted.agentSpanEnds ? emitted.expectedStatus : 'never-ends'}`);
      if (emitted.longRunning) this.count('long-running');
    }
    if (this.config.verbose) this.log(describe(emitted));
    if (emitted.pending() > 0) {
      this.inFlight.add(emitted);
      void emitted.done.then(() => this.inFlight.delete(emitted));
    }
    return emitted;
  }

  /** Emits runs spread over the past `backfillHours`, flushing as it goes. Returns how many. */
  async backfill(now = Date.now()): Promise<number> {
    const hours = this.config.backfillHours;
    if (hours <= 0) return 0;
    const meanGap = 60_000 / (this.config.backfillRunsPerMinute * MAX_DIURNAL);
    let t = now - hours * 3_600_000;
    let emitted = 0;
    this.log(`[demo] backfilling ${hours}h at about ${this.config.backfillRunsPerMinute} runs/min (daily rhythm)`);
    while (!this.stopped) {
      t += this.arrivals.exponential(meanGap);
      if (t >= now) break;
      // Thinning: accept an arrival with probability proportional to the traffic at that hour.
      if (!this.arrivals.chance(diurnalFactor(t) / MAX_DIURNAL)) continue;
      this.emitOne(t);
      emitted++;
      if (emitted % 250 === 0) {
        // Flushing in chunks bounds memory and keeps the batch queues from overflowing.
        await this.sink.forceFlush();
        this.log(`[demo] backfill: ${emitted} arrivals, up to ${new Date(t).toISOString()}`);
      }
    }
    await this.sink.forceFlush();
    this.log(`[demo] backfill done: ${emitted} arrivals`);
    return emitted;
  }

  /** Live traffic until DEMO_DURATION_SECONDS elapse or stop() is called. */
  async runLive(): Promise<void> {
    const meanGap = 60_000 / this.config.runsPerMinute;
    const started = Date.now();
    const deadline = this.config.durationSeconds > 0 ? started + this.config.durationSeconds * 1000 : Infinity;
    let lastReport = started;
    this.resetCounts();
    while (!this.stopped) {
      const gap = this.arrivals.exponential(meanGap);
      const wakeAt = Math.min(Date.now() + gap, deadline);
      await this.sleep(wakeAt - Date.now());
      if (this.stopped || Date.now() >= deadline) break;
      this.emitOne(Date.now());
      if (Date.now() - lastReport >= 60_000) {
        this.report(Date.now() - lastReport);
        lastReport = Date.now();
      }
    }
    this.report(Date.now() - lastReport);
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Waits for runs still in flight (long runs end minutes later) up to `timeoutMs`, then
   * abandons the rest: their open spans are never sent, as when a real agent process exits.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    this.log(`[demo] waiting up to ${Math.round(timeoutMs / 1000)}s for ${this.inFlight.size} runs in flight`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.inFlight].map((e) => e.done)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    if (timer) clearTimeout(timer);
    for (const e of this.inFlight) e.cancel();
    if (this.inFlight.size > 0) this.log(`[demo] abandoned ${this.inFlight.size} runs still in flight`);
    this.inFlight.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, Math.max(0, ms));
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private resetCounts(): void {
    this.counts = new Map();
  }

  private report(elapsedMs: number): void {
    if (this.counts.size === 0) return;
    const parts = [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    this.log(`[demo] last ${Math.round(elapsedMs / 1000)}s: ${parts.join(' ')} in-flight=${this.inFlight.size}`);
    this.resetCounts();
  }
}

function describe(e: Emission): string {
  if (e.kind === 'noise') return `[demo] trace ${e.traceId} non-GenAI health check (${e.service})`;
  if (e.kind === 'session') {
    return `[demo] session ${e.traceId} ${e.framework} ${e.agent} turns=${e.turns} interruptions=${e.interruptions} end=${e.endReason}`;
  }
  const flags = [e.longRunning ? 'long-running' : '', e.agentSpanEnds ? '' : 'never-ends'].filter(Boolean).join(',');
  return `[demo] run ${e.traceId} ${e.convention} ${e.agent}@${e.agentVersion} ${e.environment} ${e.expectedStatus}`
    + ` llm=${e.llmSpans} tools=${e.toolSpans} tokens=${e.tokens.input}/${e.tokens.output}${flags ? ` ${flags}` : ''}`;
}
