package host

// A small evaluator of the server-side expressions the provisioned alert rules use, with Grafana's
// semantics as its documentation and source describe them (written here from that description, for
// these rules only): data frames become series (one per wide frame, labelled by the value field's
// labels; a frame with fields but no rows is a series without points, the first frame without
// fields is "no data"), `reduce` (last, sum, mean, min, max, count; strict, dropNN and replaceNN
// modes), `math` on reduced numbers (+ - * / comparisons && || ! and unary minus, values joined by
// their labels, && and || deciding on their left side before NaN is looked at, NaN otherwise
// spreading) and `threshold` (gt, lt). An instance's state comes from the condition's value: no
// value is NoData, 0 is Normal, anything else (NaN too) is Alerting.

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// exprValue is one value of a node's result: a series (from a data source query) or a number
// (from an expression), with its labels.
type exprValue struct {
	labels   data.Labels
	isSeries bool
	points   []*float64 // series: values in time order
	number   *float64   // number: nil is "no value"
	scalar   bool       // a constant of a math expression
}

// exprResult is a node's result; noData marks Grafana's "no data" value.
type exprResult struct {
	noData bool
	values []exprValue
}

func f64(v float64) *float64 { return &v }

// seriesFromFrames reads a data source query's frames as Grafana's expression engine does for
// wide time series frames.
func seriesFromFrames(frames data.Frames) (exprResult, error) {
	if len(frames) == 0 || len(frames[0].Fields) == 0 {
		return exprResult{noData: true}, nil
	}
	var out exprResult
	for _, f := range frames {
		if f.TimeSeriesSchema().Type != data.TimeSeriesTypeWide {
			return out, fmt.Errorf("frame %q is not a wide time series (%s): alerting fails with \"input data must be a wide series\"", f.Name, f.TimeSeriesSchema().Type)
		}
		schema := f.TimeSeriesSchema()
		for _, vi := range schema.ValueIndices {
			field := f.Fields[vi]
			s := exprValue{labels: field.Labels.Copy(), isSeries: true}
			for row := 0; row < f.Rows(); row++ {
				v, err := field.NullableFloatAt(row)
				if err != nil {
					return out, fmt.Errorf("frame %q field %q row %d: %v", f.Name, field.Name, row, err)
				}
				if v != nil {
					v = f64(*v)
				}
				s.points = append(s.points, v)
			}
			out.values = append(out.values, s)
		}
	}
	return out, nil
}

func nonNumber(v *float64) bool { return v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) }

// reducePoints reduces one series: the mode maps the input points, the reducer works strictly
// (a missing or NaN point makes sum, mean, min and max NaN; an empty series has no last, min or
// max: NaN), and the mode maps the output.
func reducePoints(points []*float64, reducer, mode string, replaceWith float64) (*float64, error) {
	in := points
	if mode == "dropNN" || mode == "replaceNN" {
		in = nil
		for _, p := range points {
			switch {
			case !nonNumber(p):
				in = append(in, p)
			case mode == "replaceNN":
				in = append(in, f64(replaceWith))
			}
		}
	} else if mode != "" {
		return nil, fmt.Errorf("reduce mode %q", mode)
	}
	var out *float64
	switch reducer {
	case "sum", "mean":
		sum := 0.0
		for _, p := range in {
			if p == nil || math.IsNaN(*p) {
				sum = math.NaN()
				break
			}
			sum += *p
		}
		if reducer == "mean" {
			sum /= float64(len(in))
		}
		out = f64(sum)
	case "min", "max":
		if len(in) == 0 {
			out = f64(math.NaN())
			break
		}
		best := 0.0
		for i, p := range in {
			if p == nil || math.IsNaN(*p) {
				best = math.NaN()
				break
			}
			if i == 0 || (reducer == "min" && *p < best) || (reducer == "max" && *p > best) {
				best = *p
			}
		}
		out = f64(best)
	case "count":
		out = f64(float64(len(in)))
	case "last":
		if len(in) == 0 {
			out = f64(math.NaN())
		} else {
			out = in[len(in)-1]
		}
	default:
		return nil, fmt.Errorf("reducer %q", reducer)
	}
	if out != nil && math.IsNaN(*out) {
		switch mode {
		case "dropNN":
			out = nil
		case "replaceNN":
			out = f64(replaceWith)
		}
	}
	return out, nil
}

