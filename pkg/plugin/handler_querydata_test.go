package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

var (
	dayStart = time.UnixMilli(1795651200000).UTC()
	dayEnd   = time.UnixMilli(1795737600000).UTC()
)

// grafanaQueries are three queries as Grafana sends them: each its own range and interval.
func grafanaQueries() []backend.DataQuery {
	return []backend.DataQuery{
		{RefID: "A", QueryType: "runs", TimeRange: backend.TimeRange{From: dayStart, To: dayEnd}, Interval: time.Minute, MaxDataPoints: 1440,
			JSON: []byte(`{"refId":"A","queryType":"runs","filters":{"agent":["support-triage"],"environment":["production"]},"limit":3,"timezone":"Europe/Berlin","intervalMs":30000}`)},
		{RefID: "B", TimeRange: backend.TimeRange{From: dayStart.Add(-24 * time.Hour), To: dayEnd}, Interval: 2 * time.Minute, MaxDataPoints: 500,
			JSON: []byte(`{"queryType":"runStats"}`)},
		// An alert rule's query: the query type only in DataQuery.QueryType.
		{RefID: "C", QueryType: "timeSeries", TimeRange: backend.TimeRange{From: dayStart, To: dayEnd}, Interval: time.Minute, MaxDataPoints: 1440,
			JSON: []byte(`{"metric":"timeoutRate","groupBy":"agent"}`)},
	}
}

func TestQueryDataSendsEachQueryWithItsOwnContext(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/query": golden(t, 200, "query_response.json")})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))

	if _, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: grafanaQueries()}); err != nil {
		t.Fatal(err)
	}
	req := srv.last(t)
	if req.Method != http.MethodPost || req.Path != "/api/v1/query" {
		t.Errorf("sent %s %s, want POST /api/v1/query", req.Method, req.Path)
	}
	if req.Authorization != "Bearer "+testKey {
		t.Errorf("Authorization header %q, want the key as Bearer", req.Authorization)
	}
	equalJSON(t, "request body", req.Body, readGolden(t, "query_request.json"))
}

func TestQueryDataPassesFramesAndPerQueryErrorsThrough(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/query": golden(t, 200, "query_response.json")})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))

	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: grafanaQueries()})
	if err != nil {
		t.Fatal(err)
	}

	// The whole answer, re-encoded by the SDK, is the server's answer: nothing reshaped or lost.
	// (The SDK writes its default meta.typeVersion [0, 0], which the server leaves out.)
	got, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	got = []byte(strings.ReplaceAll(string(got), `"typeVersion":[0,0],`, ""))
	equalJSON(t, "QueryDataResponse", got, readGolden(t, "query_response.json"))

	a := resp.Responses["A"]
	if a.Error != nil || len(a.Frames) != 1 {
		t.Fatalf("A: error %v, %d frames; want the runs frame", a.Error, len(a.Frames))
	}
	runs := a.Frames[0]
	if runs.Name != "runs" || runs.Rows() != 3 || runs.RefID != "A" {
		t.Errorf("A: frame %q with %d rows, refId %q; want runs with 3 rows, refId A", runs.Name, runs.Rows(), runs.RefID)
	}
	if f, _ := runs.FieldByName("Started"); f == nil || f.Type() != data.FieldTypeTime {
		t.Errorf("A: Started is not a time field")
	}
	if runs.Meta == nil || runs.Meta.PreferredVisualization != data.VisTypeTable {
		t.Errorf("A: meta.preferredVisualisationType lost")
	}

	b := resp.Responses["B"]
	if b.Error == nil || b.Status != backend.StatusBadRequest || b.ErrorSource != backend.ErrorSourcePlugin || !strings.Contains(b.Error.Error(), "runStats is not available") {
		t.Errorf("B: %v (status %d, source %q); want the server's 400 plugin error", b.Error, b.Status, b.ErrorSource)
	}
	c := resp.Responses["C"]
	if c.Error == nil || c.Status != backend.StatusInternal || c.ErrorSource != backend.ErrorSourceDownstream {
		t.Errorf("C: %v (status %d, source %q); want the server's 500 downstream error", c.Error, c.Status, c.ErrorSource)
	}
}

