// Package golden proves that the plugin backend can pass the server's query answers through
// unchanged: every golden frame file (tests/golden/frames/*.json, written by the server's
// src/query/golden.test.ts from POST /api/v1/query) is read with grafana-plugin-sdk-go exactly as
// the bridge reads an answer, and each kind of frame is checked for what Grafana needs of it.
package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// framesDir is relative to this package's directory, where go test runs.
const framesDir = "../../tests/golden/frames"

// frameTypeHeatmapRows is Grafana's heatmap-rows frame type; the Go SDK has no constant for it.
const frameTypeHeatmapRows = data.FrameType("heatmap-rows")

// TestSDKReaderIsTheStrictOne makes sure json.Unmarshal goes through the SDK's own reader
// (QueryDataResponse.UnmarshalJSON), not a plain struct decode: a field without typeInfo.frame is
// an error there, and a plain decode would accept it.
func TestSDKReaderIsTheStrictOne(t *testing.T) {
	bad := `{"results":{"A":{"status":200,"frames":[{"schema":{"fields":[{"name":"x","type":"number"}]},"data":{"values":[[1]]}}]}}}`
	var resp backend.QueryDataResponse
	if err := json.Unmarshal([]byte(bad), &resp); err == nil || !strings.Contains(err.Error(), "has no type") {
		t.Fatalf("expected the SDK's reader to refuse a field without typeInfo.frame, got %v", err)
	}
	good := `{"results":{"A":{"status":200,"frames":[{"schema":{"fields":[{"name":"x","type":"number","typeInfo":{"frame":"float64"}}]},"data":{"values":[[1.5]]}}]}}}`
	if err := json.Unmarshal([]byte(good), &resp); err != nil {
		t.Fatal(err)
	}
	if v := resp.Responses["A"].Frames[0].Fields[0].At(0); v != 1.5 {
		t.Fatalf("read %v, want 1.5", v)
	}
}

func TestGoldenFramesReadBySDK(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(framesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden frame files in %s: run the server's golden test with UPDATE_GOLDEN=1 (cd server && UPDATE_GOLDEN=1 npx jest src/query/golden.test.ts)", framesDir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var resp backend.QueryDataResponse
			if err := json.Unmarshal(raw, &resp); err != nil {
				t.Fatalf("the SDK cannot read %s: %v", file, err)
			}
			if len(resp.Responses) == 0 {
				t.Fatal("no results")
			}
			checkNoNullInNonNullable(t, raw)
			for refID, dr := range resp.Responses {
				if dr.Error != nil {
					t.Fatalf("%s: a golden file of an error: %v (status %d, source %q)", refID, dr.Error, dr.Status, dr.ErrorSource)
				}
				if dr.Status != backend.StatusOK {
					t.Fatalf("%s: status %d, want 200", refID, dr.Status)
				}
				if len(dr.Frames) == 0 {
					t.Fatalf("%s: no frames", refID)
				}
				for i, f := range dr.Frames {
					where := fmt.Sprintf("%s frame %d (%q)", refID, i, f.Name)
					checkFrame(t, where, f)
				}
				checkByQueryType(t, name, refID, dr.Frames)
			}
		})
	}
}

