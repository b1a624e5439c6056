package plugin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// capturedResponse collects what CallResource sends back to Grafana.
type capturedResponse struct {
	responses []*backend.CallResourceResponse
}

func (c *capturedResponse) Send(r *backend.CallResourceResponse) error {
	c.responses = append(c.responses, r)
	return nil
}

func (c *capturedResponse) only(t *testing.T) *backend.CallResourceResponse {
	t.Helper()
	if len(c.responses) != 1 {
		t.Fatalf("%d responses, want 1", len(c.responses))
	}
	return c.responses[0]
}

func callResource(t *testing.T, ds *Datasource, method, path, url string) *backend.CallResourceResponse {
	t.Helper()
	var sent capturedResponse
	if err := ds.CallResource(context.Background(), &backend.CallResourceRequest{Method: method, Path: path, URL: url}, &sent); err != nil {
		t.Fatal(err)
	}
	return sent.only(t)
}

func TestCallResourceProxiesVariableValues(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{
		"/api/v1/values/agent": golden(t, 200, "values_agent.json"),
		"/api/v1/values":       golden(t, 200, "values_keys.json"),
	})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))

	const query = "from=1795651200000&to=1795737600000&environment=production&environment=staging"
	res := callResource(t, ds, http.MethodGet, "values/agent", "values/agent?"+query)
	if res.Status != 200 || !strings.Contains(res.Headers["Content-Type"][0], "application/json") {
		t.Errorf("status %d, content type %v; want the server's 200 JSON", res.Status, res.Headers["Content-Type"])
	}
	equalJSON(t, "values body", res.Body, readGolden(t, "values_agent.json"))
	got := srv.last(t)
	if got.Path != "/api/v1/values/agent" || got.RawQuery != query || got.Authorization != "Bearer "+testKey {
		t.Errorf("server got %s?%s with %q; want /api/v1/values/agent?%s with the key as Bearer", got.Path, got.RawQuery, got.Authorization, query)
	}

	res = callResource(t, ds, http.MethodGet, "values", "values")
	equalJSON(t, "keys body", res.Body, readGolden(t, "values_keys.json"))
	if got := srv.last(t); got.Path != "/api/v1/values" || got.RawQuery != "" {
		t.Errorf("server got %s?%s; want /api/v1/values", got.Path, got.RawQuery)
	}
}

func TestCallResourcePassesServerErrorsThrough(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/values/colour": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"dimension: unknown value \"colour\""}`))
	}})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	res := callResource(t, ds, http.MethodGet, "values/colour", "values/colour")
	if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "unknown value") {
		t.Errorf("status %d %s; want the server's 400 and message", res.Status, res.Body)
	}
}

func TestCallResourceRefusesOtherPathsAndMethods(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "admin/keys", http.StatusNotFound},
		{http.MethodGet, "values/../admin/keys", http.StatusNotFound},
		{http.MethodGet, "values/agent/extra", http.StatusNotFound},
		{http.MethodPost, "values/agent", http.StatusMethodNotAllowed},
	} {
		if res := callResource(t, ds, tc.method, tc.path, tc.path); res.Status != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, res.Status, tc.status)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.requests) != 0 {
		t.Errorf("refused calls reached the server: %+v", srv.requests)
	}
}

func TestCallResourceWhenTheServerIsDown(t *testing.T) {
	srv := newFakeServer(t, nil)
	srv.Close()
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	res := callResource(t, ds, http.MethodGet, "values/agent", "values/agent")
	if res.Status != http.StatusBadGateway || !strings.Contains(string(res.Body), "unreachable") {
		t.Errorf("status %d %s; want 502 saying the server is unreachable", res.Status, res.Body)
	}
	assertNoKey(t, "body", string(res.Body))
}
