package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// framesSent collects the frames RunStream sends to Grafana.
type framesSent struct {
	mu     sync.Mutex
	frames []*data.Frame
	added  chan struct{}
}

func newFramesSent() *framesSent { return &framesSent{added: make(chan struct{}, 100)} }

func (f *framesSent) Send(p *backend.StreamPacket) error {
	frame := &data.Frame{}
	if err := json.Unmarshal(p.Data, frame); err != nil {
		return err
	}
	f.mu.Lock()
	f.frames = append(f.frames, frame)
	f.mu.Unlock()
	f.added <- struct{}{}
	return nil
}

func (f *framesSent) waitFor(t *testing.T, n int) []*data.Frame {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		if len(f.frames) >= n {
			out := append([]*data.Frame(nil), f.frames...)
			f.mu.Unlock()
			return out
		}
		f.mu.Unlock()
		select {
		case <-f.added:
		case <-deadline:
			t.Fatalf("received %d frames, want %d", len(f.frames), n)
		}
	}
}

// snapshot is a runs frame as the server streams it: one line of the SDK's frame JSON.
func snapshot(t *testing.T, runIDs ...string) []byte {
	t.Helper()
	frame := data.NewFrame("runs", data.NewField("Run", nil, runIDs))
	b, err := json.Marshal(frame)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// sseHandler answers each connection with the next list of events, then closes it (as a server
// restart would); after the last list it holds the connection open until the client leaves.
func sseHandler(connections ...[][]byte) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(": connected\n\n"))
		if i < len(connections) {
			for _, ev := range connections[i] {
				_, _ = fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", ev)
				w.(http.Flusher).Flush()
			}
		}
		if i >= len(connections)-1 {
			<-r.Context().Done()
		}
	}
}

func runStream(ds *Datasource, ctx context.Context, path string, data []byte, sent *framesSent) chan error {
	done := make(chan error, 1)
	go func() {
		done <- ds.RunStream(ctx, &backend.RunStreamRequest{Path: path, Data: data}, backend.NewStreamSender(sent))
	}()
	return done
}

func TestRunStreamSendsEachSnapshotWithTheSubscriptionsFilters(t *testing.T) {
	first := compact(t, readGolden(t, "stream_runs_frame.json"))
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/stream/runs": sseHandler([][]byte{first, snapshot(t, "run-7")})})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	ctx, cancel := context.WithCancel(context.Background())
	sent := newFramesSent()
	done := runStream(ds, ctx, "runs/f00d", []byte(`{"filters":{"agent":["support-triage"]},"limit":50,"search":"c1","range":21600000}`), sent)

	frames := sent.waitFor(t, 2)
	if frames[0].Name != "runs" || frames[0].Rows() != 3 {
		t.Errorf("first snapshot: %q with %d rows, want the golden runs frame (3 rows)", frames[0].Name, frames[0].Rows())
	}
	if v, _ := frames[1].Fields[0].ConcreteAt(0); v != "run-7" {
		t.Errorf("second snapshot has %v, want run-7", v)
	}
	got := srv.last(t)
	q, _ := url.ParseQuery(got.RawQuery)
	if got.Authorization != "Bearer "+testKey || q.Get("filters") != `{"agent":["support-triage"]}` || q.Get("limit") != "50" || q.Get("search") != "c1" || q.Get("range") != "21600000" {
		t.Errorf("server got ?%s with %q; want the subscription's filters, limit, search and range and the key", got.RawQuery, got.Authorization)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunStream ended with %v when its last subscriber left; want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunStream did not end when its context ended")
	}
}

func TestRunStreamReconnectsAfterTheServerGoesAway(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/stream/runs": sseHandler(
		[][]byte{snapshot(t, "before-restart")}, // then the connection drops
		[][]byte{snapshot(t, "after-restart")},
	)})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := newFramesSent()
	runStream(ds, ctx, "runs", nil, sent)

	frames := sent.waitFor(t, 2)
	if v, _ := frames[1].Fields[0].ConcreteAt(0); v != "after-restart" {
		t.Errorf("after the reconnect got %v, want after-restart", v)
	}
}

func TestRunStreamKeepsTryingWhileTheServerIsDown(t *testing.T) {
	var mu sync.Mutex
	up := false
	handler := sseHandler([][]byte{snapshot(t, "back")})
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/stream/runs": func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := up
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		handler(w, r)
	}})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := newFramesSent()
	runStream(ds, ctx, "runs", nil, sent)
	time.Sleep(150 * time.Millisecond) // several refused attempts
	mu.Lock()
	up = true
	mu.Unlock()
	sent.waitFor(t, 1)
}

func TestDisposeEndsTheInstancesStreams(t *testing.T) {
	srv := newFakeServer(t, map[string]http.HandlerFunc{"/api/v1/stream/runs": sseHandler([][]byte{snapshot(t, "r")})})
	ds := newTestDatasource(t, instanceSettings(srv.URL, testKey, ""))
	sent := newFramesSent()
	done := runStream(ds, context.Background(), "runs", nil, sent)
	sent.waitFor(t, 1)

	ds.Dispose() // the SDK does this when the data source's settings changed
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunStream ended with %v; want nil so that Grafana runs it again on the new instance", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunStream outlived its disposed instance (it would keep the old settings)")
	}
}

func TestSubscribeStream(t *testing.T) {
	ds := newTestDatasource(t, instanceSettings("http://127.0.0.1:1", testKey, ""))
	for _, tc := range []struct {
		path string
		data string
		want backend.SubscribeStreamStatus
	}{
		{"runs", "", backend.SubscribeStreamStatusOK},
		{"runs/3f9a2c", `{"filters":{"agent":["a"]},"limit":100}`, backend.SubscribeStreamStatusOK},
		{"steps", "", backend.SubscribeStreamStatusNotFound},
		{"runs/a/b", "", backend.SubscribeStreamStatusNotFound},
	} {
		res, err := ds.SubscribeStream(context.Background(), &backend.SubscribeStreamRequest{Path: tc.path, Data: []byte(tc.data)})
		if err != nil || res.Status != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.path, res, err, tc.want)
		}
	}
	if _, err := ds.SubscribeStream(context.Background(), &backend.SubscribeStreamRequest{Path: "runs/x", Data: []byte(`{"filters":["agent"]}`)}); err == nil {
		t.Error("filters that are not an object were accepted")
	}
	pub, _ := ds.PublishStream(context.Background(), &backend.PublishStreamRequest{Path: "runs"})
	if pub.Status != backend.PublishStreamStatusPermissionDenied {
		t.Errorf("publishing to runs: %v, want permission denied", pub.Status)
	}
}
