package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Keys of the test server (pre-shared keys must be at least 16 characters).
const (
	readKey   = "host-test-read-key-0123456789abcdef"
	ingestKey = "host-test-ingest-key-0123456789abcdef"
)

// agentServer is the Agent Insights server (TypeScript) running as a child process.
type agentServer struct {
	root, dataFile string
	port           int
	url            string
	cmd            *exec.Cmd
	exited         chan error
	output         *lockedBuffer
}

// lockedBuffer collects a child's output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAgentServer starts `node --import tsx src/main.ts` in server/ on a free port with a DuckDB
// file in dir, and waits until it is ready.
func startAgentServer(t *testing.T, root, dir string) *agentServer {
	t.Helper()
	port := freePort(t)
	s := &agentServer{root: root, dataFile: filepath.Join(dir, "host-test.duckdb"), port: port, url: fmt.Sprintf("http://127.0.0.1:%d", port), output: &lockedBuffer{}}
	s.start(t)
	t.Cleanup(func() {
		start := time.Now()
		s.stop(t)
		t.Logf("%-40s %v", "stop server", time.Since(start).Round(time.Millisecond))
		if t.Failed() {
			t.Logf("server output:\n%s", s.output.String())
		}
	})
	return s
}

func (s *agentServer) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command("node", "--import", "tsx", "src/main.ts")
	cmd.Dir = filepath.Join(s.root, "server")
	cmd.Env = append(os.Environ(),
		"AGENT_INSIGHTS_HOST=127.0.0.1",
		fmt.Sprintf("AGENT_INSIGHTS_PORT=%d", s.port),
		"AGENT_INSIGHTS_DATA="+s.dataFile,
		"AGENT_INSIGHTS_TENANT=host-test",
		"AGENT_INSIGHTS_READ_KEY="+readKey,
		"AGENT_INSIGHTS_INGEST_KEY="+ingestKey,
		"AGENT_INSIGHTS_ADMIN_KEY=",
		"AGENT_INSIGHTS_DEV_MODE=false",
		"AGENT_INSIGHTS_LOG_LEVEL=warn",
	)
	cmd.Stdout, cmd.Stderr = s.output, s.output
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	s.cmd = cmd
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()

	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			t.Fatalf("the server exited while starting (%v):\n%s", err, s.output.String())
		default:
		}
		res, err := http.Get(s.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the server was not ready after 60 s:\n%s", s.output.String())
}

// stop ends the server as an orchestrator would (SIGTERM), killing it if it does not stop.
func (s *agentServer) stop(t *testing.T) {
	t.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Log("the server did not stop within 15 s of SIGTERM; killing it")
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// seeded is what tests/host/seed.ts reports.
type seeded struct {
	Anchor     int64    `json:"anchor"`
	Now        int64    `json:"now"`
	RunID      string   `json:"runId"`
	QueryTypes []string `json:"queryTypes"`
	Available  []string `json:"available"`
}

// seed sends the hand-checked dataset through the server's real receivers.
func (s *agentServer) seed(t *testing.T) seeded {
	t.Helper()
	cmd := exec.Command("node", "--import", "tsx", "../tests/host/seed.ts", s.url, ingestKey)
	cmd.Dir = filepath.Join(s.root, "server")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seeding the dataset: %v\n%s", err, stderr.String())
	}
	var got seeded
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("reading the seed script's output %q: %v", out, err)
	}
	return got
}

// postSpans sends OTLP/JSON spans with the ingest key, as an agent's exporter would.
func (s *agentServer) postSpans(t *testing.T, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/v1/traces", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ingestKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting spans: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("posting spans: status %d", res.StatusCode)
	}
}

// has reports whether the server serves a read API path (404 means not written yet).
func (s *agentServer) has(t *testing.T, path string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+readKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		// A stream that is open and sending is there (the timeout ends it).
		return !strings.Contains(err.Error(), "connection refused")
	}
	defer res.Body.Close()
	return res.StatusCode != http.StatusNotFound
}
