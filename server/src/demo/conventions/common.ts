/**
 * Pieces every convention renderer needs: attribute cleaning, error reporting, the optional HTTP
 * span above the agent, and the application identity a run is sent under.
 */
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';
import type { ModelSpec } from '../catalog';
import { span, SpanKind, SpanStatusCode, type AppIdentity, type PlannedEvent, type PlannedSpan } from '../plan';
import type { Rng } from '../random';
import type { RunScenario, StepError, TokenUsage } from '../scenario';

/** Drops undefined and null values so optional attributes can be written inline. */
export function attrs(values: Record<string, AttributeValue | undefined | null>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

/** Positive counts only: instrumentations omit zero cache and reasoning counts. */
export function positive(n: number | undefined): number | undefined {
  return n && n > 0 ? n : undefined;
}

export function json(value: unknown): string {
  return JSON.stringify(value);
}

export type Language = 'python' | 'nodejs';

/** A short stack trace in the style of the agent's language, for exception events. */
function stacktrace(type: string, message: string, where: string, language: Language): string {
  if (language === 'nodejs') {
    return [
      `${type}: ${message}`,
      `    at execute (/app/src/agent/${where}.ts:88:11)`,
      '    at async runAgent (/app/src/agent/runner.ts:212:5)',
    ].join('\n');
  }
  return [
    'Traceback (most recent call last):',
    '  File "/app/agent/runner.py", line 212, in run',
    '    result = await step.execute(ctx)',
    `  File "/app/agent/${where}.py", line 88, in execute`,
    `    raise ${type.split('.').pop()}(${JSON.stringify(message)})`,
    `${type}: ${message}`,
  ].join('\n');
}

export interface FailureOptions {
  /** false for conventions that only record the exception (the Vercel AI SDK sets no error.type). */
  errorType?: boolean;
  language?: Language;
  /** Exception type to report instead of the scenario's (a JS SDK names errors its own way). */
  type?: string;
}

/** Error status, `error.type` and an `exception` event, as OTel-instrumented code reports a failure. */
export function failure(
  err: StepError | undefined,
  time: number,
  where: string,
  options: FailureOptions = {},
): { status?: PlannedSpan['status']; events?: PlannedEvent[]; attributes: Attributes } {
  if (!err) return { attributes: {} };
  const type = options.type ?? err.type;
  return {
    status: { code: SpanStatusCode.ERROR, message: err.message },
    events: [
      {
        name: 'exception',
        time,
        attributes: {
          [ATTR_EXCEPTION_TYPE]: type,
          [ATTR_EXCEPTION_MESSAGE]: err.message,
          [ATTR_EXCEPTION_STACKTRACE]: stacktrace(type, err.message, where, options.language ?? 'python'),
        },
      },
    ],
    attributes: options.errorType === false ? {} : { [ATTR_ERROR_TYPE]: type },
  };
}

/** Applies a failure to a planned span. */
export function markFailed(target: PlannedSpan, err: StepError | undefined, where: string, options: FailureOptions = {}): PlannedSpan {
  if (!err) return target;
  const f = failure(err, target.end ?? target.start, where, options);
  target.status = f.status;
  target.events = [...(target.events ?? []), ...(f.events ?? [])];
  Object.assign(target.attributes, f.attributes);
  return target;
}

/** The application a text run is sent under: one service per agent app and environment. */
export function appFor(s: RunScenario, language: Language): AppIdentity {
  return {
    serviceName: s.agent.service,
    serviceVersion: s.version,
    environment: s.environment,
    attributes: { 'service.namespace': 'agents', 'process.runtime.name': language === 'python' ? 'cpython' : 'nodejs' },
  };
}

/**
 * The web framework's server span that often sits above the agent span. It is not an agent span
 * and must not become the run; its status code follows the run's outcome.
 */
export function wrapInHttp(s: RunScenario, agentSpan: PlannedSpan, rng: Rng, route: string): PlannedSpan {
  const end = agentSpan.end === null ? null : agentSpan.end + rng.float(0.5, 4);
  const code = s.outcome === 'completed' ? 200 : s.outcome === 'timed_out' ? 504 : 500;
  const http = span('other', `POST ${route}`, SpanKind.SERVER, agentSpan.start - rng.float(0.5, 3), end, attrs({
    'http.request.method': 'POST',
    'http.route': route,
    'url.path': route,
    'url.scheme': 'https',
    'server.address': `${s.agent.service}.internal`,
    'http.response.status_code': end === null ? undefined : code,
    'error.type': end !== null && code >= 500 ? String(code) : undefined,
  }), {
    scope: '@opentelemetry/instrumentation-http',
    status: end !== null && code >= 500 ? { code: SpanStatusCode.ERROR } : undefined,
  });
  http.children.push(agentSpan);
  return http;
}

/** Cost in USD as a price table would compute it (used where a convention reports cost itself). */
export function costOf(m: ModelSpec, u: TokenUsage): { prompt: number; completion: number; total: number } {
  const prompt = ((u.input - u.cacheRead) * m.price.input + u.cacheRead * m.price.cachedInput) / 1e6;
  const completion = (u.output * m.price.output) / 1e6;
  const round = (x: number) => Math.round(x * 1e8) / 1e8;
  return { prompt: round(prompt), completion: round(completion), total: round(prompt + completion) };
}
