/**
 * A live snapshot is the runs capability's answer, unchanged: the same frame JSON as a runs query
 * of the last rangeMs, so that a panel shows the same table live or not. No refId: the panel's
 * query gives it.
 */
import { parseQuery } from '@agent-insights/model';
import { runsTable } from '../query/capabilities/runs';
import { QueryEnv } from '../query/context';
import { Dialect } from '../query/dialect';
import { Store } from '../store/store';
import { SnapshotFn, StreamParams } from './runs-hub';

/** Runs may start a little "in the future" by this server's clock (agents' clocks drift). */
const CLOCK_SKEW_MS = 60_000;

/** The runs query of a live stream; throws ValidationError for bad parameters. */
export function liveRunsQuery(params: StreamParams, nowMs: number) {
  return parseQuery(
    { refId: 'A', queryType: 'runs', filters: params.filters, limit: params.limit, search: params.search, live: true },
    { range: { from: nowMs - params.rangeMs, to: nowMs + CLOCK_SKEW_MS } },
  );
}

/** `extra`: the rest of the query environment the runs query gets (e.g. the price table), so a live table equals a queried one. */
export function runsSnapshot(store: Store, dialect: Dialect, extra: Partial<QueryEnv> = {}): SnapshotFn {
  return async (tenant, params, nowMs) => {
    const [frame] = await runsTable(liveRunsQuery(params, nowMs), { ...extra, store, dialect, tenant, nowMs });
    const status = frame.schema.fields.findIndex((f) => f.name === 'Status');
    const running = status >= 0 && frame.data.values[status].includes('running');
    return { json: JSON.stringify(frame), running };
  };
}