// checkFrame: what every frame must satisfy, and what its declared kind needs.
func checkFrame(t *testing.T, where string, f *data.Frame) {
	t.Helper()
	if len(f.Fields) == 0 {
		t.Errorf("%s: no fields", where)
		return
	}
	rows := f.Fields[0].Len()
	for _, fl := range f.Fields {
		if fl.Name == "" {
			t.Errorf("%s: a field without a name", where)
		}
		if fl.Len() != rows {
			t.Errorf("%s: field %q has %d values, field %q has %d", where, fl.Name, fl.Len(), f.Fields[0].Name, rows)
		}
	}
	// The plugin sends frames to Grafana over gRPC as Arrow: each must survive that too.
	b, err := f.MarshalArrow()
	if err != nil {
		t.Errorf("%s: cannot be encoded as Arrow: %v", where, err)
	} else if back, err := data.UnmarshalArrowFrame(b); err != nil {
		t.Errorf("%s: Arrow encoding does not read back: %v", where, err)
	} else if back.Rows() != rows || len(back.Fields) != len(f.Fields) {
		t.Errorf("%s: Arrow round trip has %d rows x %d fields, want %d x %d", where, back.Rows(), len(back.Fields), rows, len(f.Fields))
	}
	if f.Meta == nil {
		return
	}
	if f.Meta.PreferredVisualization == data.VisTypeTrace {
		checkTraceFrame(t, where, f)
	}
	if f.Meta.Type == frameTypeHeatmapRows {
		checkHeatmapFrame(t, where, f)
	}
	if f.Meta.Type == data.FrameTypeLogLines {
		checkLogLinesFrame(t, where, f)
	}
	if f.Meta.PreferredVisualization == data.VisTypeLogs {
		if len(f.TypeIndices(data.FieldTypeTime, data.FieldTypeNullableTime)) == 0 || len(f.TypeIndices(data.FieldTypeString, data.FieldTypeNullableString)) == 0 {
			t.Errorf("%s: a logs frame needs a time field and a string body field", where)
		}
	}
}

// checkByQueryType: the golden file's name starts with its query type in kebab case
// (golden-queries.ts checks that), so the kind of answer is known here.
func checkByQueryType(t *testing.T, name, refID string, frames data.Frames) {
	t.Helper()
	switch {
	case strings.HasPrefix(name, "run-trace"):
		if !anyFrame(frames, func(f *data.Frame) bool { return f.Meta != nil && f.Meta.PreferredVisualization == data.VisTypeTrace }) {
			t.Errorf("%s: a runTrace answer without a trace frame (meta.preferredVisualisationType trace)", refID)
		}
	case strings.HasPrefix(name, "heatmap"):
		if !anyFrame(frames, func(f *data.Frame) bool { return f.Meta != nil && f.Meta.Type == frameTypeHeatmapRows }) {
			t.Errorf("%s: a heatmap answer without a heatmap-rows frame", refID)
		}
	case strings.HasPrefix(name, "time-series"):
		checkAlertingSeries(t, refID, frames, strings.Contains(name, "-by-"))
	}
}

func anyFrame(frames data.Frames, pred func(*data.Frame) bool) bool {
	for _, f := range frames {
		if pred(f) {
			return true
		}
	}
	return false
}

