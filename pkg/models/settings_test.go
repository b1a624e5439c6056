package models

import (
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestLoadSettings(t *testing.T) {
	s, err := LoadSettings(backend.DataSourceInstanceSettings{
		JSONData:                []byte(`{"url": " https://insights.example.com/agent-insights/ ", "timeout": 45}`),
		DecryptedSecureJSONData: map[string]string{"apiKey": "ai_read_secret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.URL.String() != "https://insights.example.com/agent-insights" || s.APIKey != "ai_read_secret" || s.Timeout != 45*time.Second {
		t.Errorf("got %s, key %q, timeout %v", s.URL, s.APIKey, s.Timeout)
	}
}

func TestLoadSettingsDefaultsAndFallbacks(t *testing.T) {
	// The data source's own URL field is used when jsonData has none; no key means dev mode.
	s, err := LoadSettings(backend.DataSourceInstanceSettings{URL: "http://agent-insights:4318"})
	if err != nil {
		t.Fatal(err)
	}
	if s.URL.String() != "http://agent-insights:4318" || s.APIKey != "" || s.Timeout != DefaultTimeout {
		t.Errorf("got %s, key %q, timeout %v", s.URL, s.APIKey, s.Timeout)
	}
	// Grafana's forms may save numbers as strings.
	s, err = LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"url":"http://h","timeout":"2.5"}`)})
	if err != nil || s.Timeout != 2500*time.Millisecond {
		t.Errorf("string timeout: %v, %v", s, err)
	}
}

func TestLoadSettingsErrorsNameTheFieldAndTheFix(t *testing.T) {
	for jsonData, want := range map[string]string{
		`{}`:                                  "url: is missing; enter the address",
		`{"url":"agent-insights:4318"}`:       "must start with http:// or https://",
		`{"url":"http://"}`:                   "has no host",
		`{"url":"http://u:p@h"}`:              "must not contain credentials",
		`{"url":"http://h?key=x"}`:            "must not have a query",
		`{"url":"http://h","timeout":0}`:      "timeout: must be more than 0",
		`{"url":"http://h","timeout":100000}`: "at most 600 seconds",
		`{"url":"http://h","timeout":true}`:   "timeout: true is not a number",
		`"just a string"`:                     "jsonData: is not a JSON object",
	} {
		_, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(jsonData)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", jsonData, err, want)
		}
	}
}

func TestRedact(t *testing.T) {
	s := &Settings{APIKey: "ai_read_secret"}
	if got := s.Redact("Bearer ai_read_secret was refused"); got != "Bearer [redacted] was refused" {
		t.Errorf("got %q", got)
	}
	if got := (&Settings{}).Redact("nothing to hide"); got != "nothing to hide" {
		t.Errorf("got %q", got)
	}
}
