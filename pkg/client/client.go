// Package client talks to the Agent Insights server's read API over HTTP. It knows paths, the
// bearer key and how errors look; it holds no query logic (the server answers in Grafana's shapes).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"

	"github.com/agentinsights/agentinsights/pkg/models"
)

// maxAnswerBytes bounds a query answer read into memory.
const maxAnswerBytes = 256 << 20

// Client for one data source instance.
type Client struct {
	settings *models.Settings
	http     *http.Client
	// stream has no overall timeout: a live stream stays open for as long as someone watches.
	stream *http.Client
}

// New builds the clients from Grafana's HTTP client options (proxy, TLS, headers follow the data
// source's settings) with the validated timeout.
func New(opts httpclient.Options, settings *models.Settings) (*Client, error) {
	requestOpts := withTimeout(opts, settings.Timeout)
	streamOpts := withTimeout(opts, 0)
	hc, err := httpclient.New(requestOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the HTTP client: %w", err)
	}
	sc, err := httpclient.New(streamOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the HTTP client for the live stream: %w", err)
	}
	return &Client{settings: settings, http: hc, stream: sc}, nil
}

// withTimeout copies opts with a request timeout (0: none), keeping Grafana's other timeouts.
func withTimeout(opts httpclient.Options, timeout time.Duration) httpclient.Options {
	t := httpclient.DefaultTimeoutOptions
	if opts.Timeouts != nil {
		t = *opts.Timeouts
	}
	t.Timeout = timeout
	opts.Timeouts = &t
	return opts
}

// BaseURL is the server's address as configured (no credentials in it, by validation).
func (c *Client) BaseURL() string { return c.settings.URL.String() }

func (c *Client) endpoint(path string, query string) string {
	u := *c.settings.URL
	u.Path = c.settings.URL.Path + path
	u.RawQuery = query
	return u.String()
}

func (c *Client) newRequest(ctx context.Context, method, path, query string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, query), body)
	if err != nil {
		return nil, fmt.Errorf("building the request to %s: %s", path, c.settings.Redact(err.Error()))
	}
	if c.settings.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.settings.APIKey)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// do sends a request; a transport failure becomes an UnreachableError without the request URL's
// method prefix, and with the key removed should any layer have echoed it.
func (c *Client) do(hc *http.Client, req *http.Request) (*http.Response, error) {
	res, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &UnreachableError{URL: c.BaseURL(), Err: errors.New(c.settings.Redact(err.Error()))}
	}
	return res, nil
}

// readError turns a non-2xx answer into an HTTPError with the server's message.
func (c *Client) readError(res *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	msg := strings.TrimSpace(string(body))
	var parsed struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &parsed) == nil {
		if parsed.Error != "" {
			msg = parsed.Error
		} else if parsed.Message != "" {
			msg = parsed.Message
		}
	}
	if len(msg) > 500 {
		msg = msg[:500] + "..."
	}
	return &HTTPError{URL: c.BaseURL(), Status: res.StatusCode, Message: c.settings.Redact(msg)}
}

// QueryRequest is the body of POST /api/v1/query: one entry per Grafana query, each the query
// model's fields plus its refId, timeRange {from, to} (epoch ms), intervalMs and maxDataPoints.
type QueryRequest struct {
	Queries []json.RawMessage `json:"queries"`
}

// Query runs the queries on the server. The answer has the JSON shape of
// backend.QueryDataResponse, per-query errors included, and is returned as the SDK reads it.
func (c *Client) Query(ctx context.Context, body QueryRequest) (*backend.QueryDataResponse, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encoding the queries: %w", err)
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/query", "", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.do(c.http, req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return nil, c.readError(res)
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes))
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL(), Err: errors.New(c.settings.Redact(err.Error()))}
	}
	answer := backend.NewQueryDataResponse()
	if err := json.Unmarshal(raw, answer); err != nil {
		return nil, &BadResponseError{URL: c.BaseURL(), Err: errors.New(c.settings.Redact(err.Error()))}
	}
	return answer, nil
}

// Health is the answer of GET /api/v1/health.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
	Storage struct {
		Engine string `json:"engine"`
		Status string `json:"status"`
	} `json:"storage"`
	Tenant  string   `json:"tenant"`
	Scopes  []string `json:"scopes"`
	DevMode bool     `json:"devMode"`
}

// Health asks the server whether it, its storage and the key are fine.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/api/v1/health", "", nil)
	if err != nil {
		return nil, err
	}
	res, err := c.do(c.http, req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return nil, c.readError(res)
	}
	var h Health
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&h); err != nil {
		return nil, &BadResponseError{URL: c.BaseURL(), Err: err}
	}
	if h.Version == "" && h.Status == "" {
		return nil, &BadResponseError{URL: c.BaseURL(), Err: errors.New("the health answer has no status and no version")}
	}
	return &h, nil
}

// Response is a server answer passed through as is (status, content type, body).
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Get fetches an API path with a raw query string and returns the answer whatever its status.
func (c *Client) Get(ctx context.Context, path, rawQuery string) (*Response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, rawQuery, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.do(c.http, req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes))
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL(), Err: errors.New(c.settings.Redact(err.Error()))}
	}
	return &Response{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Body: c.redactBytes(body)}, nil
}

func (c *Client) redactBytes(b []byte) []byte {
	if c.settings.APIKey == "" {
		return b
	}
	return bytes.ReplaceAll(b, []byte(c.settings.APIKey), []byte("[redacted]"))
}

// Stream opens a server-sent events stream; the caller reads it with Next and closes it.
func (c *Client) Stream(ctx context.Context, path string, query url.Values) (*EventStream, error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	res, err := c.do(c.stream, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		defer res.Body.Close()
		return nil, c.readError(res)
	}
	return NewEventStream(res.Body), nil
}
