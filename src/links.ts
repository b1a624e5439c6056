/**
 * What the frontend adds to the server's frames: a link from each run to its trace (the server
 * cannot build it: it needs this data source's uid) and, where the server left it out, the
 * visualisation Explore should pick for a query type.
 */
import type { DataFrame, DataLink, PreferredVisualisationType } from '@grafana/data';

import type { AgentQuery, QueryType } from './types';

/** The field of a runs table that holds the run id. */
export const RUN_FIELD = 'Run';
export const RUN_TRACE_LINK_TITLE = 'Open trace';

export interface DataSourceIdentity {
  uid: string;
  name: string;
}

export function runTraceLink(ds: DataSourceIdentity): DataLink<AgentQuery> {
  return {
    title: RUN_TRACE_LINK_TITLE,
    url: '',
    internal: {
      datasourceUid: ds.uid,
      datasourceName: ds.name,
      query: { refId: 'A', queryType: 'runTrace', runId: '${__value.raw}' },
    },
  };
}

const PREFERRED: Partial<Record<QueryType, PreferredVisualisationType>> = {
  runs: 'table',
  runTrace: 'trace',
  runSteps: 'table',
  runEvents: 'logs',
};

function isRunsTable(frame: DataFrame, queryType: QueryType | undefined): boolean {
  return queryType === 'runs' || frame.name === 'runs';
}

/**
 * Adds the run-to-trace link to the Run field of runs tables (once; a streamed frame comes back
 * with each snapshot) and a preferred visualisation where the frame has none. Frames are changed
 * in place: live frames are Grafana's StreamingDataFrame objects, which must keep their identity.
 */
export function decorateFrames<T>(data: T[], queryTypes: Record<string, QueryType>, ds: DataSourceIdentity): T[] {
  for (const item of data) {
    const frame = item as unknown as DataFrame;
    if (!frame || !Array.isArray(frame.fields)) {
      continue;
    }
    const queryType = frame.refId ? queryTypes[frame.refId] : undefined;
    const preferred = queryType ? PREFERRED[queryType] : undefined;
    if (preferred && !frame.meta?.preferredVisualisationType) {
      frame.meta = { ...frame.meta, preferredVisualisationType: preferred };
    }
    if (!isRunsTable(frame, queryType)) {
      continue;
    }
    const run = frame.fields.find((f) => f.name === RUN_FIELD);
    if (!run) {
      continue;
    }
    const links = run.config.links ?? [];
    if (!links.some((l) => l.title === RUN_TRACE_LINK_TITLE && l.internal?.datasourceUid === ds.uid)) {
      run.config = { ...run.config, links: [...links, runTraceLink(ds)] };
    }
  }
  return data;
}
