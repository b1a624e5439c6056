// Package host proves the plugin backend without a Grafana binary: it builds the gpx_ executable,
// starts it the way Grafana does (hashicorp go-plugin handshake, then gRPC with the SDK's plugin
// protocol v2), starts a real Agent Insights server with the hand-checked dataset, and makes the
// calls Grafana makes: CheckHealth, QueryData for every query type and for every query of the
// provisioned dashboards and alert rules (provisioned_test.go), CallResource for variable values,
// and a live runs stream that sees a new run, also across a server restart.
//
// Run with `go test ./tests/host/...` from the repository root (part of `npm run test:backend`).
// It needs Node.js and the root's node_modules (`npm ci`) to run the server.
package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

const pluginID = "agentinsights-agentinsights-datasource"

// datasetAgents are the agents of the runs in server/src/test-support/dataset.ts.
var datasetAgents = []string{"support-triage", "research-assistant", "billing-bot"}

// runningRun is the dataset's run 5: still running, identified by its trace id.
const runningRun = "da7a5e70000000000000000000000005"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("run this test from the repository (no go.mod at %s)", root)
	}
	return root
}

// pluginContext is what Grafana sends with every call for one configured data source.
func pluginContext(id int64, url, key string, updated time.Time) *pluginv2.PluginContext {
	settings := &backend.DataSourceInstanceSettings{
		ID:                      id,
		UID:                     fmt.Sprintf("agent-insights-%d", id),
		Type:                    pluginID,
		Name:                    fmt.Sprintf("Agent Insights %d", id),
		JSONData:                []byte(fmt.Sprintf(`{"url": %q, "timeout": 30}`, url)),
		DecryptedSecureJSONData: map[string]string{"apiKey": key},
		Updated:                 updated,
	}
	return backend.ToProto().PluginContext(backend.PluginContext{
		OrgID:                      1,
		PluginID:                   pluginID,
		PluginVersion:              "host-test",
		User:                       &backend.User{Login: "admin", Role: "Admin"},
		DataSourceInstanceSettings: settings,
	})
}

func timed(t *testing.T, what string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	t.Logf("%-40s %v", what, time.Since(start).Round(time.Millisecond))
}

