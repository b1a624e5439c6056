// Command gpx_agentinsights is the Agent Insights data source's backend. Grafana starts it and
// talks to it over the plugin protocol (go-plugin handshake, then gRPC).
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/agentinsights/agentinsights/pkg/plugin"
)

func main() {
	// Manage creates one instance per data source and disposes it when its settings change.
	if err := datasource.Manage(plugin.PluginID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
