package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/agentinsights/agentinsights/pkg/client"
)

// QueryData sends all queries in one request to the server's query API and returns its answer as
// it is: frames and per-query errors stay per query. When the request as a whole fails (the server
// is unreachable or fails), every query gets that error, marked as a downstream error.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	if d.configErr != nil {
		for _, q := range req.Queries {
			resp.Responses[q.RefID] = backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin, d.configErr.Error())
		}
		return resp, nil
	}

	body := client.QueryRequest{Queries: make([]json.RawMessage, 0, len(req.Queries))}
	sent := make([]string, 0, len(req.Queries))
	for _, q := range req.Queries {
		item, err := serverQuery(q)
		if err != nil {
			resp.Responses[q.RefID] = backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin, err.Error())
			continue
		}
		body.Queries = append(body.Queries, item)
		sent = append(sent, q.RefID)
	}
	if len(sent) == 0 {
		return resp, nil
	}

	answer, err := d.client.Query(ctx, body)
	if err != nil {
		failed := requestError(err)
		log.DefaultLogger.FromContext(ctx).Warn("Agent Insights query request failed", "queries", len(sent), "status", int(failed.Status), "error", failed.Error.Error())
		for _, refID := range sent {
			resp.Responses[refID] = failed
		}
		return resp, nil
	}
	for _, refID := range sent {
		r, ok := answer.Responses[refID]
		if !ok {
			r = backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream,
				fmt.Sprintf("the Agent Insights server returned no answer for query %s", refID))
		}
		resp.Responses[refID] = r
	}
	return resp, nil
}

// serverQuery is one entry of the server's request: the query's own JSON (the query model, as the
// editor or an alert rule saved it) with Grafana's per-query context set on top: refId, its own
// time range (epoch ms), interval and max data points. Everything else passes through.
func serverQuery(q backend.DataQuery) (json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if text := strings.TrimSpace(string(q.JSON)); text != "" && text != "null" {
		if err := json.Unmarshal(q.JSON, &fields); err != nil {
			return nil, fmt.Errorf("query %s is not a JSON object: %v", q.RefID, err)
		}
	}
	set := func(key string, v any) {
		b, _ := json.Marshal(v)
		fields[key] = b
	}
	set("refId", q.RefID)
	set("timeRange", map[string]int64{"from": q.TimeRange.From.UnixMilli(), "to": q.TimeRange.To.UnixMilli()})
	if ms := q.Interval.Milliseconds(); ms > 0 {
		set("intervalMs", ms)
	}
	if q.MaxDataPoints > 0 {
		set("maxDataPoints", q.MaxDataPoints)
	}
	if _, has := fields["queryType"]; !has && q.QueryType != "" {
		set("queryType", q.QueryType)
	}
	return json.Marshal(fields)
}

// requestError is the answer of every query when the request as a whole failed.
func requestError(err error) backend.DataResponse {
	var unreachable *client.UnreachableError
	var httpErr *client.HTTPError
	var bad *client.BadResponseError
	switch {
	case errors.As(err, &unreachable):
		status := backend.StatusBadGateway
		if unreachable.Timeout() {
			status = backend.StatusTimeout
		}
		return backend.ErrDataResponseWithSource(status, backend.ErrorSourceDownstream, err.Error())
	case errors.As(err, &httpErr):
		status := backend.Status(httpErr.Status)
		msg := err.Error()
		switch {
		case httpErr.Status >= 500:
			return backend.ErrDataResponseWithSource(status, backend.ErrorSourceDownstream, msg)
		case httpErr.Status == 401:
			msg += "; check the API key in the data source settings"
		case httpErr.Status == 403:
			msg += "; the API key needs the read scope"
		}
		return backend.ErrDataResponseWithSource(status, backend.ErrorSourceFromHTTPStatus(httpErr.Status), msg)
	case errors.As(err, &bad):
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	default:
		return backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourcePlugin, err.Error())
	}
}