// Trace view: one trace per frame, with the case-sensitive field names and Go types Grafana's
// trace view reads.
func checkTraceFrame(t *testing.T, where string, f *data.Frame) {
	t.Helper()
	required := map[string][]data.FieldType{
		"traceID":       {data.FieldTypeString},
		"spanID":        {data.FieldTypeString},
		"parentSpanID":  {data.FieldTypeString, data.FieldTypeNullableString},
		"operationName": {data.FieldTypeString},
		"serviceName":   {data.FieldTypeString},
		"startTime":     {data.FieldTypeFloat64},
		"duration":      {data.FieldTypeFloat64},
	}
	optional := map[string][]data.FieldType{
		"serviceTags":   {data.FieldTypeJSON, data.FieldTypeNullableJSON},
		"tags":          {data.FieldTypeJSON, data.FieldTypeNullableJSON},
		"logs":          {data.FieldTypeJSON, data.FieldTypeNullableJSON},
		"references":    {data.FieldTypeJSON, data.FieldTypeNullableJSON},
		"warnings":      {data.FieldTypeJSON, data.FieldTypeNullableJSON},
		"stackTraces":   {data.FieldTypeJSON, data.FieldTypeNullableJSON},
		"kind":          {data.FieldTypeString, data.FieldTypeNullableString},
		"statusMessage": {data.FieldTypeString, data.FieldTypeNullableString},
		"statusCode":    {data.FieldTypeInt64, data.FieldTypeNullableInt64, data.FieldTypeFloat64, data.FieldTypeNullableFloat64},
	}
	for name, types := range required {
		fl, _ := f.FieldByName(name)
		if fl == nil {
			t.Errorf("%s: trace frame without field %q", where, name)
			continue
		}
		if !oneOfTypes(fl.Type(), types) {
			t.Errorf("%s: trace field %q is %s, want %v", where, name, fl.Type().ItemTypeString(), typeNames(types))
		}
	}
	for name, types := range optional {
		if fl, _ := f.FieldByName(name); fl != nil && !oneOfTypes(fl.Type(), types) {
			t.Errorf("%s: trace field %q is %s, want %v", where, name, fl.Type().ItemTypeString(), typeNames(types))
		}
	}
	if t.Failed() {
		return
	}
	traceField, _ := f.FieldByName("traceID")
	spanField, _ := f.FieldByName("spanID")
	if f.Rows() == 0 {
		t.Errorf("%s: a trace without spans", where)
	}
	spans := map[string]bool{}
	for i := 0; i < f.Rows(); i++ {
		if traceField.At(i) != traceField.At(0) {
			t.Errorf("%s: more than one trace in a frame (%v, %v)", where, traceField.At(0), traceField.At(i))
		}
		id := spanField.At(i).(string)
		if id == "" || spans[id] {
			t.Errorf("%s: span id %q empty or repeated", where, id)
		}
		spans[id] = true
	}
	// Every json field of the trace view must hold valid JSON of the shape Grafana reads.
	for _, name := range []string{"serviceTags", "tags"} {
		checkJSONRows(t, where, f, name, func(raw json.RawMessage) error {
			var kv []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			}
			return json.Unmarshal(raw, &kv)
		})
	}
	checkJSONRows(t, where, f, "logs", func(raw json.RawMessage) error {
		var logs []struct {
			Timestamp float64 `json:"timestamp"`
			Fields    []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"fields"`
		}
		return json.Unmarshal(raw, &logs)
	})
}

func checkJSONRows(t *testing.T, where string, f *data.Frame, name string, check func(json.RawMessage) error) {
	t.Helper()
	fl, _ := f.FieldByName(name)
	if fl == nil {
		return
	}
	for i := 0; i < fl.Len(); i++ {
		v, ok := fl.ConcreteAt(i)
		if !ok {
			continue
		}
		raw := v.(json.RawMessage)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		if err := check(raw); err != nil {
			t.Errorf("%s: %s[%d] is not of the shape Grafana reads: %v (%s)", where, name, i, err, raw)
		}
	}
}

// Log lines (data plane "log-lines"): a timestamp time field and a body string field; severity,
// id and labels (JSON of string values) when present.
func checkLogLinesFrame(t *testing.T, where string, f *data.Frame) {
	t.Helper()
	want := map[string][]data.FieldType{
		"timestamp": {data.FieldTypeTime},
		"body":      {data.FieldTypeString, data.FieldTypeNullableString},
	}
	for name, types := range want {
		fl, _ := f.FieldByName(name)
		if fl == nil {
			t.Errorf("%s: log-lines frame without field %q", where, name)
		} else if !oneOfTypes(fl.Type(), types) {
			t.Errorf("%s: log-lines field %q is %s, want %v", where, name, fl.Type().ItemTypeString(), typeNames(types))
		}
	}
	for name, types := range map[string][]data.FieldType{
		"severity": {data.FieldTypeString, data.FieldTypeNullableString},
		"id":       {data.FieldTypeString, data.FieldTypeNullableString},
		"labels":   {data.FieldTypeJSON, data.FieldTypeNullableJSON},
	} {
		if fl, _ := f.FieldByName(name); fl != nil && !oneOfTypes(fl.Type(), types) {
			t.Errorf("%s: log-lines field %q is %s, want %v", where, name, fl.Type().ItemTypeString(), typeNames(types))
		}
	}
	checkJSONRows(t, where, f, "labels", func(raw json.RawMessage) error {
		var labels map[string]string
		return json.Unmarshal(raw, &labels)
	})
}

// Heatmap rows: a time field first, then one numeric field per bucket.
func checkHeatmapFrame(t *testing.T, where string, f *data.Frame) {
	t.Helper()
	if len(f.Fields) < 2 {
		t.Errorf("%s: a heatmap-rows frame needs a time field and at least one bucket field", where)
		return
	}
	if !f.Fields[0].Type().Time() {
		t.Errorf("%s: heatmap-rows field 0 (%q) is %s, want a time field", where, f.Fields[0].Name, f.Fields[0].Type().ItemTypeString())
	}
	for _, fl := range f.Fields[1:] {
		if !fl.Type().Numeric() {
			t.Errorf("%s: heatmap bucket field %q is %s, want numeric", where, fl.Name, fl.Type().ItemTypeString())
		}
	}
}

// Alerting reads time series: each frame wide (a time field and numeric value fields, no string
// columns), times ascending without repeats, and series told apart by the labels on their value
// fields (required when the query groups by a dimension).
func checkAlertingSeries(t *testing.T, refID string, frames data.Frames, grouped bool) {
	t.Helper()
	seen := map[string]bool{}
	for i, f := range frames {
		where := fmt.Sprintf("%s frame %d (%q)", refID, i, f.Name)
		schema := f.TimeSeriesSchema()
		if schema.Type != data.TimeSeriesTypeWide {
			t.Errorf("%s: time series type %s, want wide (alerting refuses anything else)", where, schema.Type)
			continue
		}
		tf := f.Fields[schema.TimeIndex]
		if tf.Type() != data.FieldTypeTime {
			t.Errorf("%s: time field %q is %s, want non-null time", where, tf.Name, tf.Type().ItemTypeString())
		}
		for r := 1; r < tf.Len(); r++ {
			prev, _ := tf.ConcreteAt(r - 1)
			cur, _ := tf.ConcreteAt(r)
			if pt, ok := prev.(time.Time); ok {
				if ct, ok := cur.(time.Time); ok && !ct.After(pt) {
					t.Errorf("%s: times not strictly ascending at row %d (%v after %v)", where, r, ct, pt)
				}
			}
		}
		for _, vi := range schema.ValueIndices {
			vf := f.Fields[vi]
			if !vf.Type().Numeric() {
				t.Errorf("%s: value field %q is %s, want numeric", where, vf.Name, vf.Type().ItemTypeString())
			}
			if grouped && len(vf.Labels) == 0 {
				t.Errorf("%s: value field %q of a grouped series has no labels", where, vf.Name)
			}
			key := vf.Name + "|" + vf.Labels.String()
			if seen[key] {
				t.Errorf("%s: two series named %q with the same labels %s", where, vf.Name, vf.Labels.String())
			}
			seen[key] = true
		}
	}
}

// The SDK reads a null in a field declared non-nullable as the zero value, silently: a 0 where
// there was no data. So the raw JSON is checked for that.
func checkNoNullInNonNullable(t *testing.T, raw []byte) {
	t.Helper()
	var body struct {
		Results map[string]struct {
			Frames []struct {
				Schema struct {
					Name   string `json:"name"`
					Fields []struct {
						Name     string `json:"name"`
						TypeInfo struct {
							Frame    string `json:"frame"`
							Nullable bool   `json:"nullable"`
						} `json:"typeInfo"`
					} `json:"fields"`
				} `json:"schema"`
				Data struct {
					Values [][]json.RawMessage `json:"values"`
				} `json:"data"`
			} `json:"frames"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("not JSON of the response shape: %v", err)
	}
	for refID, r := range body.Results {
		for fi, f := range r.Frames {
			if len(f.Data.Values) != len(f.Schema.Fields) && len(f.Data.Values) != 0 {
				t.Errorf("%s frame %d: %d value arrays for %d fields", refID, fi, len(f.Data.Values), len(f.Schema.Fields))
			}
			for i, fl := range f.Schema.Fields {
				if fl.TypeInfo.Nullable || i >= len(f.Data.Values) {
					continue
				}
				for row, v := range f.Data.Values[i] {
					if string(v) == "null" {
						t.Errorf("%s frame %d: field %q (%s, not nullable) has null at row %d", refID, fi, fl.Name, fl.TypeInfo.Frame, row)
						break
					}
				}
			}
		}
	}
}

func oneOfTypes(ft data.FieldType, types []data.FieldType) bool {
	for _, x := range types {
		if ft == x {
			return true
		}
	}
	return false
}

func typeNames(types []data.FieldType) []string {
	out := make([]string, len(types))
	for i, x := range types {
		out[i] = x.ItemTypeString()
	}
	return out
}
