package host

// The provisioned dashboards and alert rules, run for real: every panel query of every dashboard
// in dashboards/ (variables filled as the plugin fills them when a dashboard opens: agent, tool,
// model and environment on "All", the run box holding a run of the dataset, the budget and the
// period at their saved values) and every data source query of every alert rule in
// provisioning/alerting/ goes through the built plugin executable's QueryData, over gRPC, to the
// server holding the hand-checked dataset. Each must answer with the frames its panel draws:
// the trace view a trace frame, a heatmap heatmap-rows, the logs panel log lines, a time series
// panel and an alert rule numeric wide series with data, the other panels rows.
//
// Part of TestPluginHost (host_test.go), which builds the executable, starts the server and seeds
// the dataset once for all its subtests.

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

// provisionedQueries is what tests/host/provisioned-queries.ts prints.
type provisionedQueries struct {
	Panels []struct {
		Name      string         `json:"name"`
		PanelType string         `json:"panelType"`
		Query     map[string]any `json:"query"`
	} `json:"panels"`
	Alerts []struct {
		Name              string `json:"name"`
		DatasourceUID     string `json:"datasourceUid"`
		RelativeTimeRange *struct {
			From int64 `json:"from"`
			To   int64 `json:"to"`
		} `json:"relativeTimeRange"`
		Query map[string]any `json:"query"`
	} `json:"alerts"`
}

// loadProvisionedQueries reads the dashboards and alert rules with the plugin's own variable
// interpolation (src/interpolation.ts), through tests/host/provisioned-queries.ts.
func loadProvisionedQueries(t *testing.T, root, runID string) provisionedQueries {
	t.Helper()
	cmd := exec.Command("node", "--import", "tsx", "../tests/host/provisioned-queries.ts", runID)
	cmd.Dir = filepath.Join(root, "server")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("listing the provisioned queries: %v\n%s", err, msg)
	}
	var got provisionedQueries
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("reading provisioned-queries.ts output: %v", err)
	}
	return got
}

// want is the kind of frames a panel (or an alert rule) needs.
type want string

const (
	wantTrace   want = "a trace frame (preferredVisualisationType trace)"
	wantHeatmap want = "a heatmap-rows frame"
	wantLogs    want = "log lines (log-lines frame)"
	wantSeries  want = "numeric wide time series, at least one point"
	wantRows    want = "a frame with rows"
)

func wantFor(panelType string) want {
	switch panelType {
	case "traces":
		return wantTrace
	case "heatmap":
		return wantHeatmap
	case "logs":
		return wantLogs
	case "timeseries":
		return wantSeries
	default:
		return wantRows
	}
}

// checkKind returns what is wrong with the frames for what the panel needs ("" if nothing).
func checkKind(w want, frames data.Frames) string {
	if len(frames) == 0 {
		return "no frames"
	}
	withRows := 0
	for _, f := range frames {
		if f.Rows() > 0 {
			withRows++
		}
	}
	switch w {
	case wantTrace:
		f := frames[0]
		if f.Meta == nil || f.Meta.PreferredVisualization != data.VisTypeTrace {
			return fmt.Sprintf("frame %q is not marked as a trace", f.Name)
		}
		for _, name := range []string{"traceID", "spanID", "parentSpanID", "operationName", "serviceName", "startTime", "duration"} {
			if field, _ := f.FieldByName(name); field == nil {
				return fmt.Sprintf("trace frame %q has no %s field", f.Name, name)
			}
		}
	case wantHeatmap:
		f := frames[0]
		if f.Meta == nil || f.Meta.Type != data.FrameType("heatmap-rows") {
			return fmt.Sprintf("frame %q is not of type heatmap-rows", f.Name)
		}
		if len(f.Fields) < 2 || !f.Fields[0].Type().Time() {
			return fmt.Sprintf("heatmap frame %q does not start with a time field followed by buckets", f.Name)
		}
		for _, field := range f.Fields[1:] {
			if !field.Type().Numeric() {
				return fmt.Sprintf("heatmap bucket %q is not numeric", field.Name)
			}
		}
	case wantLogs:
		f := frames[0]
		logs := f.Meta != nil && (f.Meta.Type == data.FrameTypeLogLines || f.Meta.PreferredVisualization == data.VisTypeLogs)
		if !logs {
			return fmt.Sprintf("frame %q is not a log frame", f.Name)
		}
	case wantSeries:
		points := 0
		for _, f := range frames {
			schema := f.TimeSeriesSchema()
			if schema.Type != data.TimeSeriesTypeWide {
				return fmt.Sprintf("frame %q is not a wide time series (%s)", f.Name, schema.Type)
			}
			if len(schema.ValueIndices) == 0 {
				return fmt.Sprintf("frame %q has no numeric value field", f.Name)
			}
			points += f.Rows()
		}
		if points == 0 {
			return "the series have no points"
		}
		return ""
	}
	if withRows == 0 {
		return "no frame has rows"
	}
	return ""
}