func TestPluginHost(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("skipped: `node` is not on PATH; the plugin host test starts the Agent Insights server with Node.js 20+ (then run `npm ci` at the repository root)")
	}
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "tsx")); err != nil {
		t.Fatalf("the root's node_modules has no tsx: run `npm ci` at %s first", root)
	}
	dir := t.TempDir()

	var exe string
	var srv *agentServer
	var ds seeded
	var host *pluginHost
	timed(t, "build gpx_ executable", func() { exe = buildPlugin(t, root, dir) })
	timed(t, "start server (DuckDB file)", func() { srv = startAgentServer(t, root, dir) })
	timed(t, "seed the dataset (OTLP + native API)", func() { ds = srv.seed(t) })
	timed(t, "start plugin (handshake, gRPC)", func() { host = startPlugin(t, exe) })

	saved := time.Now()
	pctx := pluginContext(1, srv.url, readKey, saved)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("CheckHealth", func(t *testing.T) {
		var res *pluginv2.CheckHealthResponse
		var err error
		timed(t, "CheckHealth", func() {
			res, err = host.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pctx})
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != pluginv2.CheckHealthResponse_OK {
			t.Fatalf("status %v: %s", res.Status, res.Message)
		}
		var details struct {
			Version string   `json:"version"`
			Scopes  []string `json:"scopes"`
		}
		if err := json.Unmarshal(res.JsonDetails, &details); err != nil || details.Version == "" {
			t.Fatalf("details %s: %v", res.JsonDetails, err)
		}
		for _, want := range []string{"Connected", details.Version, srv.url, `tenant "host-test"`, "scopes: read"} {
			if !strings.Contains(res.Message, want) {
				t.Errorf("message %q does not say %q", res.Message, want)
			}
		}
		t.Logf("message: %s", res.Message)

		// Another data source with a wrong key: its own instance, its own clear answer.
		const wrongKey = "not-a-key-of-this-server-0123456789"
		bad, err := host.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pluginContext(2, srv.url, wrongKey, saved)})
		if err != nil {
			t.Fatal(err)
		}
		if bad.Status != pluginv2.CheckHealthResponse_ERROR || !strings.Contains(bad.Message, "rejected the API key") || strings.Contains(bad.Message, wrongKey) {
			t.Errorf("wrong key: %v %q; want an error saying the key was rejected, without the key", bad.Status, bad.Message)
		}
		if strings.Contains(host.logs.String(), wrongKey) {
			t.Error("the plugin logged the API key")
		}
	})

	t.Run("QueryData", func(t *testing.T) {
		from := time.UnixMilli(ds.Anchor).Add(-time.Hour)
		to := time.UnixMilli(ds.Now).Add(5 * time.Minute)
		req := &backend.QueryDataRequest{PluginContext: backend.FromProto().PluginContext(pctx)}
		types := append(slices.Clone(ds.QueryTypes), "noSuchType")
		for _, qt := range types {
			model := map[string]any{"refId": qt, "queryType": qt, "timezone": "UTC"}
			switch qt {
			case "runTrace", "runSteps", "runEvents":
				model["runId"] = ds.RunID
			case "timeSeries":
				model["metric"], model["groupBy"] = "runs", "agent"
			case "creditForecast":
				model["budget"] = 100
			}
			js, _ := json.Marshal(model)
			req.Queries = append(req.Queries, backend.DataQuery{RefID: qt, QueryType: qt, JSON: js, Interval: time.Minute, MaxDataPoints: 1000,
				TimeRange: backend.TimeRange{From: from, To: to}})
		}

		var protoRes *pluginv2.QueryDataResponse
		var err error
		timed(t, fmt.Sprintf("QueryData (%d queries)", len(req.Queries)), func() {
			protoRes, err = host.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
		})
		if err != nil {
			t.Fatalf("QueryData failed as a call (%v); errors must be per query", err)
		}
		res, err := backend.FromProto().QueryDataResponse(protoRes)
		if err != nil {
			t.Fatal(err)
		}

		var withFrames []string
		for _, qt := range types {
			r, ok := res.Responses[qt]
			if !ok {
				t.Errorf("%s: no response", qt)
				continue
			}
			if slices.Contains(ds.Available, qt) {
				if r.Error != nil || len(r.Frames) == 0 {
					t.Errorf("%s: error %v, %d frames; the server answers this type, so frames are expected", qt, r.Error, len(r.Frames))
					continue
				}
				withFrames = append(withFrames, fmt.Sprintf("%s (%d frames)", qt, len(r.Frames)))
				checkFrames(t, qt, r.Frames)
				continue
			}
			// Not answered by this server (yet), or not a query type at all: that query's own error.
			if r.Error == nil || r.Status != backend.StatusBadRequest || r.ErrorSource != backend.ErrorSourcePlugin {
				t.Errorf("%s: %v (status %d, source %q); want the server's per-query 400 error", qt, r.Error, r.Status, r.ErrorSource)
			}
		}
		t.Logf("query types with frames: %s", strings.Join(withFrames, ", "))
		var missing []string
		for _, qt := range ds.QueryTypes {
			if !slices.Contains(ds.Available, qt) {
				missing = append(missing, qt)
			}
		}
		if len(missing) > 0 {
			t.Logf("query types the server does not answer yet (per-query 400, as asserted): %s", strings.Join(missing, ", "))
		}
	})

	t.Run("Provisioned dashboards and alert rules", func(t *testing.T) {
		testProvisionedQueries(t, ctx, host, pctx, root, ds)
	})

	t.Run("CallResource variable values", func(t *testing.T) {
		if !srv.has(t, "/api/v1/values/agent") {
			t.Skip("skipped: the server has no GET /api/v1/values/agent yet (404)")
		}
		query := fmt.Sprintf("from=%d&to=%d", ds.Anchor-3_600_000, ds.Now+300_000)
		var status int
		var body []byte
		timed(t, "CallResource values/agent", func() { status, body = callResource(t, ctx, host, pctx, "values/agent", "values/agent?"+query) })
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var values struct{ Values []any }
		if err := json.Unmarshal(body, &values); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		got := make([]string, 0, len(values.Values))
		for _, v := range values.Values {
			switch v := v.(type) {
			case string:
				got = append(got, v)
			case map[string]any: // {value, text} or {value, label}
				got = append(got, fmt.Sprint(v["value"]))
			}
		}
		for _, a := range datasetAgents {
			if !slices.Contains(got, a) {
				t.Errorf("values of agent %v lack the dataset's %q", got, a)
			}
		}

		status, body = callResource(t, ctx, host, pctx, "values", "values")
		if status != 200 || !strings.Contains(string(body), `"agent"`) {
			t.Errorf("values (ad hoc keys): %d %s; want a list of keys including agent", status, body)
		}
	})

	t.Run("Stream live runs", func(t *testing.T) {
		if !srv.has(t, "/api/v1/stream/runs?limit=1") {
			t.Skip("skipped: the server has no GET /api/v1/stream/runs yet (404)")
		}
		const path = "runs/host-test"
		streamData := []byte(`{"filters": {}, "limit": 100}`)
		sub, err := host.stream.SubscribeStream(ctx, &pluginv2.SubscribeStreamRequest{PluginContext: pctx, Path: path, Data: streamData})
		if err != nil || sub.Status != pluginv2.SubscribeStreamResponse_OK {
			t.Fatalf("SubscribeStream %s: %v %v", path, sub, err)
		}

		streamCtx, stop := context.WithCancel(ctx)
		defer stop()
		rs, err := host.stream.RunStream(streamCtx, &pluginv2.RunStreamRequest{PluginContext: pctx, Path: path, Data: streamData})
		if err != nil {
			t.Fatal(err)
		}
		snapshots := make(chan *data.Frame, 64)
		go func() {
			for {
				packet, err := rs.Recv()
				if err != nil {
					close(snapshots)
					return
				}
				frame := &data.Frame{}
				if err := json.Unmarshal(packet.Data, frame); err == nil {
					snapshots <- frame
				}
			}
		}()

		timed(t, "first runs snapshot", func() { waitForRun(t, snapshots, runningRun, 20*time.Second) })

		newRun := randomHex(16)
		srv.postSpans(t, runningSpan(newRun))
		timed(t, "snapshot with a new running run", func() { waitForRun(t, snapshots, newRun, 20*time.Second) })

		// The server restarts (a deploy): the plugin reconnects and the stream goes on.
		timed(t, "server restart", func() { srv.stop(t); srv.start(t) })
		afterRestart := randomHex(16)
		srv.postSpans(t, runningSpan(afterRestart))
		timed(t, "snapshot after the restart", func() { waitForRun(t, snapshots, afterRestart, 30*time.Second) })

		// The data source's settings are saved again (here: a new timeout): the SDK makes a new
		// instance and disposes the old one, which ends its stream, so that Grafana runs the
		// stream again with the new settings rather than keep a stale configuration.
		changed := pluginContext(1, srv.url, readKey, saved.Add(time.Minute))
		changed.DataSourceInstanceSettings.JsonData = []byte(fmt.Sprintf(`{"url": %q, "timeout": 20}`, srv.url))
		if _, err := host.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: changed}); err != nil {
			t.Fatal(err)
		}
		timed(t, "old stream ends after a settings change", func() { waitForEnd(t, snapshots, 20*time.Second) })
		renewed, err := host.stream.RunStream(streamCtx, &pluginv2.RunStreamRequest{PluginContext: changed, Path: path, Data: streamData})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := renewed.Recv(); err != nil {
			t.Fatalf("the stream with the new settings sent nothing: %v", err)
		}
	})

	if strings.Contains(host.logs.String(), readKey) {
		t.Error("the plugin's logs contain the API key")
	}
}

