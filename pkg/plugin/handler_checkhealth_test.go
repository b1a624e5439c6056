package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestCheckHealth(t *testing.T) {
	down := newFakeServer(t, nil)
	down.Close()
	degraded := []byte(`{"status":"degraded","version":"0.1.0","storage":{"engine":"duckdb","status":"unreachable: database is locked"},"tenant":"acme","scopes":["read"],"devMode":false}`)

	for name, tc := range map[string]struct {
		url    string
		key    string
		status backend.HealthStatus
		says   []string
	}{
		"reachable, key valid": {
			newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/health": golden(t, 200, "health_ok.json")}).URL, testKey,
			backend.HealthStatusOk, []string{"Connected", "0.1.0", `tenant "default"`, "scopes: read", "duckdb"},
		},
		"key rejected": {
			newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/health": golden(t, 401, "health_401.json")}).URL, testKey,
			backend.HealthStatusError, []string{"reachable", "rejected the API key", "read scope"},
		},
		"no key configured": {
			newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/health": golden(t, 401, "health_401.json")}).URL, "",
			backend.HealthStatusError, []string{"requires an API key", "missing Authorization header"},
		},
		"key lacks the read scope": {
			newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/health": golden(t, 403, "health_403.json")}).URL, testKey,
			backend.HealthStatusError, []string{"API key is valid", "read scope", "it has: ingest"},
		},
		"unreachable": {
			down.URL, testKey,
			backend.HealthStatusError, []string{"Cannot reach", down.URL, "connection refused"},
		},
		"storage down": {
			newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/health": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(degraded) }}).URL, testKey,
			backend.HealthStatusError, []string{"storage (duckdb) is not healthy", "database is locked"},
		},
		"not an Agent Insights server": {
			newFakeServer(t, map[string]http.HandlerFunc{}).URL, testKey,
			backend.HealthStatusError, []string{"no /api/v1/health endpoint"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			ds := newTestDatasource(t, instanceSettings(tc.url, tc.key, ""))
			res, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status {
				t.Errorf("status %v, want %v (%s)", res.Status, tc.status, res.Message)
			}
			for _, s := range tc.says {
				if !strings.Contains(res.Message, s) {
					t.Errorf("message %q does not say %q", res.Message, s)
				}
			}
			assertNoKey(t, "message", res.Message)
			assertNoKey(t, "details", string(res.JSONDetails))
		})
	}
}

func TestCheckHealthDetailsCarryVersionAndScopes(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/health": golden(t, 200, "health_ok.json")})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	res, _ := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	var details struct {
		Version string
		Scopes  []string
	}
	if err := json.Unmarshal(res.JSONDetails, &details); err != nil || details.Version != "0.1.0" || len(details.Scopes) != 1 {
		t.Errorf("details %s (%v); want version and scopes", res.JSONDetails, err)
	}
	if got := srv.last(t); got.Path != "/api/v1/health" || got.Authorization != "Bearer "+testKey {
		t.Errorf("asked %s with %q; want /api/v1/health with the key as Bearer", got.Path, got.Authorization)
	}
}

func TestCheckHealthExplainsUnusableSettings(t *testing.T) {
	for name, tc := range map[string]struct{ jsonData, says string }{
		"no URL":        {`{}`, "url: is missing"},
		"not http":      {`{"url":"ftp://host"}`, "must start with http:// or https://"},
		"credentials":   {`{"url":"http://user:pw@host"}`, "must not contain credentials"},
		"bad timeout":   {`{"url":"http://host","timeout":"soon"}`, `timeout: "soon" is not a number of seconds`},
		"not an object": {`[1]`, "jsonData: is not a JSON object"},
	} {
		t.Run(name, func(t *testing.T) {
			ds := newTestDatasource(t, instanceSettings("", testKey, tc.jsonData))
			res, _ := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, tc.says) {
				t.Errorf("%v %q; want an error saying %q", res.Status, res.Message, tc.says)
			}
		})
	}
}