// runQueries sends the queries through the plugin's QueryData in batches (as Grafana sends one
// panel's queries at a time, and the server takes at most 100 per request).
func runQueries(t *testing.T, ctx context.Context, host *pluginHost, pctx *pluginv2.PluginContext, queries []backend.DataQuery) *backend.QueryDataResponse {
	t.Helper()
	all := &backend.QueryDataResponse{Responses: backend.Responses{}}
	for start := 0; start < len(queries); start += 25 {
		end := min(start+25, len(queries))
		req := &backend.QueryDataRequest{PluginContext: backend.FromProto().PluginContext(pctx), Queries: queries[start:end]}
		protoRes, err := host.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
		if err != nil {
			t.Fatalf("QueryData failed as a call (%v); errors must be per query", err)
		}
		res, err := backend.FromProto().QueryDataResponse(protoRes)
		if err != nil {
			t.Fatal(err)
		}
		for refID, r := range res.Responses {
			all.Responses[refID] = r
		}
	}
	return all
}

func dataQuery(t *testing.T, refID string, model map[string]any, tr backend.TimeRange, interval time.Duration, maxDataPoints int64) backend.DataQuery {
	t.Helper()
	model["refId"] = refID
	js, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	qt, _ := model["queryType"].(string)
	return backend.DataQuery{RefID: refID, QueryType: qt, JSON: js, TimeRange: tr, Interval: interval, MaxDataPoints: maxDataPoints}
}

func modelNumber(model map[string]any, key string) (float64, bool) {
	v, ok := model[key].(float64)
	return v, ok
}