// checkFrames asserts what Grafana needs of the frames of some query types.
func checkFrames(t *testing.T, queryType string, frames data.Frames) {
	t.Helper()
	for _, f := range frames {
		if f.RefID != queryType {
			t.Errorf("%s: frame %q has refId %q", queryType, f.Name, f.RefID)
		}
		js, _ := json.Marshal(f)
		if strings.Contains(string(js), readKey) {
			t.Errorf("%s: a frame contains the API key", queryType)
		}
	}
	switch queryType {
	case "runs":
		agents := columnStrings(frames[0], "Agent")
		for _, a := range datasetAgents {
			if !slices.Contains(agents, a) {
				t.Errorf("runs: agents %v lack %q", agents, a)
			}
		}
		if frames[0].Rows() < 6 {
			t.Errorf("runs: %d rows, want the dataset's 6 runs", frames[0].Rows())
		}
	case "runTrace":
		f := frames[0]
		for _, name := range []string{"traceID", "spanID", "parentSpanID", "operationName", "serviceName", "startTime", "duration"} {
			if field, _ := f.FieldByName(name); field == nil {
				t.Errorf("runTrace: no %s field (the trace view needs it)", name)
			}
		}
	case "timeSeries":
		for _, f := range frames {
			if f.TimeSeriesSchema().Type == data.TimeSeriesTypeNot {
				t.Errorf("timeSeries: frame %q is not a time series (alerting needs one)", f.Name)
			}
		}
	}
}

