// Package plugin is the Grafana side of the bridge: one handler per Grafana call, each in its own
// file (handler_querydata.go, handler_checkhealth.go, handler_resources.go, handler_stream.go).
// The server does the work; these handlers translate between the SDK's types and its HTTP API.
package plugin

import (
	"context"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"

	"github.com/agentinsights/agentinsights/pkg/client"
	"github.com/agentinsights/agentinsights/pkg/models"
)

// PluginID is the plugin's id in src/plugin.json.
const PluginID = "agentinsights-agentinsights-datasource"

// Compile-time checks: Grafana answers "not implemented" for a handler the instance lacks.
var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ backend.StreamHandler         = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Reconnect delays of the live stream after the server went away (doubling up to the maximum).
const (
	defaultReconnectMin = 500 * time.Millisecond
	defaultReconnectMax = 10 * time.Second
)

// Datasource is one configured Agent Insights data source. Grafana's SDK creates one per data
// source and disposes it when its settings change, so every call sees current settings.
type Datasource struct {
	settings *models.Settings
	client   *client.Client
	// configErr is set when the settings are unusable: every call then answers with it, so that
	// Save & test and each panel show what to fix (an instance that failed to build could not).
	configErr error

	// lifetime ends on Dispose, which ends this instance's live streams; Grafana then runs them
	// again on the new instance, with the new settings.
	lifetime context.Context
	dispose  context.CancelFunc

	reconnectMin, reconnectMax time.Duration
}

// NewDatasource is the instance factory given to datasource.Manage.
func NewDatasource(ctx context.Context, source backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	lifetime, dispose := context.WithCancel(context.Background())
	ds := &Datasource{lifetime: lifetime, dispose: dispose, reconnectMin: defaultReconnectMin, reconnectMax: defaultReconnectMax}

	settings, err := models.LoadSettings(source)
	if err != nil {
		ds.configErr = err
		return ds, nil
	}
	ds.settings = settings

	opts, err := source.HTTPClientOptions(ctx)
	if err != nil {
		ds.configErr = &models.SettingsError{Field: "HTTP options", Message: settings.Redact(err.Error())}
		return ds, nil
	}
	c, err := client.New(opts, settings)
	if err != nil {
		ds.configErr = &models.SettingsError{Field: "HTTP options", Message: settings.Redact(err.Error())}
		return ds, nil
	}
	ds.client = c
	return ds, nil
}

// Dispose ends the instance's live streams; the SDK calls it once settings changed.
func (d *Datasource) Dispose() {
	d.dispose()
}
