package host

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// pluginHost launches a backend plugin executable the way Grafana's plugin manager does: a
// go-plugin client with Grafana's handshake (protocol version 2, the "grafana_plugin_type"
// magic cookie), gRPC only, and the v2 plugin set of the SDK's own gRPC client types.
type pluginHost struct {
	client      *goplugin.Client
	data        grpcplugin.DataClient
	diagnostics grpcplugin.DiagnosticsClient
	resource    grpcplugin.ResourceClient
	stream      grpcplugin.StreamClient
	logs        *lockedBuffer
}

// handshake is the one Grafana and the SDK agree on (grpcplugin exports its parts).
var handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  grpcplugin.ProtocolVersion,
	MagicCookieKey:   grpcplugin.MagicCookieKey,
	MagicCookieValue: grpcplugin.MagicCookieValue,
}

// pluginSet is the services a v2 plugin may serve, by the names grpcplugin.Serve registers.
var pluginSet = map[int]goplugin.PluginSet{
	grpcplugin.ProtocolVersion: {
		"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
		"resource":    &grpcplugin.ResourceGRPCPlugin{},
		"data":        &grpcplugin.DataGRPCPlugin{},
		"stream":      &grpcplugin.StreamGRPCPlugin{},
	},
}

// buildPlugin compiles the backend as `npm run build:backend` names it: gpx_<name>_<os>_<arch>.
func buildPlugin(t *testing.T, root, dir string) string {
	t.Helper()
	exe := filepath.Join(dir, fmt.Sprintf("gpx_agentinsights_%s_%s", runtime.GOOS, runtime.GOARCH))
	cmd := exec.Command("go", "build", "-o", exe, "./pkg")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./pkg: %v\n%s", err, out)
	}
	return exe
}

// startPlugin runs the executable and dispenses the four services over gRPC.
func startPlugin(t *testing.T, exe string) *pluginHost {
	t.Helper()
	logs := &lockedBuffer{}
	cmd := exec.Command(exe)
	// Grafana starts plugins without its own environment, with a few GF_ variables.
	cmd.Env = []string{"GF_VERSION=13.0.0", "GF_EDITION=oss", "GF_PLUGIN_VERSION=host-test"}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: pluginSet,
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     20 * time.Second,
		// The plugin's log lines (hclog JSON on its stderr) arrive here.
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: logs, Level: hclog.Trace}),
	})
	t.Cleanup(func() {
		start := time.Now()
		client.Kill()
		t.Logf("%-40s %v", "stop plugin", time.Since(start).Round(time.Millisecond))
		if t.Failed() || os.Getenv("HOST_TEST_PLUGIN_LOGS") != "" {
			t.Logf("plugin logs:\n%s", logs.String())
		}
	})
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("go-plugin handshake with %s: %v\n%s", exe, err, logs.String())
	}
	if v := client.NegotiatedVersion(); v != grpcplugin.ProtocolVersion {
		t.Fatalf("negotiated plugin protocol %d, want %d", v, grpcplugin.ProtocolVersion)
	}
	if client.Protocol() != goplugin.ProtocolGRPC {
		t.Fatalf("protocol %s, want grpc", client.Protocol())
	}
	h := &pluginHost{client: client, logs: logs}
	dispense := func(name string) any {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("the plugin does not serve %q: %v", name, err)
		}
		return raw
	}
	h.data = dispense("data").(grpcplugin.DataClient)
	h.diagnostics = dispense("diagnostics").(grpcplugin.DiagnosticsClient)
	h.resource = dispense("resource").(grpcplugin.ResourceClient)
	h.stream = dispense("stream").(grpcplugin.StreamClient)
	return h
}
