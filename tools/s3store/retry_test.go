package s3store_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/s3store"
	"github.com/relkit/relkit/tools/s3store/s3test"
)

// lossyProxy forwards to srv and, for the first n successful requests
// that lose selects, lets the server apply the request but answers 500: the
// retry the client makes then meets its own write.
func lossyProxy(t *testing.T, srv *s3test.Server, n int32, lose func(*http.Request) bool) (endpoint string, lost *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	lost = new(atomic.Int32)
	errLost := errors.New("answer lost")
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode == 200 && lose(resp.Request) && lost.Add(1) <= n {
			return errLost
		}
		return nil
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`<Error><Code>InternalError</Code><Message>answer lost</Message></Error>`))
	}
	p := httptest.NewServer(rp)
	t.Cleanup(p.Close)
	return p.URL, lost
}

func storeAt(t *testing.T, endpoint string, partSize int64) *s3store.Store {
	t.Helper()
	st, err := s3store.New(context.Background(), s3store.Config{
		Bucket: bucket, Endpoint: endpoint, Region: s3test.Region, PathStyle: true,
		AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey, PartSize: partSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestWritesWhoseAnswerWasLost: a write that reached the server but whose
// answer was lost is retried by the SDK, refused by the condition, and then
// recognised as the caller's own: a lock is held, an object stored.
func TestWritesWhoseAnswerWasLost(t *testing.T) {
	srv := s3test.Start(t, []string{bucket})
	ctx := context.Background()

	t.Run("lock", func(t *testing.T) {
		endpoint, lost := lossyProxy(t, srv, 1, isPut)
		st := storeAt(t, endpoint, 0)
		l, err := st.Lock(ctx, "locks/a.lock", "test", time.Minute)
		if err != nil {
			t.Fatalf("lock after a lost answer: %v", err)
		}
		if lost.Load() < 1 {
			t.Fatal("no answer was lost")
		}
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := st.Head(ctx, "locks/a.lock"); ok {
			t.Error("lock object left after Unlock")
		}
	})
	t.Run("single part", func(t *testing.T) {
		endpoint, _ := lossyProxy(t, srv, 1, isPut)
		obj := object(t, "one/x.tar.gz", []byte("archive bytes"))
		if _, err := storeAt(t, endpoint, 0).Put(ctx, obj, nil); err != nil {
			t.Fatalf("put after a lost answer: %v", err)
		}
	})
	t.Run("multipart", func(t *testing.T) {
		// Lose the answer to one part and to the completion.
		endpoint, lost := lossyProxy(t, srv, 2, func(r *http.Request) bool {
			return r.URL.Query().Get("partNumber") == "2" || (r.Method == http.MethodPost && r.URL.Query().Has("uploadId"))
		})
		data := make([]byte, 11<<20)
		for i := range data {
			data[i] = byte(i % 251)
		}
		obj := object(t, "multi/x.tar.gz", data)
		if _, err := storeAt(t, endpoint, 5<<20).Put(ctx, obj, nil); err != nil {
			t.Fatalf("multipart put after lost answers: %v", err)
		}
		if lost.Load() < 2 {
			t.Fatalf("%d answers lost, want 2", lost.Load())
		}
		got, ok, err := storeAt(t, srv.Endpoint, 0).Get(ctx, obj.Key)
		if err != nil || !ok || len(got) != len(data) {
			t.Fatalf("read back: %d bytes, %v, %v", len(got), ok, err)
		}
	})
}

func isPut(r *http.Request) bool { return r.Method == http.MethodPut }

// TestPartAnsweredWithoutETag: an empty success for a part, which only
// something between client and server makes up, fails the upload with an
// error naming the part, rather than a completion refused as malformed.
func TestPartAnsweredWithoutETag(t *testing.T) {
	srv := s3test.Start(t, []string{bucket})
	u, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("partNumber") == "2" {
			return // 200, no headers, never forwarded
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	obj := object(t, "multi/x.tar.gz", make([]byte, 6<<20))
	ctx := context.Background()
	_, err = storeAt(t, p.URL, 5<<20).Put(ctx, obj, nil)
	if err == nil || !strings.Contains(err.Error(), "upload part 2 of s3://"+bucket+"/"+obj.Key+": the answer has no ETag") {
		t.Fatalf("Put = %v, want the part without ETag named", err)
	}
	if _, ok, err := storeAt(t, srv.Endpoint, 0).Head(ctx, obj.Key); ok || err != nil {
		t.Fatalf("object stored (%v) or head failed: %v", ok, err)
	}
}

// TestGetChecksTheStoredDigest: bytes that do not match the object's
// recorded sha256 are refused.
func TestGetChecksTheStoredDigest(t *testing.T) {
	srv := s3test.Start(t, []string{bucket})
	ctx := context.Background()
	st := storeAt(t, srv.Endpoint, 0)
	obj := object(t, "k/file", []byte("the bytes"))
	obj.SHA256 = "0000000000000000000000000000000000000000000000000000000000000000"
	// The server checks the sent checksum; store a mismatching metadata
	// digest by writing directly.
	c := srv.Client(t)
	in := putInput("k/file", "the bytes")
	in.Metadata = map[string]string{s3store.MetaSHA256: obj.SHA256}
	if _, err := c.PutObject(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Get(ctx, "k/file"); err == nil {
		t.Fatal("Get returned bytes that do not match the recorded sha256")
	}
	keys, err := st.List(ctx, "k/")
	if err != nil || len(keys) != 1 || keys[0] != "k/file" {
		t.Fatalf("List: %v, %v", keys, err)
	}
}