func columnStrings(f *data.Frame, name string) []string {
	field, _ := f.FieldByName(name)
	if field == nil {
		return nil
	}
	out := make([]string, 0, field.Len())
	for i := 0; i < field.Len(); i++ {
		if v, ok := field.ConcreteAt(i); ok {
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}

// waitForRun reads snapshots until one lists the run (by run id or trace id).
func waitForRun(t *testing.T, snapshots <-chan *data.Frame, id string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	seen := 0
	for {
		select {
		case f, ok := <-snapshots:
			if !ok {
				t.Fatalf("the stream ended before a snapshot listed %s", id)
			}
			seen++
			for _, col := range []string{"Run", "Trace ID"} {
				for _, v := range columnStrings(f, col) {
					if strings.HasPrefix(v, id) {
						return
					}
				}
			}
		case <-deadline:
			t.Fatalf("no snapshot listed %s within %v (%d snapshots seen)", id, within, seen)
		}
	}
}

// waitForEnd reads snapshots until the stream ends.
func waitForEnd(t *testing.T, snapshots <-chan *data.Frame, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-snapshots:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("the stream did not end within %v", within)
		}
	}
}

func callResource(t *testing.T, ctx context.Context, host *pluginHost, pctx *pluginv2.PluginContext, path, url string) (int, []byte) {
	t.Helper()
	stream, err := host.resource.CallResource(ctx, &pluginv2.CallResourceRequest{PluginContext: pctx, Path: path, Method: "GET", Url: url})
	if err != nil {
		t.Fatal(err)
	}
	status := 0
	var body []byte
	for {
		res, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 0 {
			status = int(res.Code)
		}
		body = append(body, res.Body...)
	}
	return status, body
}

func randomHex(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runningSpan is an OTLP/JSON request with one tool span of a run whose agent span has not ended
// yet: the server shows the run as running, identified by its trace id.
func runningSpan(traceID string) map[string]any {
	now := time.Now()
	nanos := func(t time.Time) string { return fmt.Sprint(t.UnixNano()) }
	attr := func(k, v string) map[string]any {
		return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
	}
	return map[string]any{"resourceSpans": []any{map[string]any{
		"resource": map[string]any{"attributes": []any{attr("service.name", "host-test-svc"), attr("deployment.environment.name", "production")}},
		"scopeSpans": []any{map[string]any{
			"scope": map[string]any{"name": "host-test"},
			"spans": []any{map[string]any{
				"traceId": traceID, "spanId": randomHex(8), "parentSpanId": randomHex(8),
				"name": "execute_tool web_search", "kind": 1,
				"startTimeUnixNano": nanos(now.Add(-2 * time.Second)), "endTimeUnixNano": nanos(now.Add(-time.Second)),
				"attributes": []any{attr("gen_ai.operation.name", "execute_tool"), attr("gen_ai.tool.name", "web_search"), attr("gen_ai.agent.name", "host-test-agent")},
				"status":     map[string]any{"code": 1},
			}},
		}},
	}}}
}
