package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Live runs: Grafana Live channel ds/<uid>/runs (every run) or ds/<uid>/runs/<hash>, where the
// frontend picks the hash for its filters and passes them as the subscription's data:
// {"filters": {...}, "limit": 100, "search": "...", "range": <ms>} (all optional), handed to the
// server's GET /api/v1/stream/runs as query parameters. The server sends complete snapshots of the
// runs table; each is sent on as one frame, which the panel shows in place of the last one.
var runsPath = regexp.MustCompile(`^runs(/[A-Za-z0-9_\-=.]+)?$`)

// streamParams is the subscription data of a runs channel.
type streamParams struct {
	Filters json.RawMessage `json:"filters"`
	Limit   json.RawMessage `json:"limit"`
	Range   json.RawMessage `json:"range"`
	Search  json.RawMessage `json:"search"`
}

func parseStreamParams(raw json.RawMessage) (url.Values, error) {
	q := url.Values{}
	if text := bytes.TrimSpace(raw); len(text) == 0 || string(text) == "null" {
		return q, nil
	}
	var p streamParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("the runs stream's data must be a JSON object {filters, limit, search, range}: %v", err)
	}
	if f := bytes.TrimSpace(p.Filters); len(f) > 0 && string(f) != "null" {
		if f[0] != '{' {
			return nil, errors.New("the runs stream's filters must be an object of dimension to values")
		}
		q.Set("filters", string(f))
	}
	for key, v := range map[string]json.RawMessage{"limit": p.Limit, "range": p.Range, "search": p.Search} {
		if s := scalar(v); s != "" {
			q.Set(key, s)
		}
	}
	return q, nil
}

// scalar is a JSON string or number as query parameter text ("" for null or absent).
func scalar(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return ""
}

// SubscribeStream allows the runs channels and nothing else.
func (d *Datasource) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if !runsPath.MatchString(req.Path) {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	if _, err := parseStreamParams(req.Data); err != nil {
		return nil, err
	}
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// PublishStream: the runs channels are read-only.
func (d *Datasource) PublishStream(_ context.Context, _ *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream follows the server's live runs stream and sends each snapshot to Grafana. When the
// server goes away (a restart, a deploy) it reconnects with growing delays; it ends when the last
// subscriber leaves (ctx) or the instance is disposed because its settings changed.
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	logger := log.DefaultLogger.FromContext(ctx)
	if d.configErr != nil {
		return d.configErr
	}
	if !runsPath.MatchString(req.Path) {
		return fmt.Errorf("unknown stream path %q", req.Path)
	}
	params, err := parseStreamParams(req.Data)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(d.lifetime, cancel)
	defer stop()

	delay := d.reconnectMin
	for {
		sent, err := d.followRuns(ctx, params, sender)
		if ctx.Err() != nil {
			return nil
		}
		if sent > 0 {
			delay = d.reconnectMin
		}
		logger.Warn("Agent Insights runs stream interrupted; reconnecting", "path", req.Path, "snapshots", sent, "retryIn", delay.String(), "error", errText(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, d.reconnectMax)
	}
}

// followRuns reads one connection to the server's stream until it ends; it returns how many
// snapshots it sent and why the connection ended.
func (d *Datasource) followRuns(ctx context.Context, params url.Values, sender *backend.StreamSender) (int, error) {
	events, err := d.client.Stream(ctx, "/api/v1/stream/runs", params)
	if err != nil {
		return 0, err
	}
	// The request carries ctx: when it ends, the transport aborts the read in progress.
	defer events.Close()

	sent := 0
	for {
		ev, err := events.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the server closed the stream")
			}
			return sent, err
		}
		if ev.Name == "error" {
			log.DefaultLogger.FromContext(ctx).Warn("Agent Insights runs stream reported an error", "error", d.settings.Redact(string(ev.Data)))
			continue
		}
		frame := &data.Frame{}
		if err := json.Unmarshal(ev.Data, frame); err != nil {
			log.DefaultLogger.FromContext(ctx).Warn("Agent Insights runs stream sent an unreadable frame; skipped", "bytes", len(ev.Data), "error", err.Error())
			continue
		}
		if err := sender.SendFrame(frame, data.IncludeAll); err != nil {
			return sent, fmt.Errorf("sending a runs snapshot to Grafana: %w", err)
		}
		sent++
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
