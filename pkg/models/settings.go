// Package models loads and validates what a Grafana user configures for an Agent Insights data
// source: the server's URL and timeout (jsonData) and its API key (secureJsonData).
package models

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

const (
	// DefaultTimeout bounds one request to the server (a query, a health check, a variable lookup).
	DefaultTimeout = 30 * time.Second
	// MaxTimeout is the longest timeout accepted; alert rules must not hang on a dead server.
	MaxTimeout = 10 * time.Minute
)

// Settings of one data source instance, validated.
type Settings struct {
	// URL is the server's base address (scheme and host, optionally a path prefix), without a
	// trailing slash: API paths such as /api/v1/query are appended to it.
	URL *url.URL
	// APIKey is a key with the read scope, sent as "Authorization: Bearer <key>". Empty when the
	// server runs in dev mode. It never appears in logs, errors or frames (see Redact).
	APIKey string
	// Timeout bounds each request; the live stream has no overall timeout.
	Timeout time.Duration
}

// jsonData is the plain part of the configuration, as the config editor saves it.
type jsonData struct {
	URL     string          `json:"url"`
	Timeout json.RawMessage `json:"timeout"`
}

// SettingsError names the setting that is wrong and what to do about it.
type SettingsError struct {
	Field   string
	Message string
}

func (e *SettingsError) Error() string {
	return fmt.Sprintf("invalid data source settings: %s: %s", e.Field, e.Message)
}

// LoadSettings reads and validates the settings Grafana passes for a data source instance.
// The URL comes from jsonData.url, or from the data source's own URL field when that is empty.
func LoadSettings(source backend.DataSourceInstanceSettings) (*Settings, error) {
	var raw jsonData
	if len(strings.TrimSpace(string(source.JSONData))) > 0 && string(source.JSONData) != "null" {
		if err := json.Unmarshal(source.JSONData, &raw); err != nil {
			return nil, &SettingsError{Field: "jsonData", Message: fmt.Sprintf("is not a JSON object of settings (%v); save the data source again", err)}
		}
	}

	address := strings.TrimSpace(raw.URL)
	if address == "" {
		address = strings.TrimSpace(source.URL)
	}
	base, err := parseBaseURL(address)
	if err != nil {
		return nil, err
	}

	timeout, err := parseTimeout(raw.Timeout)
	if err != nil {
		return nil, err
	}

	return &Settings{
		URL:     base,
		APIKey:  strings.TrimSpace(source.DecryptedSecureJSONData["apiKey"]),
		Timeout: timeout,
	}, nil
}

func parseBaseURL(address string) (*url.URL, error) {
	const field = "url"
	if address == "" {
		return nil, &SettingsError{Field: field, Message: "is missing; enter the address of the Agent Insights server, for example http://agent-insights:4318"}
	}
	u, err := url.Parse(address)
	if err != nil {
		return nil, &SettingsError{Field: field, Message: fmt.Sprintf("%q is not a valid URL (%v); use the form http://host:4318", address, err)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &SettingsError{Field: field, Message: fmt.Sprintf("%q must start with http:// or https://", address)}
	}
	if u.Host == "" {
		return nil, &SettingsError{Field: field, Message: fmt.Sprintf("%q has no host; use the form http://host:4318", address)}
	}
	if u.User != nil {
		return nil, &SettingsError{Field: field, Message: "must not contain credentials; put the API key in the API key field, where Grafana keeps it encrypted"}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, &SettingsError{Field: field, Message: fmt.Sprintf("%q must not have a query or fragment; give only the server's address", address)}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// parseTimeout accepts seconds as a number or a numeric string (Grafana's own key, "timeout").
func parseTimeout(raw json.RawMessage) (time.Duration, error) {
	const field = "timeout"
	text := strings.TrimSpace(string(raw))
	if text == "" || text == "null" || text == `""` {
		return DefaultTimeout, nil
	}
	var seconds float64
	var asString string
	if err := json.Unmarshal(raw, &asString); err == nil {
		v, perr := strconv.ParseFloat(strings.TrimSpace(asString), 64)
		if perr != nil {
			return 0, &SettingsError{Field: field, Message: fmt.Sprintf("%q is not a number of seconds", asString)}
		}
		seconds = v
	} else if err := json.Unmarshal(raw, &seconds); err != nil {
		return 0, &SettingsError{Field: field, Message: fmt.Sprintf("%s is not a number of seconds", text)}
	}
	d := time.Duration(seconds * float64(time.Second))
	if seconds <= 0 || d > MaxTimeout {
		return 0, &SettingsError{Field: field, Message: fmt.Sprintf("must be more than 0 and at most %d seconds, got %v", int(MaxTimeout.Seconds()), seconds)}
	}
	return d, nil
}

// Redact removes the API key from a text (an error from a transport, a server's message) before
// it is logged or shown to a user.
func (s *Settings) Redact(text string) string {
	if s == nil || s.APIKey == "" {
		return text
	}
	return strings.ReplaceAll(text, s.APIKey, "[redacted]")
}
