/**
 * Turns a plan into real OpenTelemetry spans and log records.
 *
 * Every span is started at once (with its planned start time, so ids are drawn in a fixed order
 * and DEMO_SEED stays reproducible) and ended with its planned end time. In realtime mode a span
 * whose end lies in the future is ended by a timer at that time. The SDK exports a span when it ends, so with timers a
 * long-running run behaves like a real one: its tool and LLM spans reach the server one by one
 * while the agent span is still open. Spans planned never to end are left open for good.
 */
import { ROOT_CONTEXT, trace, type Context, type HrTime, type Span } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { Plan, PlannedSpan } from './plan';
import type { TelemetrySink } from './telemetry';

/** Epoch milliseconds (fractional) to HrTime. A plain number would be ambiguous to the SDK: it
 * reads numbers below the process's time origin as performance.now() offsets, not epoch times. */
export function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  return [seconds, nanos];
}

export interface PlayOptions {
  /**
   * true: spans whose end lies in the future end on timers, as in a live agent (the generator's
   * live traffic). false (default): every span ends at once with its planned timestamps, future
   * or not, so a caller can flush and inspect a run straight away (tests, client-library use).
   */
  realtime?: boolean;
  now?: () => number;
}

export interface Playback {
  traceId: string;
  /** Span id of each planned span. */
  spanIds: Map<PlannedSpan, string>;
  /** Resolves when every span that will ever end has ended. */
  done: Promise<void>;
  /** Stops pending timers; spans not yet ended are abandoned (as if the process died). */
  cancel(): void;
  /** Number of spans still waiting for their end time. */
  pending(): number;
}

interface Started {
  planned: PlannedSpan;
  span: Span;
  context: Context;
  order: number;
}

export function play(plan: Plan, sink: TelemetrySink, options: PlayOptions = {}): Playback {
  const realtime = options.realtime ?? false;
  const now = options.now ?? Date.now;
  const started: Started[] = [];
  const spanIds = new Map<PlannedSpan, string>();

  const start = (planned: PlannedSpan, parent: Context | undefined): void => {
    const tracer = sink.tracer(plan.app, planned.scope ?? plan.scope);
    const span = tracer.startSpan(
      planned.name,
      { kind: planned.kind, attributes: planned.attributes, startTime: toHrTime(planned.start), root: parent === undefined },
      parent ?? ROOT_CONTEXT,
    );
    const context = trace.setSpan(ROOT_CONTEXT, span);
    spanIds.set(planned, span.spanContext().spanId);
    for (const child of planned.children) start(child, context);
    // Post-order: children are listed before their parent, which keeps ties in the right order.
    started.push({ planned, span, context, order: started.length });
  };
  start(plan.root, undefined);
  const traceId = started[started.length - 1].span.spanContext().traceId;

  const finish = ({ planned, span, context }: Started): void => {
    for (const event of planned.events ?? []) span.addEvent(event.name, event.attributes ?? {}, toHrTime(event.time));
    if (planned.status) span.setStatus(planned.status);
    for (const log of planned.logs ?? []) {
      sink.logger(plan.app, planned.scope ?? plan.scope).emit({
        eventName: log.eventName,
        timestamp: toHrTime(log.time),
        severityNumber: SeverityNumber.INFO,
        body: log.body,
        attributes: log.attributes,
        context,
      });
    }
    span.end(toHrTime(planned.end as number));
  };

  const endings = started
    .filter((s) => s.planned.end !== null)
    .sort((a, b) => (a.planned.end as number) - (b.planned.end as number) || a.order - b.order);

  const timers = new Set<NodeJS.Timeout>();
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let remaining = endings.length;
  const settle = (): void => {
    if (remaining === 0) resolveDone();
  };

  const current = now();
  for (const item of endings) {
    const delay = (item.planned.end as number) - current;
    if (!realtime || delay <= 0) {
      finish(item);
      remaining--;
      continue;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      finish(item);
      remaining--;
      settle();
    }, delay);
    timers.add(timer);
  }
  settle();

  return {
    traceId,
    spanIds,
    done,
    cancel: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      remaining = 0;
      settle();
    },
    pending: () => timers.size,
  };
}
