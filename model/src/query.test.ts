import { defaultQuery, parseQuery } from './query';

const ctx = { range: { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 2) }, intervalMs: 60_000, maxDataPoints: 500, timezone: 'Europe/Paris' };

describe('parseQuery', () => {
  it('fills defaults so that a new panel shows data at once', () => {
    const q = parseQuery(defaultQuery(), ctx);
    expect(q).toMatchObject({ refId: 'A', queryType: 'runs', filters: {}, options: { limit: 100, metric: 'runs', period: 'day' }, intervalMs: 60_000, maxDataPoints: 500, timezone: 'Europe/Paris', weekStart: 'monday' });
  });

  it('keeps each query type\'s options and its filters', () => {
    const q = parseQuery({ refId: 'B', queryType: 'timeSeries', metric: 'timeoutRate', groupBy: 'agent', filters: { environment: ['production'] } }, ctx);
    expect(q.options).toMatchObject({ metric: 'timeoutRate', groupBy: 'agent' });
    expect(q.filters).toEqual({ environment: ['production'] });
  });

  it('names the bad field and the allowed values', () => {
    expect(() => parseQuery({ queryType: 'latency' }, ctx)).toThrow(/^queryType: unknown value "latency"; allowed: runs, runTrace, runSteps/);
    expect(() => parseQuery({ queryType: 'timeSeries', metric: 'p99' }, ctx)).toThrow(/^metric: unknown value "p99"; allowed: runs, running, completed/);
    expect(() => parseQuery({ queryType: 'timeSeries', groupBy: 'user' }, ctx)).toThrow(/^groupBy: unknown value "user"; allowed: agent, agentVersion, tool/);
    expect(() => parseQuery({ queryType: 'runs', limit: 0 }, ctx)).toThrow('limit: must be an integer from 1 to 10000, got 0');
    expect(() => parseQuery({ queryType: 'runTrace' }, ctx)).toThrow('runId: is required for runTrace');
    expect(() => parseQuery({ queryType: 'creditForecast', budget: -5 }, ctx)).toThrow('budget: must be a positive number, got -5');
    expect(() => parseQuery({ queryType: 'runs' }, { ...ctx, timezone: 'Mars/Olympus' })).toThrow('timezone: unknown IANA time zone "Mars/Olympus"');
    expect(() => parseQuery({ queryType: 'runs' }, { range: { from: 10, to: 5 } })).toThrow(/^timeRange: from must be a time before to/);
  });

  it('a browser time zone the frontend could not resolve falls back to UTC', () => {
    expect(parseQuery({ queryType: 'runs' }, { ...ctx, timezone: 'browser' }).timezone).toBe('UTC');
  });
});