func TestQueryDataMarksEveryQueryDownstreamWhenTheServerFails(t *testing.T) {
	down := newFakeServer(t, nil)
	down.Close() // nothing listens there any more

	for name, tc := range map[string]struct {
		url    string
		status backend.Status
		want   string
	}{
		"unreachable": {down.URL, backend.StatusBadGateway, "unreachable"},
		"503": {newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/query": func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"storage is starting"}`))
		}}).URL, backend.Status(http.StatusServiceUnavailable), "storage is starting"},
		"not JSON": {newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/query": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`<html>a proxy's login page</html>`))
		}}).URL, backend.StatusBadGateway, "not what an Agent Insights server sends"},
	} {
		t.Run(name, func(t *testing.T) {
			ds := newTestDatasource(t, instanceSettings(tc.url, testKey, ""))
			resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: grafanaQueries()})
			if err != nil {
				t.Fatalf("the call failed (%v); each query must carry the error instead", err)
			}
			for _, ref := range []string{"A", "B", "C"} {
				r := resp.Responses[ref]
				if r.Error == nil || r.ErrorSource != backend.ErrorSourceDownstream || r.Status != tc.status {
					t.Errorf("%s: %v (status %d, source %q); want a downstream error with status %d", ref, r.Error, r.Status, r.ErrorSource, tc.status)
					continue
				}
				if !strings.Contains(r.Error.Error(), tc.want) {
					t.Errorf("%s: %q does not say %q", ref, r.Error, tc.want)
				}
				assertNoKey(t, ref+" error", r.Error.Error())
			}
		})
	}
}

func TestQueryDataRejectedKeyIsExplainedWithoutTheKey(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/query": golden(t, 401, "health_401.json")})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	resp, _ := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: grafanaQueries()[:1]})
	r := resp.Responses["A"]
	if r.Error == nil || r.Status != backend.StatusUnauthorized || !strings.Contains(r.Error.Error(), "API key") {
		t.Fatalf("A: %v (status %d); want a 401 naming the API key", r.Error, r.Status)
	}
	assertNoKey(t, "error", r.Error.Error())
}

func TestQueryDataKeepsOtherQueriesWhenOneIsBroken(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/query": golden(t, 200, "query_response.json")})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	queries := grafanaQueries()
	queries[1].JSON = []byte(`[not an object`)
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: queries})
	if err != nil {
		t.Fatal(err)
	}
	if b := resp.Responses["B"]; b.Error == nil || b.Status != backend.StatusBadRequest || b.ErrorSource != backend.ErrorSourcePlugin {
		t.Errorf("B: %v; want a 400 plugin error for the broken query", b.Error)
	}
	if a := resp.Responses["A"]; a.Error != nil || len(a.Frames) != 1 {
		t.Errorf("A: %v; the other queries must still be answered", a.Error)
	}
	var sent struct{ Queries []map[string]any }
	_ = json.Unmarshal(srv.last(t).Body, &sent)
	if len(sent.Queries) != 2 {
		t.Errorf("sent %d queries, want the 2 readable ones", len(sent.Queries))
	}
}

func TestQueryDataNamesAQueryTheServerLeftUnanswered(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/query": func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"results":{}}`))
	}})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	resp, _ := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: grafanaQueries()[:1]})
	if r := resp.Responses["A"]; r.Error == nil || r.ErrorSource != backend.ErrorSourceDownstream || !strings.Contains(r.Error.Error(), "no answer for query A") {
		t.Errorf("A: %v; want a downstream error naming the query", r.Error)
	}
}

func TestQueryDataWithUnusableSettingsAnswersEachQuery(t *testing.T) {
	ds := newTestDatasource(t, instanceSettings("", testKey, `{}`))
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: grafanaQueries()})
	if err != nil {
		t.Fatal(err)
	}
	for ref, r := range resp.Responses {
		if r.Error == nil || !strings.Contains(r.Error.Error(), "url: is missing") {
			t.Errorf("%s: %v; want the settings error", ref, r.Error)
		}
	}
}
