package host

// TestAlertRules runs the provisioned alert rules (provisioning/alerting/rules.yml) the way Grafana
// evaluates them, as far as that can be done without Grafana: every data source query of a rule
// goes through the built plugin executable's QueryData (over gRPC, with the rule's relative time
// range made absolute, its intervalMs and maxDataPoints as Grafana reads them from the model) to a
// server holding the hand-checked dataset plus runs seeded for the test; the frames must be
// numeric, labelled, wide time series; then the rule's reduce/math/threshold expressions are
// evaluated on them (alerts_eval_test.go) and the test asserts which instances are Alerting.
//
// Grafana's own state machine (the `for` pending period, notifications) is not part of this: an
// instance "fires" here when its condition is true at that evaluation.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

// provisionedRule is an alert rule of the provisioning file, as far as the evaluation needs it.
type provisionedRule struct {
	UID       string     `json:"uid"`
	Title     string     `json:"title"`
	Condition string     `json:"condition"`
	Data      []ruleNode `json:"data"`
}

// loadAlertRules reads provisioning/alerting/rules.yml (YAML, read with the `yaml` package of the
// repository's node_modules, as the server's test of the file does).
func loadAlertRules(t *testing.T, root string) map[string]provisionedRule {
	t.Helper()
	const toJSON = `const fs = require('fs'); const { parse } = require('yaml');
process.stdout.write(JSON.stringify(parse(fs.readFileSync(process.argv[1], 'utf8'))));`
	cmd := exec.Command("node", "-e", toJSON, filepath.Join(root, "provisioning", "alerting", "rules.yml"))
	cmd.Dir = filepath.Join(root, "server")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("reading rules.yml: %v\n%s", err, msg)
	}
	var file struct {
		Groups []struct {
			Rules []provisionedRule `json:"rules"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(out, &file); err != nil {
		t.Fatal(err)
	}
	rules := map[string]provisionedRule{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			rules[r.UID] = r
		}
	}
	return rules
}

// ruleParams are the numbers of a rate rule's condition `$volume >= MIN && $rate > THRESHOLD`.
type ruleParams struct {
	volume, rate string
	min          int
	threshold    float64
}

var rateCondition = regexp.MustCompile(`^\$(\w+) >= (\d+) && \$(\w+) > ([0-9.]+)$`)

func (r provisionedRule) node(refID string) ruleNode {
	for _, n := range r.Data {
		if n.RefID == refID {
			return n
		}
	}
	return ruleNode{}
}

func (r provisionedRule) params(t *testing.T) ruleParams {
	t.Helper()
	var m exprModel
	_ = json.Unmarshal(r.node(r.Condition).Model, &m)
	g := rateCondition.FindStringSubmatch(m.Expression)
	if g == nil {
		t.Fatalf("%s: condition %q is not `$volume >= MIN && $rate > THRESHOLD`", r.UID, m.Expression)
	}
	min, _ := strconv.Atoi(g[2])
	threshold, _ := strconv.ParseFloat(g[4], 64)
	return ruleParams{volume: g[1], min: min, rate: g[3], threshold: threshold}
}

// groupBy is the dimension the rule's queries group by ("" for none).
func (r provisionedRule) groupBy() string {
	for _, n := range r.Data {
		var m struct {
			GroupBy string `json:"groupBy"`
		}
		if n.DatasourceUID != "__expr__" && json.Unmarshal(n.Model, &m) == nil && m.GroupBy != "" {
			return m.GroupBy
		}
	}
	return ""
}

// withParams is the rule with another window, minimum and threshold, changed where
// docs/alerting.md says to change them.
func (r provisionedRule) withParams(t *testing.T, windowSec int64, min int, threshold float64) provisionedRule {
	t.Helper()
	p := r.params(t)
	out := r
	out.Data = nil
	for _, n := range r.Data {
		var m map[string]any
		if err := json.Unmarshal(n.Model, &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case n.DatasourceUID != "__expr__":
			n.RelativeTimeRange = &timeRangeSec{From: windowSec, To: 0}
			m["intervalMs"] = windowSec * 1000
		case n.RefID == r.Condition:
			m["expression"] = fmt.Sprintf("$%s >= %d && $%s > %v", p.volume, min, p.rate, threshold)
		}
		n.Model, _ = json.Marshal(m)
		out.Data = append(out.Data, n)
	}
	return out
}

// ruleEvaluation is the outcome of one evaluation of a rule at one time.
type ruleEvaluation struct {
	frames map[string]data.Frames
	nodes  map[string]exprResult
	states map[string]string
}

// evaluateRule runs the rule's data source queries through the plugin as Grafana's alerting does
// at `now`, checks their frames, and evaluates the expressions.
func evaluateRule(t *testing.T, ctx context.Context, host *pluginHost, pctx *pluginv2.PluginContext, rule provisionedRule, now time.Time) ruleEvaluation {
	t.Helper()
	req := &backend.QueryDataRequest{PluginContext: backend.FromProto().PluginContext(pctx)}
	var refIDs []string
	for _, n := range rule.Data {
		if n.DatasourceUID == "__expr__" {
			continue
		}
		// Grafana takes the interval and max data points from the model, with these defaults.
		var m struct {
			IntervalMs    float64 `json:"intervalMs"`
			MaxDataPoints float64 `json:"maxDataPoints"`
		}
		if err := json.Unmarshal(n.Model, &m); err != nil {
			t.Fatal(err)
		}
		if m.IntervalMs == 0 {
			m.IntervalMs = 1000
		}
		if m.MaxDataPoints == 0 {
			m.MaxDataPoints = 43200
		}
		req.Queries = append(req.Queries, backend.DataQuery{
			RefID:         n.RefID,
			JSON:          n.Model,
			Interval:      time.Duration(m.IntervalMs) * time.Millisecond,
			MaxDataPoints: int64(m.MaxDataPoints),
			TimeRange: backend.TimeRange{
				From: now.Add(-time.Duration(n.RelativeTimeRange.From) * time.Second),
				To:   now.Add(-time.Duration(n.RelativeTimeRange.To) * time.Second),
			},
		})
		refIDs = append(refIDs, n.RefID)
	}
	protoRes, err := host.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		t.Fatalf("%s: QueryData: %v", rule.UID, err)
	}
	res, err := backend.FromProto().QueryDataResponse(protoRes)
	if err != nil {
		t.Fatal(err)
	}
	ev := ruleEvaluation{frames: map[string]data.Frames{}}
	results := map[string]exprResult{}
	for _, refID := range refIDs {
		r := res.Responses[refID]
		if r.Error != nil {
			t.Fatalf("%s/%s: %v (the rule would go to its execErrState)", rule.UID, refID, r.Error)
		}
		checkAlertFrames(t, rule, refID, r.Frames)
		ev.frames[refID] = r.Frames
		s, err := seriesFromFrames(r.Frames)
		if err != nil {
			t.Fatalf("%s/%s: %v", rule.UID, refID, err)
		}
		results[refID] = s
	}
	nodes, err := evaluateExpressions(rule.Data, results)
	if err != nil {
		t.Fatalf("%s: %v", rule.UID, err)
	}
	ev.nodes = nodes
	ev.states = instanceStates(nodes[rule.Condition], rule.groupBy())
	return ev
}

// checkAlertFrames asserts what alerting needs of a query's frames: numeric wide time series,
// one frame per series labelled by the rule's dimension, at most one point (one bucket over the
// window), and a point in every count series.
func checkAlertFrames(t *testing.T, rule provisionedRule, refID string, frames data.Frames) {
	t.Helper()
	if len(frames) == 0 {
		t.Fatalf("%s/%s: no frames", rule.UID, refID)
	}
	dim := rule.groupBy()
	var model struct {
		Metric string `json:"metric"`
	}
	_ = json.Unmarshal(rule.node(refID).Model, &model)
	isCount := !strings.HasSuffix(model.Metric, "Rate")
	for _, f := range frames {
		if f.Meta == nil || f.Meta.Type != data.FrameTypeTimeSeriesMulti {
			t.Errorf("%s/%s: frame %q is not of type timeseries-multi", rule.UID, refID, f.Name)
		}
		schema := f.TimeSeriesSchema()
		if schema.Type != data.TimeSeriesTypeWide || len(schema.ValueIndices) != 1 {
			t.Errorf("%s/%s: frame %q is not a wide series with one value field (%s, %d values)", rule.UID, refID, f.Name, schema.Type, len(schema.ValueIndices))
			continue
		}
		value := f.Fields[schema.ValueIndices[0]]
		if !value.Type().Numeric() {
			t.Errorf("%s/%s: value field %q is %s, not numeric", rule.UID, refID, value.Name, value.Type())
		}
		if f.Rows() > 1 {
			t.Errorf("%s/%s: series %v has %d points; maxDataPoints 1 asks for one bucket over the window", rule.UID, refID, value.Labels, f.Rows())
		}
		grouped := len(frames) > 1 || f.Rows() > 0
		if dim != "" && grouped && value.Labels[dim] == "" {
			t.Errorf("%s/%s: series %q has no %s label (%v)", rule.UID, refID, f.Name, dim, value.Labels)
		}
		if isCount && grouped && f.Rows() != 1 {
			t.Errorf("%s/%s: count series %v has %d points, want 1", rule.UID, refID, value.Labels, f.Rows())
		}
	}
}

// number is the value of a node for one instance.
func (ev ruleEvaluation) number(t *testing.T, refID, key, instance string) float64 {
	t.Helper()
	v, ok := byLabel(ev.nodes[refID], key)[instance]
	if !ok {
		t.Fatalf("%s has no value for %q (%v)", refID, instance, byLabel(ev.nodes[refID], key))
	}
	return v
}

// points is the number of points of an instance's series in a query's answer (-1: no series).
func (ev ruleEvaluation) points(refID, key, instance string) int {
	for _, f := range ev.frames[refID] {
		for _, field := range f.Fields {
			if field.Labels[key] == instance {
				return f.Rows()
			}
		}
	}
	return -1
}

func expectStates(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: instance %q is %q, want %q (all: %v)", what, k, got[k], want[k], got)
		}
	}
}

func almost(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestAlertRules(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("skipped: `node` is not on PATH; the alert rule test starts the Agent Insights server with Node.js 20+ (then run `npm ci` at the repository root)")
	}
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "tsx")); err != nil {
		t.Fatalf("the root's node_modules has no tsx: run `npm ci` at %s first", root)
	}
	rules := loadAlertRules(t, root)
	timeoutRule, errorRule, toolRule, spendRule := rules["agent-insights-agent-timeout-rate"], rules["agent-insights-agent-error-rate"], rules["agent-insights-tool-error-rate"], rules["agent-insights-spend"]
	for uid, r := range map[string]provisionedRule{"agent-insights-agent-timeout-rate": timeoutRule, "agent-insights-agent-error-rate": errorRule, "agent-insights-tool-error-rate": toolRule, "agent-insights-spend": spendRule} {
		if r.UID == "" {
			t.Fatalf("rules.yml has no rule %s", uid)
		}
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
	pctx := pluginContext(1, srv.url, readKey, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	anchor := time.UnixMilli(ds.Anchor)
	const H = time.Hour

	// The hand-checked dataset (server/src/test-support/dataset.ts): support-triage ran at A+1h
	// (completed), A+2h (failed; its lookup_order call failed) and A+3h (timed out);
	// research-assistant at A+3h30m (completed, three web_search calls).
	t.Run("dataset: one failure in a quiet hour pages nobody", func(t *testing.T) {
		// At A+3h+1s the last hour holds only support-triage's timed-out run: 100 % of 1 run.
		ev := evaluateRule(t, ctx, host, pctx, timeoutRule, anchor.Add(3*H+time.Second))
		if r, f := ev.number(t, "rate", "agent", "support-triage"), ev.number(t, "finished", "agent", "support-triage"); r != 1 || f != 1 {
			t.Errorf("support-triage: timeout rate %v of %v finished runs, want 1 of 1", r, f)
		}
		expectStates(t, "timeout rate at A+3h", ev.states, map[string]string{"support-triage": stateNormal})

		// At A+2h+1s the last hour holds only its failed run.
		ev = evaluateRule(t, ctx, host, pctx, errorRule, anchor.Add(2*H+time.Second))
		if r, f := ev.number(t, "rate", "agent", "support-triage"), ev.number(t, "finished", "agent", "support-triage"); r != 1 || f != 1 {
			t.Errorf("support-triage: error rate %v of %v finished runs, want 1 of 1", r, f)
		}
		expectStates(t, "error rate at A+2h", ev.states, map[string]string{"support-triage": stateNormal})

		ev = evaluateRule(t, ctx, host, pctx, toolRule, anchor.Add(2*H+time.Minute))
		if r, c := ev.number(t, "error_rate", "tool", "lookup_order"), ev.number(t, "calls", "tool", "lookup_order"); r != 1 || c != 1 {
			t.Errorf("lookup_order: error rate %v of %v calls, want 1 of 1", r, c)
		}
		expectStates(t, "tool error rate at A+2h", ev.states, map[string]string{"lookup_order": stateNormal})

		// An hour without runs: every series is empty, nothing fires (no data is OK).
		ev = evaluateRule(t, ctx, host, pctx, timeoutRule, anchor.Add(12*H))
		for k, s := range ev.states {
			if s == stateAlerting {
				t.Errorf("an hour without runs: instance %q is alerting", k)
			}
		}
	})

	t.Run("dataset: the same rules over 4 hours, above 20 % of at least 3 runs (or 2 calls)", func(t *testing.T) {
		now := anchor.Add(4 * H)
		// support-triage: 3 finished runs, 1 timed out (1/3), 1 failed (1/3): both fire.
		// research-assistant: 1 completed run: 0 %, and too few runs anyway.
		ev := evaluateRule(t, ctx, host, pctx, timeoutRule.withParams(t, 4*3600, 3, 0.2), now)
		if r := ev.number(t, "rate", "agent", "support-triage"); !almost(r, 1.0/3) {
			t.Errorf("support-triage timeout rate %v, want 1/3", r)
		}
		if f := ev.number(t, "finished", "agent", "support-triage"); f != 3 {
			t.Errorf("support-triage finished runs %v, want 3", f)
		}
		expectStates(t, "timeout rate", ev.states, map[string]string{"support-triage": stateAlerting, "research-assistant": stateNormal})

		ev = evaluateRule(t, ctx, host, pctx, errorRule.withParams(t, 4*3600, 3, 0.2), now)
		expectStates(t, "error rate", ev.states, map[string]string{"support-triage": stateAlerting, "research-assistant": stateNormal})

		// lookup_order: 2 calls, 1 failed (50 %): fires; create_ticket 1 call, web_search 3 calls
		// without errors: do not.
		ev = evaluateRule(t, ctx, host, pctx, toolRule.withParams(t, 4*3600, 2, 0.2), now)
		if r := ev.number(t, "error_rate", "tool", "lookup_order"); r != 0.5 {
			t.Errorf("lookup_order error rate %v, want 0.5", r)
		}
		expectStates(t, "tool error rate", ev.states, map[string]string{"lookup_order": stateAlerting, "create_ticket": stateNormal, "web_search": stateNormal})
	})

	// Runs seeded in the last hour, built from the rules' own thresholds and minimums, so that the
	// assertions hold whatever numbers rules.yml sets.
	t.Run("last hour: exactly the agents and tools over the threshold with enough volume fire", func(t *testing.T) {
		tp, ep, cp := timeoutRule.params(t), errorRule.params(t), toolRule.params(t)
		sc := buildAlertScenario(t, tp, ep, cp)
		for _, body := range sc.requests(time.Now().Add(-58*time.Minute), time.Now().Add(-2*time.Minute)) {
			srv.postSpans(t, body)
		}
		now := time.Now()

		ev := evaluateRule(t, ctx, host, pctx, timeoutRule, now)
		t.Logf("timeout rate: rate %v, finished %v", byLabel(ev.nodes["rate"], "agent"), byLabel(ev.nodes["finished"], "agent"))
		expectStates(t, "timeout rate", ev.states, map[string]string{
			"alert-flaky":   stateAlerting, // above the threshold with enough finished runs
			"alert-quiet":   stateNormal,   // far above it, one finished run short (its running run does not count)
			"alert-healthy": stateNormal,   // enough runs, at most at the threshold
			// The dataset's running run: no finished run, its rate series has no point.
			"research-assistant": stateNormal,
		})
		if f := ev.number(t, "finished", "agent", "alert-quiet"); int(f) != tp.min-1 {
			t.Errorf("alert-quiet: %v finished runs, want %d", f, tp.min-1)
		}
		if r := ev.number(t, "runs", "agent", "alert-quiet"); int(r) != tp.min {
			t.Errorf("alert-quiet: %v runs, want %d (one running)", r, tp.min)
		}
		if n := ev.points("rate_series", "agent", "research-assistant"); n != 0 {
			t.Errorf("research-assistant (running only): its timeout rate series has %d points, want 0", n)
		}

		ev = evaluateRule(t, ctx, host, pctx, errorRule, now)
		t.Logf("error rate: rate %v, finished %v", byLabel(ev.nodes["rate"], "agent"), byLabel(ev.nodes["finished"], "agent"))
		expectStates(t, "error rate", ev.states, map[string]string{
			"alert-flaky": stateAlerting, "alert-quiet": stateNormal, "alert-healthy": stateNormal, "research-assistant": stateNormal,
		})

		ev = evaluateRule(t, ctx, host, pctx, toolRule, now)
		t.Logf("tool error rate: rate %v, calls %v", byLabel(ev.nodes["error_rate"], "tool"), byLabel(ev.nodes["calls"], "tool"))
		expectStates(t, "tool error rate", ev.states, map[string]string{
			"alert_flaky_tool": stateAlerting, "alert_quiet_tool": stateNormal, "alert_healthy_tool": stateNormal,
			"web_search": stateNormal, // the dataset's running run called it once, without error
			"alert_wait": stateNormal, // alert-quiet's running run: one call
		})
		if r := ev.number(t, "error_rate", "tool", "alert_healthy_tool"); r > cp.threshold {
			t.Errorf("alert_healthy_tool error rate %v is above the threshold %v", r, cp.threshold)
		}
	})

	t.Run("spend: fires once the last 24 hours cost more credits than the budget", func(t *testing.T) {
		var m exprModel
		_ = json.Unmarshal(spendRule.node(spendRule.Condition).Model, &m)
		if m.Type != "threshold" || len(m.Conditions) != 1 || m.Conditions[0].Evaluator.Type != "gt" {
			t.Fatalf("the spend rule's condition is not a `gt` threshold: %s", spendRule.node(spendRule.Condition).Model)
		}
		budget := m.Conditions[0].Evaluator.Params[0]

		ev := evaluateRule(t, ctx, host, pctx, spendRule, time.Now())
		before := ev.number(t, "credits", "", "")
		if before >= budget {
			t.Fatalf("the dataset alone spends %v credits in 24 hours, not below the budget %v: lower budgets need another test dataset", before, budget)
		}
		expectStates(t, "spend before", ev.states, map[string]string{"": stateNormal})

		// One LLM call that reports its cost: twice the budget at the server's default 100 credits
		// per USD.
		cost := 2 * budget / 100
		srv.postSpans(t, spendSpans(time.Now().Add(-10*time.Minute), cost))
		ev = evaluateRule(t, ctx, host, pctx, spendRule, time.Now())
		after := ev.number(t, "credits", "", "")
		if !almost(after-before, cost*100) {
			t.Errorf("credits went from %v to %v, want %v more", before, after, cost*100)
		}
		expectStates(t, "spend after", ev.states, map[string]string{"": stateAlerting})
	})
}

// alertScenario is the runs seeded in the last hour: per agent, how many runs end in each status,
// and per tool how many calls fail.
type alertScenario struct {
	agents []scenarioAgent
	tools  []scenarioTool
}

type scenarioAgent struct {
	name                                 string
	completed, failed, timedOut, running int
}

type scenarioTool struct {
	name          string
	calls, errors int
}

// buildAlertScenario derives the runs from the rules' numbers: alert-flaky is just above both agent
// thresholds with the minimum of finished runs; alert-quiet far above them with one finished run
// too few (and one running run, which counts as a run but not as finished); alert-healthy has
// twice the minimum and exactly as many timeouts and failures as the thresholds allow without
// crossing them. The tools likewise.
func buildAlertScenario(t *testing.T, timeout, errors, tools ruleParams) alertScenario {
	t.Helper()
	over := func(threshold float64, n int) int { return int(math.Floor(threshold*float64(n))) + 1 }
	atMost := func(threshold float64, n int) int {
		k := int(math.Floor(threshold * float64(n)))
		for k > 0 && float64(k)/float64(n) > threshold {
			k--
		}
		return k
	}
	n := max(timeout.min, errors.min)
	for over(timeout.threshold, n)+over(errors.threshold, n) > n {
		if n++; n > 10000 {
			t.Fatalf("thresholds %v and %v leave no room for completed runs", timeout.threshold, errors.threshold)
		}
	}
	flaky := scenarioAgent{name: "alert-flaky", timedOut: over(timeout.threshold, n), failed: over(errors.threshold, n)}
	flaky.completed = n - flaky.timedOut - flaky.failed

	q := min(timeout.min, errors.min) - 1
	if q < 2 {
		t.Fatalf("minimum volumes %d and %d are too small for the quiet-hour case", timeout.min, errors.min)
	}
	quiet := scenarioAgent{name: "alert-quiet", timedOut: (q + 1) / 2, failed: q / 2, running: 1}

	h := 2 * max(timeout.min, errors.min)
	healthy := scenarioAgent{name: "alert-healthy", timedOut: atMost(timeout.threshold, h), failed: atMost(errors.threshold, h)}
	healthy.completed = h - healthy.timedOut - healthy.failed

	m := tools.min
	for over(tools.threshold, m) > m {
		m++
	}
	return alertScenario{
		agents: []scenarioAgent{flaky, quiet, healthy},
		tools: []scenarioTool{
			{name: "alert_flaky_tool", calls: m, errors: over(tools.threshold, m)},
			{name: "alert_quiet_tool", calls: tools.min - 1, errors: tools.min - 1},
			{name: "alert_healthy_tool", calls: 2 * m, errors: atMost(tools.threshold, 2*m)},
		},
	}
}

// otlpAttr is an OTLP/JSON attribute.
func otlpAttr(k string, v any) map[string]any {
	switch v := v.(type) {
	case string:
		return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
	case int:
		return map[string]any{"key": k, "value": map[string]any{"intValue": v}}
	case float64:
		return map[string]any{"key": k, "value": map[string]any{"doubleValue": v}}
	}
	panic(fmt.Sprintf("attribute %s: %T", k, v))
}

type otlpSpan struct {
	traceID, spanID, parent, name string
	start, end                    time.Time
	attrs                         []map[string]any
	status                        map[string]any
}

func otlpRequest(service string, spans []otlpSpan) map[string]any {
	nanos := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
	out := make([]any, 0, len(spans))
	for _, s := range spans {
		out = append(out, map[string]any{
			"traceId": s.traceID, "spanId": s.spanID, "parentSpanId": s.parent, "name": s.name, "kind": 1,
			"startTimeUnixNano": nanos(s.start), "endTimeUnixNano": nanos(s.end),
			"attributes": s.attrs, "status": s.status,
		})
	}
	return map[string]any{"resourceSpans": []any{map[string]any{
		"resource":   map[string]any{"attributes": []any{otlpAttr("service.name", service), otlpAttr("deployment.environment.name", "production")}},
		"scopeSpans": []any{map[string]any{"scope": map[string]any{"name": "alert-test"}, "spans": out}},
	}}}
}

// requests are the OTLP requests of the scenario, one per agent: the finished runs spread evenly
// from start to end, running runs begun a minute ago; the tool calls spread over the finished runs.
func (sc alertScenario) requests(start, end time.Time) []map[string]any {
	type run struct {
		traceID, root, agent, status string
		at                           time.Time
		children                     []otlpSpan
	}
	var runs []*run
	total := 0
	for _, a := range sc.agents {
		total += a.completed + a.failed + a.timedOut
	}
	// Spread over the window, so that a rule asking for more than one bucket would see several.
	step := end.Sub(start) / time.Duration(total)
	at := start
	for _, a := range sc.agents {
		add := func(count int, status string) {
			for i := 0; i < count; i++ {
				runs = append(runs, &run{traceID: randomHex(16), root: randomHex(8), agent: a.name, status: status, at: at})
				at = at.Add(step)
			}
		}
		add(a.completed, "completed")
		add(a.failed, "failed")
		add(a.timedOut, "timed_out")
		// A running run began a minute ago: one older than the server's run timeout (15 minutes by
		// default) would read as timed out.
		for i := 0; i < a.running; i++ {
			runs = append(runs, &run{traceID: randomHex(16), root: randomHex(8), agent: a.name, status: "running", at: time.Now().Add(-time.Minute)})
		}
	}
	var finished []*run
	for _, r := range runs {
		if r.status != "running" {
			finished = append(finished, r)
		}
	}
	i := 0
	for _, tool := range sc.tools {
		for c := 0; c < tool.calls; c++ {
			r := finished[i%len(finished)]
			i++
			status := map[string]any{"code": 1}
			attrs := []map[string]any{otlpAttr("gen_ai.operation.name", "execute_tool"), otlpAttr("gen_ai.tool.name", tool.name)}
			if c < tool.errors {
				status = map[string]any{"code": 2, "message": tool.name + " failed"}
				attrs = append(attrs, otlpAttr("error.type", "HTTPError"))
			}
			s := r.at.Add(time.Duration(100*(len(r.children)+1)) * time.Millisecond)
			r.children = append(r.children, otlpSpan{traceID: r.traceID, spanID: randomHex(8), parent: r.root, name: "execute_tool " + tool.name, start: s, end: s.Add(50 * time.Millisecond), attrs: attrs, status: status})
		}
	}
	byAgent := map[string][]otlpSpan{}
	var order []string
	for _, r := range runs {
		if !slices.Contains(order, r.agent) {
			order = append(order, r.agent)
		}
		spans := r.children
		if r.status == "running" {
			// Only a child has arrived, naming its agent: the run is running.
			s := r.at.Add(100 * time.Millisecond)
			spans = append(spans, otlpSpan{traceID: r.traceID, spanID: randomHex(8), parent: r.root, name: "execute_tool alert_wait", start: s, end: s.Add(time.Second),
				attrs:  []map[string]any{otlpAttr("gen_ai.operation.name", "execute_tool"), otlpAttr("gen_ai.tool.name", "alert_wait"), otlpAttr("gen_ai.agent.name", r.agent)},
				status: map[string]any{"code": 1}})
		} else {
			status := map[string]any{"code": 1}
			switch r.status {
			case "failed":
				status = map[string]any{"code": 2, "message": "tool failed"}
			case "timed_out":
				status = map[string]any{"code": 2, "message": "agent deadline exceeded"}
			}
			spans = append(spans, otlpSpan{traceID: r.traceID, spanID: r.root, name: "invoke_agent " + r.agent, start: r.at, end: r.at.Add(2 * time.Second),
				attrs: []map[string]any{otlpAttr("gen_ai.operation.name", "invoke_agent"), otlpAttr("gen_ai.agent.name", r.agent)}, status: status})
		}
		byAgent[r.agent] = append(byAgent[r.agent], spans...)
	}
	out := make([]map[string]any, 0, len(order))
	for _, a := range order {
		out = append(out, otlpRequest(a+"-svc", byAgent[a]))
	}
	return out
}

// spendSpans is one completed run of agent alert-spender with one LLM call reporting its cost.
func spendSpans(at time.Time, costUSD float64) map[string]any {
	traceID, root := randomHex(16), randomHex(8)
	return otlpRequest("alert-spender-svc", []otlpSpan{
		{traceID: traceID, spanID: randomHex(8), parent: root, name: "chat gpt-4o", start: at.Add(10 * time.Millisecond), end: at.Add(time.Second),
			attrs: []map[string]any{
				otlpAttr("gen_ai.operation.name", "chat"), otlpAttr("gen_ai.provider.name", "openai"), otlpAttr("gen_ai.request.model", "gpt-4o"),
				otlpAttr("gen_ai.usage.input_tokens", 1000), otlpAttr("gen_ai.usage.output_tokens", 100), otlpAttr("llm.cost.total", costUSD),
			},
			status: map[string]any{"code": 1}},
		{traceID: traceID, spanID: root, name: "invoke_agent alert-spender", start: at, end: at.Add(2 * time.Second),
			attrs:  []map[string]any{otlpAttr("gen_ai.operation.name", "invoke_agent"), otlpAttr("gen_ai.agent.name", "alert-spender")},
			status: map[string]any{"code": 1}},
	})
}
