package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/agentinsights/agentinsights/pkg/client"
)

// CheckHealth answers Grafana's "Save & test" from the server's health endpoint: whether the
// server is reachable, whether the key is valid and may read, its scopes, the server's version.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if d.configErr != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: d.configErr.Error()}, nil
	}
	h, err := d.client.Health(ctx)
	if err != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: d.healthErrorMessage(err)}, nil
	}

	details, _ := json.Marshal(map[string]any{
		"version": h.Version, "tenant": h.Tenant, "scopes": h.Scopes, "storage": h.Storage, "devMode": h.DevMode,
	})
	scopes := "none"
	if len(h.Scopes) > 0 {
		scopes = strings.Join(h.Scopes, ", ")
	}
	server := fmt.Sprintf("Agent Insights server %s at %s", h.Version, d.client.BaseURL())
	key := fmt.Sprintf("API key valid for tenant %q, scopes: %s", h.Tenant, scopes)
	if h.DevMode {
		key = fmt.Sprintf("server in dev mode (no key needed; tenant %q, scopes: %s)", h.Tenant, scopes)
	}

	result := &backend.CheckHealthResult{JSONDetails: details}
	switch {
	case !slices.Contains(h.Scopes, "read"):
		result.Status = backend.HealthStatusError
		result.Message = fmt.Sprintf("Reached the %s, but the API key lacks the read scope (scopes: %s). Use a key created with the read scope.", server, scopes)
	case h.Status != "ok" || (h.Storage.Status != "" && h.Storage.Status != "ok"):
		result.Status = backend.HealthStatusError
		result.Message = fmt.Sprintf("Reached the %s (%s), but its storage (%s) is not healthy: %s.", server, key, h.Storage.Engine, h.Storage.Status)
	default:
		result.Status = backend.HealthStatusOk
		result.Message = fmt.Sprintf("Connected to the %s. %s. Storage: %s, %s.", server, key, h.Storage.Engine, h.Storage.Status)
	}
	return result, nil
}

func (d *Datasource) healthErrorMessage(err error) string {
	var unreachable *client.UnreachableError
	var httpErr *client.HTTPError
	switch {
	case errors.As(err, &unreachable):
		return fmt.Sprintf("Cannot reach the Agent Insights server at %s: %v. Check the URL, that the server is running, and that Grafana's network can reach it.",
			d.client.BaseURL(), unreachable.Err)
	case errors.As(err, &httpErr) && httpErr.Status == 401:
		if d.settings.APIKey == "" {
			return fmt.Sprintf("The Agent Insights server at %s is reachable but requires an API key (%s). Enter a key with the read scope.", d.client.BaseURL(), httpErr.Message)
		}
		return fmt.Sprintf("The Agent Insights server at %s is reachable but rejected the API key (%s). Enter a valid key with the read scope.", d.client.BaseURL(), httpErr.Message)
	case errors.As(err, &httpErr) && httpErr.Status == 403:
		return fmt.Sprintf("The Agent Insights server at %s is reachable and the API key is valid, but it may not read (%s). Use a key with the read scope.", d.client.BaseURL(), httpErr.Message)
	case errors.As(err, &httpErr) && httpErr.Status == 404:
		return fmt.Sprintf("The server at %s has no /api/v1/health endpoint (404): check that the URL points at the Agent Insights server.", d.client.BaseURL())
	default:
		return err.Error()
	}
}
