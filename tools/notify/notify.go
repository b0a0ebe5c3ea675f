// Package notify reports a failed release: a Datadog event shaped like the
// previous pipeline's alert, and a generic JSON webhook. Sending is best
// effort: each target gets a short timeout, and failures are returned for
// logging, never raised as the run's own error.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Failure describes a failed release run.
type Failure struct {
	Org, Repo, Tag string
	Workflow       string // e.g. baton-connector-release
	RunID          string
	RunURL         string // link to the run; first thing in the alert
	// Messages are "<step>: <message>" lines, most relevant last.
	Messages []string
}

// MaxMessages bounds the text of the messages: Datadog cuts event text at
// about 4000 characters, and the end of a log says most.
const MaxMessages = 3500

// Sender delivers a Failure.
type Sender interface {
	Send(ctx context.Context, f Failure) error
}

// Timeout bounds one delivery.
const Timeout = 10 * time.Second

// Send delivers f to every sender at once and waits at most Timeout; it
// returns the failures, joined, for the caller to log.
func Send(ctx context.Context, f Failure, senders ...Sender) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Timeout)
	defer cancel()
	errs := make(chan error, len(senders))
	for _, s := range senders {
		go func() { errs <- s.Send(ctx, f) }()
	}
	var all []error
	for range senders {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// Datadog posts an event to the Datadog events API.
type Datadog struct {
	// Site is the Datadog site, e.g. us3.datadoghq.com (the default).
	Site string
	// BaseURL replaces https://api.SITE (tests use a local server).
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// DefaultSite is the site of the previous pipeline's alerts.
const DefaultSite = "us3.datadoghq.com"

// Event is the Datadog request body.
type Event struct {
	Title     string   `json:"title"`
	Text      string   `json:"text"`
	AlertType string   `json:"alert_type"`
	Host      string   `json:"host,omitempty"`
	Tags      []string `json:"tags"`
}

// NewEvent renders f as a Datadog event: the run link first, then the
// messages in a code block trimmed to MaxMessages, then the details.
func NewEvent(f Failure) Event {
	msgs := strings.Join(f.Messages, "\n")
	if msgs == "" {
		msgs = "(no failure messages recorded)"
	}
	msgs = strings.ReplaceAll(msgs, "```", "'''")
	if len(msgs) > MaxMessages {
		msgs = "..." + msgs[len(msgs)-MaxMessages+3:]
	}
	full := f.Org + "/" + f.Repo
	var b strings.Builder
	b.WriteString("%%%\n")
	fmt.Fprintf(&b, "## `%s`:`%s` Release Failed\n\n", f.Repo, f.Tag)
	if f.RunURL != "" {
		fmt.Fprintf(&b, "[View Workflow Run](%s)\n\n", f.RunURL)
	}
	fmt.Fprintf(&b, "```\n%s\n```\n\n", msgs)
	fmt.Fprintf(&b, "- **Repository:** %s\n- **Release tag:** %s\n- **Workflow:** %s\n- **Run ID:** %s\n", full, f.Tag, f.Workflow, f.RunID)
	b.WriteString("%%%")
	return Event{
		Title:     "Baton Connector Release Failed",
		Text:      b.String(),
		AlertType: "error",
		Host:      f.Org,
		Tags:      []string{"github_repository:" + full, "github_release_tag:" + f.Tag, "github_workflow:" + f.Workflow},
	}
}

// Send implements Sender.
func (d *Datadog) Send(ctx context.Context, f Failure) error {
	if d.APIKey == "" {
		return errors.New("datadog: no API key; set DATADOG_API_KEY")
	}
	base := d.BaseURL
	if base == "" {
		site := d.Site
		if site == "" {
			site = DefaultSite
		}
		base = "https://api." + site
	}
	return post(ctx, d.HTTP, "datadog", strings.TrimSuffix(base, "/")+"/api/v1/events", NewEvent(f), map[string]string{"DD-API-KEY": d.APIKey})
}

// Webhook posts the Failure as JSON to a URL.
type Webhook struct {
	URL  string
	HTTP *http.Client
}

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	Event    string   `json:"event"` // "release_failed"
	Org      string   `json:"org"`
	Repo     string   `json:"repo"`
	Tag      string   `json:"tag"`
	Workflow string   `json:"workflow,omitempty"`
	RunID    string   `json:"runId,omitempty"`
	RunURL   string   `json:"runUrl,omitempty"`
	Messages []string `json:"messages"`
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, f Failure) error {
	msgs := f.Messages
	if msgs == nil {
		msgs = []string{}
	}
	body := WebhookBody{Event: "release_failed", Org: f.Org, Repo: f.Repo, Tag: f.Tag, Workflow: f.Workflow, RunID: f.RunID, RunURL: f.RunURL, Messages: msgs}
	return post(ctx, w.HTTP, "webhook", w.URL, body, nil)
}

func post(ctx context.Context, hc *http.Client, what, url string, body any, headers map[string]string) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: URL %q: %w", what, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: POST %s: HTTP %d: %s", what, url, resp.StatusCode, strings.TrimSpace(string(text)))
	}
	return nil
}
