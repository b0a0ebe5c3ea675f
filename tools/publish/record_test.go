package publish_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/publish"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/registryapi"
)

// registry answers the ingest endpoint with the given status codes in
// turn, then 200, and counts the requests.
func registry(t *testing.T, codes ...int) (*registryapi.Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if n <= len(codes) {
			http.Error(w, `{"error":"status `+http.StatusText(codes[n-1])+`"}`, codes[n-1])
			return
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return &registryapi.Client{BaseURL: srv.URL, Backoff: time.Millisecond,
		Token: func(context.Context) (string, error) { return "token", nil }}, &calls
}

// TestPublishRecordsInTheRegistry covers the registry's answers as publish
// sees them: 5xx is retried, 409 is success, and a refusal fails the run
// after the release is public; a re-run then only records it.
func TestPublishRecordsInTheRegistry(t *testing.T) {
	ctx := context.Background()
	md := registryapi.Metadata{CommitSHA: strings.Repeat("ab", 20), WorkflowRunID: "1"}
	run := func(t *testing.T, e env, dir string, c *registryapi.Client) (*publish.Report, error) {
		t.Helper()
		o := e.options(t, dir)
		o.Signer, _ = newKeySigner(t)
		o.Registry, o.RegistryMeta = c, md
		return publish.Run(ctx, o)
	}

	t.Run("5xx then success", func(t *testing.T) {
		e := newEnv(t)
		c, calls := registry(t, 503, 502)
		rep, err := run(t, e, publishtest.Tree(t, org, repo, tag, e.base, "a", 0), c)
		if err != nil || rep.Registry == nil || rep.Registry.Code != 200 || calls.Load() != 3 {
			t.Fatalf("publish: %v, registry %+v after %d calls; want success on the third", err, rep.Registry, calls.Load())
		}
	})
	t.Run("409 is success", func(t *testing.T) {
		e := newEnv(t)
		c, _ := registry(t, 409)
		rep, err := run(t, e, publishtest.Tree(t, org, repo, tag, e.base, "a", 0), c)
		if err != nil || rep.Registry == nil || rep.Registry.Status != "already_exists" {
			t.Fatalf("publish: %v, registry %+v; want already_exists", err, rep.Registry)
		}
	})
	t.Run("401 fails, a re-run records", func(t *testing.T) {
		e := newEnv(t)
		dir := publishtest.Tree(t, org, repo, tag, e.base, "a", 0)
		c, calls := registry(t, 401)
		_, err := run(t, e, dir, c)
		var se *publish.StepError
		var he *registryapi.HTTPError
		if !errors.As(err, &se) || se.Step != "record" || !errors.As(err, &he) || he.Code != 401 || calls.Load() != 1 {
			t.Fatalf("publish: %v after %d calls; want one 401 at the record step", err, calls.Load())
		}
		rep, err := run(t, e, dir, c)
		if err != nil || !rep.AlreadyPublished || rep.Registry == nil || rep.Registry.Code != 200 {
			t.Fatalf("re-run: %v, %+v; want the release recorded without uploading", err, rep)
		}
	})
}