func testProvisionedQueries(t *testing.T, ctx context.Context, host *pluginHost, pctx *pluginv2.PluginContext, root string, ds seeded) {
	var pq provisionedQueries
	timed(t, "list dashboard and alert rule queries", func() { pq = loadProvisionedQueries(t, root, ds.RunID) })
	if len(pq.Panels) == 0 {
		t.Fatal("no panel queries in dashboards/")
	}

	// The dataset's whole span, as a dashboard showing it would ask (the dashboards' own default
	// ranges and panel time overrides are relative to now; the dataset lies in the last two days).
	from := time.UnixMilli(ds.Anchor).Add(-time.Hour)
	to := time.UnixMilli(ds.Now).Add(5 * time.Minute)
	span := backend.TimeRange{From: from, To: to}
	interval := to.Sub(from) / 500

	t.Run("dashboards", func(t *testing.T) {
		queries := make([]backend.DataQuery, 0, len(pq.Panels))
		for i, p := range pq.Panels {
			p.Query["timezone"] = "UTC" // the plugin's frontend adds the dashboard's time zone
			queries = append(queries, dataQuery(t, fmt.Sprintf("P%d", i), p.Query, span, interval, 1000))
		}
		var res *backend.QueryDataResponse
		timed(t, fmt.Sprintf("QueryData (%d panel queries)", len(queries)), func() { res = runQueries(t, ctx, host, pctx, queries) })
		kinds := map[want]int{}
		for i, p := range pq.Panels {
			r := res.Responses[fmt.Sprintf("P%d", i)]
			w := wantFor(p.PanelType)
			if r.Error != nil {
				t.Errorf("%s (%s panel): %v", p.Name, p.PanelType, r.Error)
				continue
			}
			if problem := checkKind(w, r.Frames); problem != "" {
				t.Errorf("%s (%s panel) needs %s: %s", p.Name, p.PanelType, w, problem)
				continue
			}
			kinds[w]++
		}
		var summary []string
		for _, w := range []want{wantTrace, wantHeatmap, wantLogs, wantSeries, wantRows} {
			summary = append(summary, fmt.Sprintf("%d × %s", kinds[w], w))
		}
		t.Logf("panel queries answered: %s", strings.Join(summary, "; "))
	})

	t.Run("alert rules", func(t *testing.T) {
		if len(pq.Alerts) == 0 {
			t.Skip("skipped: no alert rules in provisioning/alerting/")
		}
		var overSpan, ownRange []backend.DataQuery
		now := time.Now()
		for i, a := range pq.Alerts {
			if a.DatasourceUID != "agent-insights" {
				t.Errorf("%s: data source %q, want the provisioned agent-insights", a.Name, a.DatasourceUID)
				continue
			}
			// Grafana passes a rule query's intervalMs and maxDataPoints from its model.
			iv := time.Duration(0)
			if ms, ok := modelNumber(a.Query, "intervalMs"); ok {
				iv = time.Duration(ms) * time.Millisecond
			}
			mdp := int64(0)
			if n, ok := modelNumber(a.Query, "maxDataPoints"); ok {
				mdp = int64(n)
			}
			own := backend.TimeRange{From: now.Add(-time.Hour), To: now}
			if rr := a.RelativeTimeRange; rr != nil {
				own = backend.TimeRange{From: now.Add(-time.Duration(rr.From) * time.Second), To: now.Add(-time.Duration(rr.To) * time.Second)}
			}
			copyOf := func() map[string]any {
				m := make(map[string]any, len(a.Query))
				for k, v := range a.Query {
					m[k] = v
				}
				return m
			}
			overSpan = append(overSpan, dataQuery(t, fmt.Sprintf("A%d", i), copyOf(), span, iv, mdp))
			ownRange = append(ownRange, dataQuery(t, fmt.Sprintf("A%d", i), copyOf(), own, iv, mdp))
		}
		var res, resOwn *backend.QueryDataResponse
		timed(t, fmt.Sprintf("QueryData (%d alert rule queries, twice)", len(overSpan)), func() {
			res = runQueries(t, ctx, host, pctx, overSpan)
			resOwn = runQueries(t, ctx, host, pctx, ownRange)
		})
		for i, a := range pq.Alerts {
			refID := fmt.Sprintf("A%d", i)
			// Over the dataset: numeric, wide, with points (what Grafana's expressions read).
			if r := res.Responses[refID]; r.Error != nil {
				t.Errorf("%s over the dataset: %v", a.Name, r.Error)
			} else if problem := checkKind(wantSeries, r.Frames); problem != "" {
				t.Errorf("%s over the dataset needs %s: %s", a.Name, wantSeries, problem)
			}
			// Over the rule's own window (relative to now): answered, and still wide series.
			if r := resOwn.Responses[refID]; r.Error != nil {
				t.Errorf("%s over its own time range: %v", a.Name, r.Error)
			} else {
				for _, f := range r.Frames {
					if f.TimeSeriesSchema().Type != data.TimeSeriesTypeWide {
						t.Errorf("%s over its own time range: frame %q is not a wide time series", a.Name, f.Name)
					}
				}
			}
		}
		t.Logf("alert rule queries answered: %d", len(pq.Alerts))
	})
}
