package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var failure = Failure{
	Org: "ConductorOne", Repo: "baton-foo", Tag: "v1.2.3", Workflow: "baton-connector-release",
	RunID: "42", RunURL: "https://github.com/ConductorOne/baton-foo/actions/runs/42",
	Messages: []string{"upload: s3://b/releases/ConductorOne/baton-foo/v1.2.3/x.zip already exists with different content"},
}

func TestDatadogEvent(t *testing.T) {
	var got Event
	var key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/events" {
			http.NotFound(w, r)
			return
		}
		key = r.Header.Get("DD-API-KEY")
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(202)
	}))
	defer srv.Close()
	if err := Send(context.Background(), failure, &Datadog{BaseURL: srv.URL, APIKey: "k"}); err != nil {
		t.Fatal(err)
	}
	if key != "k" || got.Title != "Baton Connector Release Failed" || got.AlertType != "error" || got.Host != "ConductorOne" {
		t.Errorf("event: key %q, %+v", key, got)
	}
	if !strings.HasPrefix(got.Text, "%%%\n## `baton-foo`:`v1.2.3` Release Failed\n\n[View Workflow Run]("+failure.RunURL+")") {
		t.Errorf("text does not start with the heading and run link:\n%s", got.Text)
	}
	if !strings.Contains(got.Text, failure.Messages[0]) {
		t.Errorf("text lacks the failure message:\n%s", got.Text)
	}
	want := []string{"github_repository:ConductorOne/baton-foo", "github_release_tag:v1.2.3", "github_workflow:baton-connector-release"}
	if strings.Join(got.Tags, ",") != strings.Join(want, ",") {
		t.Errorf("tags %v, want %v", got.Tags, want)
	}
}

func TestMessagesKeepTheEnd(t *testing.T) {
	f := failure
	f.Messages = []string{strings.Repeat("a", 5000), "last line"}
	ev := NewEvent(f)
	if !strings.Contains(ev.Text, "last line") || strings.Count(ev.Text, "a") > MaxMessages+100 {
		t.Errorf("messages not trimmed to their end (%d characters)", len(ev.Text))
	}
}

func TestWebhookAndFailuresDoNotBlock(t *testing.T) {
	var got WebhookBody
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer hook.Close()
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer stall.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Send(ctx, failure, &Webhook{URL: hook.URL}, &Datadog{BaseURL: stall.URL, APIKey: "k", HTTP: &http.Client{Timeout: 100 * time.Millisecond}}, &Datadog{})
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Send blocked for %s", time.Since(start))
	}
	if err == nil || !strings.Contains(err.Error(), "datadog") {
		t.Errorf("want the stalled and unconfigured Datadog targets reported, got %v", err)
	}
	if got.Event != "release_failed" || got.Tag != "v1.2.3" || len(got.Messages) != 1 {
		t.Errorf("webhook body: %+v", got)
	}
}