// binaryOp is one operation on two numbers: && and || decide on their left side first, then a
// NaN on either side gives NaN; comparisons and logic give 1 or 0.
func binaryOp(op string, a, b float64) (float64, error) {
	switch op {
	case "&&":
		if a == 0 {
			return 0, nil
		}
	case "||":
		if a != 0 {
			return 1, nil
		}
	}
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN(), nil
	}
	truth := func(c bool) float64 {
		if c {
			return 1
		}
		return 0
	}
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		return a / b, nil
	case "%":
		return math.Mod(a, b), nil
	case "**":
		return math.Pow(a, b), nil
	case ">":
		return truth(a > b), nil
	case ">=":
		return truth(a >= b), nil
	case "<":
		return truth(a < b), nil
	case "<=":
		return truth(a <= b), nil
	case "==":
		return truth(a == b), nil
	case "!=":
		return truth(a != b), nil
	case "&&":
		return truth(a != 0 && b != 0), nil
	case "||":
		return truth(a != 0 || b != 0), nil
	}
	return 0, fmt.Errorf("operator %q", op)
}

// mathNode is a parsed math expression.
type mathNode struct {
	op       string // "num", "var", unary "-" / "!", or a binary operator
	num      float64
	name     string
	args     []*mathNode
	isBinary bool
}

type mathParser struct {
	toks []string
	pos  int
}

func tokenizeMath(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '$':
			j := i + 1
			if j < len(s) && s[j] == '{' {
				k := strings.IndexByte(s[j:], '}')
				if k < 0 {
					return nil, fmt.Errorf("unterminated ${ in %q", s)
				}
				toks = append(toks, "$"+strings.TrimSpace(s[j+1:j+k]))
				i = j + k + 1
				continue
			}
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("incomplete variable in %q", s)
			}
			toks = append(toks, s[i:j])
			i = j
		case unicode.IsDigit(c) || c == '.':
			j := i
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case strings.ContainsRune("!<>=&|+-*/%", c):
			// Like Grafana's lexer, a run of operator characters is one token.
			j := i
			for j < len(s) && strings.ContainsRune("!<>=&|+-*/%", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		default:
			return nil, fmt.Errorf("unexpected %q in %q (functions are not supported by this evaluator)", c, s)
		}
	}
	return toks, nil
}

func parseMath(s string) (*mathNode, error) {
	toks, err := tokenizeMath(s)
	if err != nil {
		return nil, err
	}
	p := &mathParser{toks: toks}
	n, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in %q", p.toks[p.pos], s)
	}
	return n, nil
}

// Grafana's precedence, lowest first: || ; && ; comparisons ; + - ; * / % ; ** ; unary.
var mathLevels = [][]string{{"||"}, {"&&"}, {"==", "!=", ">", ">=", "<", "<="}, {"+", "-"}, {"*", "/", "%"}, {"**"}}

func (p *mathParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *mathParser) binary(level int) (*mathNode, error) {
	if level == len(mathLevels) {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek()
		found := false
		for _, o := range mathLevels[level] {
			found = found || o == op
		}
		if !found {
			return left, nil
		}
		p.pos++
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		left = &mathNode{op: op, args: []*mathNode{left, right}, isBinary: true}
	}
}

func (p *mathParser) unary() (*mathNode, error) {
	t := p.peek()
	p.pos++
	switch {
	case t == "":
		return nil, fmt.Errorf("unexpected end of expression")
	case t == "-" || t == "!":
		arg, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &mathNode{op: t, args: []*mathNode{arg}}, nil
	case t == "(":
		n, err := p.binary(0)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case strings.HasPrefix(t, "$"):
		return &mathNode{op: "var", name: t[1:]}, nil
	default:
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, fmt.Errorf("unexpected %q", t)
		}
		return &mathNode{op: "num", num: v}, nil
	}
}

// vars lists the variables a math expression reads.
func (n *mathNode) vars() []string {
	if n.op == "var" {
		return []string{n.name}
	}
	var out []string
	for _, a := range n.args {
		out = append(out, a.vars()...)
	}
	return out
}

