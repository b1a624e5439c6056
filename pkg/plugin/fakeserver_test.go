package plugin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// testKey is the API key the tests configure; no message or frame may contain it.
const testKey = "ai_read_0123456789abcdef-SECRET"

// fakeServer plays the Agent Insights server: it records what the bridge sends and answers
// with golden files from testdata/ (captured from the real server).
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	handlers map[string]http.HandlerFunc
}

type recorded struct {
	Method, Path, RawQuery, Authorization string
	Body                                  []byte
}

func newFakeServer(t *testing.T, handlers map[string]http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{handlers: handlers}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), body})
		f.mu.Unlock()
		h, ok := f.handlers[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not found"}`))
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) last(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("the server received no request")
	}
	return f.requests[len(f.requests)-1]
}

// golden serves a testdata file with a status.
func golden(t *testing.T, status int, name string) http.HandlerFunc {
	t.Helper()
	body := readGolden(t, name)
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// instanceSettings as Grafana passes them for a data source pointing at url.
func instanceSettings(url, key string, jsonData string) backend.DataSourceInstanceSettings {
	if jsonData == "" {
		jsonData = `{"url": "` + url + `"}`
	}
	secure := map[string]string{}
	if key != "" {
		secure["apiKey"] = key
	}
	return backend.DataSourceInstanceSettings{UID: "agent-insights", Name: "Agent Insights", Type: PluginID, JSONData: []byte(jsonData), DecryptedSecureJSONData: secure, Updated: time.Now()}
}

func newTestDatasource(t *testing.T, settings backend.DataSourceInstanceSettings) *Datasource {
	t.Helper()
	inst, err := NewDatasource(context.Background(), settings)
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*Datasource)
	ds.reconnectMin, ds.reconnectMax = 20*time.Millisecond, 100*time.Millisecond
	t.Cleanup(ds.Dispose)
	return ds
}

// assertNoKey fails when a text shown to users or logs contains the API key.
func assertNoKey(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, testKey) {
		t.Errorf("%s contains the API key: %s", what, text)
	}
}

// equalJSON compares two JSON documents by value.
func equalJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s (golden): %v", what, err)
	}
	gb, _ := json.MarshalIndent(g, "", "  ")
	wb, _ := json.MarshalIndent(w, "", "  ")
	if string(gb) != string(wb) {
		t.Errorf("%s differs from the golden file\n got: %s\nwant: %s", what, gb, wb)
	}
}
