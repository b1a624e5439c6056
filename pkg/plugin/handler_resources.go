package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// dimensionPattern keeps resource paths to one plain path segment (no "..", no escapes).
var dimensionPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// CallResource serves the frontend's variable and ad hoc filter lookups by proxying them to the
// server with their query string (time range and filters):
//
//	GET values              -> GET /api/v1/values              ({keys: [{key, label}]})
//	GET values/<dimension>  -> GET /api/v1/values/<dimension>  ({values: [...]})
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	path := strings.Trim(req.Path, "/")
	var target string
	switch {
	case path == "values":
		target = "/api/v1/values"
	case strings.HasPrefix(path, "values/") && dimensionPattern.MatchString(strings.TrimPrefix(path, "values/")):
		target = "/api/v1/values/" + strings.TrimPrefix(path, "values/")
	default:
		return sendJSON(sender, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("unknown resource %q; this data source serves values and values/<dimension>", req.Path)})
	}
	if req.Method != http.MethodGet && req.Method != "" {
		return sendJSON(sender, http.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("%s %s is not allowed; use GET", req.Method, req.Path)})
	}
	if d.configErr != nil {
		return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": d.configErr.Error()})
	}

	res, err := d.client.Get(ctx, target, rawQuery(req.URL))
	if err != nil {
		log.DefaultLogger.FromContext(ctx).Warn("Agent Insights resource request failed", "path", target, "error", err.Error())
		return sendJSON(sender, http.StatusBadGateway, map[string]string{"error": err.Error()})
	}
	contentType := res.ContentType
	if contentType == "" {
		contentType = "application/json"
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  res.Status,
		Headers: map[string][]string{"Content-Type": {contentType}},
		Body:    res.Body,
	})
}

// rawQuery is the query string of the forwarded URL ("values/agent?from=...&to=...").
func rawQuery(forwarded string) string {
	u, err := url.Parse(forwarded)
	if err != nil {
		if _, q, ok := strings.Cut(forwarded, "?"); ok {
			return q
		}
		return ""
	}
	return u.RawQuery
}

func sendJSON(sender backend.CallResourceResponseSender, status int, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    b,
	})
}