func (n *mathNode) eval(vars map[string]exprResult) (exprResult, error) {
	switch {
	case n.op == "num":
		return exprResult{values: []exprValue{{number: f64(n.num), scalar: true}}}, nil
	case n.op == "var":
		r, ok := vars[n.name]
		if !ok {
			return r, fmt.Errorf("$%s is not a node of the rule", n.name)
		}
		return r, nil
	case !n.isBinary:
		arg, err := n.args[0].eval(vars)
		if err != nil || arg.noData {
			return arg, err
		}
		var out exprResult
		for _, v := range arg.values {
			if v.isSeries {
				return out, fmt.Errorf("math on a series (reduce it first)")
			}
			r := v
			if v.number != nil {
				switch {
				case math.IsNaN(*v.number):
				case n.op == "-":
					r.number = f64(-*v.number)
				case *v.number == 0:
					r.number = f64(1)
				default:
					r.number = f64(0)
				}
			}
			out.values = append(out.values, r)
		}
		return out, nil
	}
	a, err := n.args[0].eval(vars)
	if err != nil {
		return a, err
	}
	b, err := n.args[1].eval(vars)
	if err != nil {
		return b, err
	}
	if a.noData || b.noData {
		return exprResult{noData: true}, nil
	}
	var out exprResult
	type pair struct {
		labels data.Labels
		a, b   exprValue
	}
	var pairs []pair
	for _, x := range a.values {
		for _, y := range b.values {
			switch {
			case x.labels.Equals(y.labels) || len(x.labels) == 0 || len(y.labels) == 0:
				l := x.labels
				if len(l) == 0 {
					l = y.labels
				}
				pairs = append(pairs, pair{l, x, y})
			case len(x.labels) == len(y.labels):
			case x.labels.Contains(y.labels):
				pairs = append(pairs, pair{x.labels, x, y})
			case y.labels.Contains(x.labels):
				pairs = append(pairs, pair{y.labels, x, y})
			}
		}
	}
	if len(pairs) == 0 && len(a.values) == 1 && len(b.values) == 1 {
		pairs = append(pairs, pair{nil, a.values[0], b.values[0]})
	}
	for _, p := range pairs {
		if p.a.isSeries || p.b.isSeries {
			return out, fmt.Errorf("math on a series (reduce it first)")
		}
		v := exprValue{labels: p.labels, scalar: p.a.scalar && p.b.scalar}
		if p.a.number != nil && p.b.number != nil {
			r, err := binaryOp(n.op, *p.a.number, *p.b.number)
			if err != nil {
				return out, err
			}
			v.number = f64(r)
		}
		out.values = append(out.values, v)
	}
	return out, nil
}

// ruleNode is one entry of an alert rule's data list.
type ruleNode struct {
	RefID             string          `json:"refId"`
	RelativeTimeRange *timeRangeSec   `json:"relativeTimeRange"`
	DatasourceUID     string          `json:"datasourceUid"`
	Model             json.RawMessage `json:"model"`
}

type timeRangeSec struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

type exprModel struct {
	Type       string `json:"type"`
	Expression string `json:"expression"`
	Reducer    string `json:"reducer"`
	Settings   *struct {
		Mode             string  `json:"mode"`
		ReplaceWithValue float64 `json:"replaceWithValue"`
	} `json:"settings"`
	Conditions []struct {
		Evaluator struct {
			Type   string    `json:"type"`
			Params []float64 `json:"params"`
		} `json:"evaluator"`
	} `json:"conditions"`
}

