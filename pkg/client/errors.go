package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// UnreachableError: no HTTP answer at all (refused, DNS, TLS, timeout, connection reset).
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("the Agent Insights server at %s is unreachable: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Timeout reports whether the request ran out of time rather than being refused.
func (e *UnreachableError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &t) && t.Timeout())
}

// HTTPError: the server answered with a status other than 2xx. Message is the server's own
// explanation (its JSON "error" field) when it gave one.
type HTTPError struct {
	URL     string
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	text := fmt.Sprintf("the Agent Insights server at %s answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		text += ": " + e.Message
	}
	return text
}

// BadResponseError: a 2xx answer the plugin cannot read (not JSON, or not the expected shape),
// which usually means the URL points at something that is not an Agent Insights server.
type BadResponseError struct {
	URL string
	Err error
}

func (e *BadResponseError) Error() string {
	return fmt.Sprintf("the answer of %s is not what an Agent Insights server sends (%v); check that the URL points at the Agent Insights server", e.URL, e.Err)
}

func (e *BadResponseError) Unwrap() error { return e.Err }
