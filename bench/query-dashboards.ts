/**
 * The provisioned dashboards as Grafana would ask for them when they open: every visible panel
 * target of dashboards/*.json with its variables filled the way the plugin fills them
 * (tests/provisioning/provisioning.ts: query variables on "All", which drops those filters, other
 * variables at their saved value, the run box holding a chosen run), and each panel's time range,
 * interval and max data points worked out with Grafana's own functions (@grafana/data rangeUtil and
 * dateMath): the dashboard's range, or the panel's relative time override (timeFrom).
 *
 * What the plugin adds on the way: its frontend sets the dashboard's time zone on every query and
 * drops run-detail queries without a run; its Go backend sets refId, timeRange (epoch ms),
 * intervalMs and maxDataPoints and passes the rest through (pkg/plugin/handler_querydata.go).
 * A live runs table goes to Grafana Live, whose snapshots are the same runs query
 * (server/src/live/runs-snapshot.ts); here it is asked through the query API.
 */
import { dateMath, dateTime, rangeUtil, TimeRange } from '@grafana/data';
import { QueryRequestItem } from '../server/src/query/engine';
import { allPanels, loadDashboards, Panel, panelQueries, VariableValues } from '../tests/provisioning/provisioning';

/** Width of the browser's dashboard area in pixels: Grafana's max data points is the panel's width. */
const VIEWPORT_PX = 1800;
const RUN_DETAIL_TYPES = ['runTrace', 'runSteps', 'runEvents'];

export interface DashboardRequest {
  file: string;
  title: string;
  /** 'as saved': the dashboard's own range (panels with timeFrom keep theirs); '30d': the picker on the last 30 days. */
  window: string;
  /** The dashboard's range as Grafana writes it (now-24h). */
  range: string;
  /** One entry per panel target, as the plugin sends it to the server. */
  items: QueryRequestItem[];
  /** The panel of each item ("#3 Error rate"). */
  panels: string[];
}

/** Parses Grafana time math ('now-24h', 'now/d') at the dataset's anchor in the given zone. */
function at(text: string, anchor: number, timezone: string, roundUp: boolean): number {
  // dateMath rounds ('now/d') in the process's local zone: make that the dashboard's zone meanwhile.
  const before = process.env.TZ;
  process.env.TZ = timezone;
  try {
    const t = dateMath.toDateTime(text, { now: dateTime(anchor), roundUp });
    if (!t) throw new Error(`cannot read the time ${text}`);
    return t.valueOf();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

function panelRange(panel: Panel, dashboardRange: { from: string; to: string }, anchor: number, timezone: string): TimeRange {
  // Grafana's relative time override: '24h' means now-24h to now, 'now/d' today so far.
  const raw = panel.timeFrom ? rangeUtil.describeTextRange(panel.timeFrom) : dashboardRange;
  const from = at(raw.from, anchor, timezone, false);
  const to = at(raw.to, anchor, timezone, true);
  return { from: dateTime(from), to: dateTime(to), raw: { from: raw.from, to: raw.to } };
}

export function dashboardRequests(anchor: number, timezone: string, runId: string, windows: string[], vars: VariableValues = {}): DashboardRequest[] {
  const out: DashboardRequest[] = [];
  for (const df of loadDashboards()) {
    const saved = (df.dashboard.time as { from: string; to: string } | undefined) ?? { from: 'now-6h', to: 'now' };
    const panels = new Map(allPanels(df.dashboard).map((p) => [p.id, p]));
    const queries = panelQueries(df, { ...vars, run: runId });
    for (const window of windows) {
      const range = window === 'as saved' ? saved : { from: `now-${window}`, to: 'now' };
      // The plugin's frontend drops run-detail queries without a run (filterQuery).
      const sent = queries.filter((q) => !(RUN_DETAIL_TYPES.includes(String(q.query.queryType)) && !String(q.query.runId ?? '').trim()));
      const items = sent.map((q, i): QueryRequestItem => {
        const panel = panels.get(q.panelId)!;
        const r = panelRange(panel, range, anchor, timezone);
        const width = Math.round(((panel.gridPos?.w ?? 12) / 24) * VIEWPORT_PX);
        const maxDataPoints = typeof panel.maxDataPoints === 'number' ? panel.maxDataPoints : width;
        const { intervalMs } = rangeUtil.calculateInterval(r, maxDataPoints, typeof panel.interval === 'string' ? panel.interval : undefined);
        return {
          ...(q.query as unknown as Record<string, unknown>),
          refId: `P${panel.id}${q.target.refId}${i}`,
          timeRange: { from: r.from.valueOf(), to: r.to.valueOf() },
          intervalMs,
          maxDataPoints,
          timezone,
        };
      });
      out.push({ file: df.file, title: df.dashboard.title, window, range: `${range.from} to ${range.to}`, items, panels: sent.map((q) => `#${q.panelId} ${q.panelTitle}`) });
    }
  }
  return out;
}