// evaluateExpressions computes every expression node of a rule from its queries' results.
func evaluateExpressions(nodes []ruleNode, results map[string]exprResult) (map[string]exprResult, error) {
	done := map[string]exprResult{}
	for k, v := range results {
		done[k] = v
	}
	pending := map[string]ruleNode{}
	for _, n := range nodes {
		if n.DatasourceUID == "__expr__" {
			pending[n.RefID] = n
		}
	}
	for len(pending) > 0 {
		progressed := false
		names := make([]string, 0, len(pending))
		for name := range pending {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			n := pending[name]
			var m exprModel
			if err := json.Unmarshal(n.Model, &m); err != nil {
				return nil, fmt.Errorf("%s: %v", n.RefID, err)
			}
			var needs []string
			var parsed *mathNode
			switch m.Type {
			case "math":
				p, err := parseMath(m.Expression)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", n.RefID, err)
				}
				parsed, needs = p, p.vars()
			case "reduce", "threshold":
				needs = []string{strings.TrimPrefix(m.Expression, "$")}
			default:
				return nil, fmt.Errorf("%s: expression type %q is not supported by this evaluator", n.RefID, m.Type)
			}
			ready := true
			for _, need := range needs {
				if _, ok := done[need]; !ok {
					ready = false
				}
			}
			if !ready {
				continue
			}
			var r exprResult
			switch m.Type {
			case "math":
				var err error
				if r, err = parsed.eval(done); err != nil {
					return nil, fmt.Errorf("%s: %v", n.RefID, err)
				}
			case "reduce":
				in := done[needs[0]]
				r.noData = in.noData
				mode, replace := "", 0.0
				if m.Settings != nil {
					mode, replace = m.Settings.Mode, m.Settings.ReplaceWithValue
				}
				for _, v := range in.values {
					if !v.isSeries {
						return nil, fmt.Errorf("%s: reduce of a number", n.RefID)
					}
					num, err := reducePoints(v.points, m.Reducer, mode, replace)
					if err != nil {
						return nil, fmt.Errorf("%s: %v", n.RefID, err)
					}
					r.values = append(r.values, exprValue{labels: v.labels, number: num})
				}
			case "threshold":
				if len(m.Conditions) != 1 || len(m.Conditions[0].Evaluator.Params) < 1 {
					return nil, fmt.Errorf("%s: one condition with a parameter expected", n.RefID)
				}
				ev := m.Conditions[0].Evaluator
				in := done[needs[0]]
				r.noData = in.noData
				for _, v := range in.values {
					if v.isSeries {
						return nil, fmt.Errorf("%s: threshold of a series (reduce it first)", n.RefID)
					}
					out := exprValue{labels: v.labels}
					if v.number != nil {
						switch ev.Type {
						case "gt":
							out.number = f64(map[bool]float64{true: 1, false: 0}[*v.number > ev.Params[0]])
						case "lt":
							out.number = f64(map[bool]float64{true: 1, false: 0}[*v.number < ev.Params[0]])
						default:
							return nil, fmt.Errorf("%s: threshold type %q is not supported by this evaluator", n.RefID, ev.Type)
						}
					}
					r.values = append(r.values, out)
				}
			}
			done[n.RefID] = r
			delete(pending, name)
			progressed = true
		}
		if !progressed {
			return nil, fmt.Errorf("expressions %v wait for nodes that do not exist (or form a cycle)", names)
		}
	}
	return done, nil
}

// Alert instance states.
const (
	stateNormal   = "Normal"
	stateAlerting = "Alerting"
	stateNoData   = "NoData"
)

// instanceStates turns the condition's result into one state per instance, keyed by the value of
// the label `key` ("" for an instance without it).
func instanceStates(condition exprResult, key string) map[string]string {
	out := map[string]string{}
	if condition.noData || len(condition.values) == 0 {
		out[""] = stateNoData
		return out
	}
	for _, v := range condition.values {
		state := stateAlerting
		switch {
		case v.number == nil:
			state = stateNoData
		case *v.number == 0:
			state = stateNormal
		}
		out[v.labels[key]] = state
	}
	return out
}

// byLabel gives the number of each value of a result, keyed by the value of the label `key`.
func byLabel(r exprResult, key string) map[string]float64 {
	out := map[string]float64{}
	for _, v := range r.values {
		if v.number != nil {
			out[v.labels[key]] = *v.number
		} else {
			out[v.labels[key]] = math.NaN()
		}
	}
	return out
}

