package publish_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/publish"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/s3store"
	"github.com/relkit/relkit/tools/s3store/s3test"
	"github.com/relkit/relkit/tools/verify"
)

// faultyProxy forwards to an S3 server and breaks a fraction of requests
// in the three ways a flaky endpoint does: a 500 before the request reaches
// the server, a 500 after the server applied it (the answer is lost), and
// a stall that outlasts the client's timeout.
type faultyProxy struct {
	srv                 *httptest.Server
	mu                  sync.Mutex
	rng                 *rand.Rand
	rate                float64
	before, after, hang atomic.Int32
}

var errInjected = errors.New("injected fault")

func newFaultyProxy(t *testing.T, target string, rate float64, stall time.Duration) *faultyProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultyProxy{rng: rand.New(rand.NewPCG(1, 2)), rate: rate}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps the Host header SigV4 signed
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Header.Get("X-Test-Fault") == "after" {
			p.after.Add(1)
			return errInjected
		}
		return nil
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, errInjected) {
			internalError(w)
			return
		}
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p.pick() {
		case 0:
			p.before.Add(1)
			internalError(w)
			return
		case 1:
			r.Header.Set("X-Test-Fault", "after")
		case 2:
			// Take the whole request, so the client waits for an answer,
			// then give none: hang up once the client has given up, or
			// after stall. Returning here would send an empty 200, a
			// success no network makes up (an UploadPart without ETag).
			p.hang.Add(1)
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(stall):
			}
			panic(http.ErrAbortHandler)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// pick returns the fault for one request: 0, 1 or 2, or -1 for none.
func (p *faultyProxy) pick() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rng.Float64() >= p.rate {
		return -1
	}
	return p.rng.IntN(3)
}

func internalError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>`))
}

// TestPublishThroughAFlakyEndpoint publishes through a proxy that breaks a
// third of all requests. Publishing completes, and every object in the
// bucket has exactly the bytes of its file.
func TestPublishThroughAFlakyEndpoint(t *testing.T) {
	srv := s3test.Start(t, []string{bucket}, bucket)
	proxy := newFaultyProxy(t, srv.Endpoint, 0.3, 5*time.Second)
	store, err := s3store.New(context.Background(), s3store.Config{
		Bucket: bucket, Endpoint: proxy.srv.URL, Region: s3test.Region, PathStyle: true,
		AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey,
		PartSize: 5 << 20, RequestTimeout: 300 * time.Millisecond, Attempts: 12,
	})
	if err != nil {
		t.Fatal(err)
	}
	base := srv.Endpoint + "/" + bucket
	// Archives above the part size go up in parts.
	dir := publishtest.Tree(t, org, repo, tag, base, "archive", 6<<20)
	signer, v := newKeySigner(t)
	work := filepath.Join(t.TempDir(), "work")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := publish.Run(ctx, publish.Options{
		Dir: dir, Org: org, Repo: repo, Tag: tag, BaseURL: base, WorkDir: work,
		Store: store, Signer: signer, Jobs: 4,
	})
	if err != nil {
		t.Fatalf("publish through faults: %v (injected: %d before, %d after, %d stalls)", err, proxy.before.Load(), proxy.after.Load(), proxy.hang.Load())
	}
	t.Logf("injected %d 500s before the server, %d after it, %d stalls; %d objects", proxy.before.Load(), proxy.after.Load(), proxy.hang.Load(), len(rep.Uploaded)+len(rep.Skipped))
	if proxy.before.Load() == 0 || proxy.after.Load() == 0 || proxy.hang.Load() == 0 {
		t.Errorf("not every fault was injected: %d, %d, %d", proxy.before.Load(), proxy.after.Load(), proxy.hang.Load())
	}

	// Every object, read directly from the server, is its file's bytes.
	got := objects(t, srv.Client(t))
	d := "releases/" + org + "/" + repo + "/" + tag + "/"
	entries, _ := os.ReadDir(work)
	n := 0
	for _, e := range entries {
		sum, ok := got[d+e.Name()]
		if !ok {
			continue // staged but not published, e.g. provenance.intoto.json
		}
		n++
		want, _, err := checksum.File(filepath.Join(work, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if sum != want {
			t.Errorf("%s: sha256 %s in the bucket, the file has %s", e.Name(), sum, want)
		}
	}
	if n != len(got) || n != len(rep.Uploaded)+len(rep.Skipped) {
		t.Errorf("%d objects match files, %d in the bucket, %d reported", n, len(got), len(rep.Uploaded)+len(rep.Skipped))
	}
	vr, err := verify.Release(ctx, verify.Options{ManifestURL: rep.ManifestURL, Org: org, Repo: repo, Tag: tag, Verifier: v})
	if err != nil || !vr.OK() {
		var b strings.Builder
		if vr != nil {
			vr.WriteText(&b)
		}
		t.Errorf("verify: %v\n%s", err, b.String())
	}
}