// TestExpressionEvaluator pins the semantics the rule evaluation relies on, so that a change of
// the evaluator cannot quietly make the rules look right.
func TestExpressionEvaluator(t *testing.T) {
	nan := math.NaN()
	agent := func(a string) data.Labels { return data.Labels{"agent": a} }
	series := func(l data.Labels, pts ...*float64) exprValue {
		return exprValue{labels: l, isSeries: true, points: pts}
	}

	t.Run("reduce", func(t *testing.T) {
		cases := []struct {
			points  []*float64
			reducer string
			mode    string
			want    float64 // NaN for NaN; -1 for nil
		}{
			{nil, "last", "", nan},
			{nil, "last", "replaceNN", 0},
			{nil, "sum", "", 0},
			{nil, "mean", "", nan},
			{nil, "mean", "replaceNN", 0},
			{[]*float64{f64(0.25)}, "last", "replaceNN", 0.25},
			{[]*float64{f64(1), f64(2), f64(4)}, "sum", "replaceNN", 7},
			{[]*float64{f64(1), nil, f64(4)}, "sum", "", nan},
			{[]*float64{f64(1), nil, f64(4)}, "sum", "replaceNN", 5},
			{[]*float64{f64(1), f64(nan)}, "mean", "dropNN", 1},
			{nil, "last", "dropNN", -1},
			{[]*float64{f64(3), f64(1)}, "min", "", 1},
			{[]*float64{f64(3), f64(1)}, "count", "", 2},
		}
		for _, c := range cases {
			got, err := reducePoints(c.points, c.reducer, c.mode, 0)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == -1 && got != nil:
				t.Errorf("%s %q of %v: %v, want no value", c.reducer, c.mode, c.points, *got)
			case c.want == -1:
			case got == nil:
				t.Errorf("%s %q of %v: no value, want %v", c.reducer, c.mode, c.points, c.want)
			case math.IsNaN(c.want) != math.IsNaN(*got) || (!math.IsNaN(c.want) && *got != c.want):
				t.Errorf("%s %q of %v: %v, want %v", c.reducer, c.mode, c.points, *got, c.want)
			}
		}
	})

	t.Run("math", func(t *testing.T) {
		num := func(l data.Labels, v float64) exprValue { return exprValue{labels: l, number: f64(v)} }
		vars := map[string]exprResult{
			"finished": {values: []exprValue{num(agent("a"), 12), num(agent("b"), 3), num(agent("c"), 0)}},
			"rate":     {values: []exprValue{num(agent("a"), 0.25), num(agent("b"), 1), num(agent("c"), nan)}},
			"total":    {values: []exprValue{num(nil, 5)}},
		}
		cases := []struct {
			expr string
			want map[string]float64
		}{
			{"$finished >= 10 && $rate > 0.1", map[string]float64{"a": 1, "b": 0, "c": 0}},
			// NaN spreads unless && has decided on its left side: c's NaN rate would alert.
			{"$rate > 0.1 && $finished >= 10", map[string]float64{"a": 1, "b": 0, "c": nan}},
			{"$finished - 2 * 3", map[string]float64{"a": 6, "b": -3, "c": -6}},
			{"($finished - 2) * 3", map[string]float64{"a": 30, "b": 3, "c": -6}},
			{"${finished} > 1 || !($rate < 1)", map[string]float64{"a": 1, "b": 1, "c": nan}},
			{"-$finished + $total", map[string]float64{"a": -7, "b": 2, "c": 5}},
		}
		for _, c := range cases {
			n, err := parseMath(c.expr)
			if err != nil {
				t.Fatalf("%s: %v", c.expr, err)
			}
			r, err := n.eval(vars)
			if err != nil {
				t.Fatalf("%s: %v", c.expr, err)
			}
			got := byLabel(r, "agent")
			for k, want := range c.want {
				if g, ok := got[k]; !ok || math.IsNaN(g) != math.IsNaN(want) || (!math.IsNaN(want) && g != want) {
					t.Errorf("%s: %s = %v, want %v (all: %v)", c.expr, k, g, want, got)
				}
			}
		}
		if _, err := parseMath("$a >"); err == nil {
			t.Error("an incomplete expression parsed")
		}
	})

	t.Run("rule", func(t *testing.T) {
		nodes := []ruleNode{
			{RefID: "q", DatasourceUID: "ds"},
			{RefID: "r", DatasourceUID: "__expr__", Model: json.RawMessage(`{"type":"reduce","expression":"q","reducer":"last","settings":{"mode":"replaceNN","replaceWithValue":0}}`)},
			{RefID: "c", DatasourceUID: "__expr__", Model: json.RawMessage(`{"type":"threshold","expression":"r","conditions":[{"evaluator":{"type":"gt","params":[0.5]}}]}`)},
		}
		q := exprResult{values: []exprValue{series(agent("a"), f64(0.75)), series(agent("b"), f64(0.2)), series(agent("c"))}}
		done, err := evaluateExpressions(nodes, map[string]exprResult{"q": q})
		if err != nil {
			t.Fatal(err)
		}
		got := instanceStates(done["c"], "agent")
		want := map[string]string{"a": stateAlerting, "b": stateNormal, "c": stateNormal}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("states %v, want %v", got, want)
		}
		if s := instanceStates(exprResult{noData: true}, "agent"); s[""] != stateNoData {
			t.Errorf("no data: %v", s)
		}
		if s := instanceStates(exprResult{values: []exprValue{{labels: agent("x"), number: f64(nan)}}}, "agent"); s["x"] != stateAlerting {
			t.Errorf("a NaN condition is alerting in Grafana: %v", s)
		}
	})
}
