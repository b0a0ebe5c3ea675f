package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/s3store"
	"github.com/relkit/relkit/tools/s3store/s3test"
)

const bucket = "releases"

func newStore(t *testing.T, srv *s3test.Server, partSize int64) *s3store.Store {
	t.Helper()
	st, err := s3store.New(context.Background(), s3store.Config{
		Bucket: bucket, Endpoint: srv.Endpoint, Region: s3test.Region, PathStyle: true,
		AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey, PartSize: partSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func object(t *testing.T, key string, data []byte) s3store.Object {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(key))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return s3store.Object{Key: key, Path: p, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		ContentType: "application/gzip", CacheControl: "public,max-age=31536000,immutable"}
}

func publicGet(t *testing.T, srv *s3test.Server, key string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(srv.Endpoint + "/" + bucket + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestPutIsWriteOnceAndResumes(t *testing.T) {
	srv := s3test.Start(t, []string{bucket}, bucket)
	st := newStore(t, srv, 0)
	ctx := context.Background()
	obj := object(t, "releases/o/r/v1.0.0/r-v1.0.0-linux-amd64.tar.gz", []byte("archive bytes"))

	var sent atomic.Int64
	res, err := st.Put(ctx, obj, func(n int64) { sent.Add(n) })
	if err != nil || res != s3store.Uploaded {
		t.Fatalf("first put: %v, %v", res, err)
	}
	if sent.Load() != obj.Size {
		t.Errorf("progress reported %d bytes, want %d", sent.Load(), obj.Size)
	}
	resp, body := publicGet(t, srv, obj.Key)
	if resp.StatusCode != 200 || string(body) != "archive bytes" {
		t.Fatalf("anonymous GET: %s %q", resp.Status, body)
	}
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != obj.ContentType || cc != obj.CacheControl {
		t.Errorf("headers: Content-Type %q, Cache-Control %q", ct, cc)
	}

	// Same bytes again: a resumed run skips it.
	res, err = st.Put(ctx, obj, nil)
	if err != nil || res != s3store.Skipped {
		t.Fatalf("second put of the same bytes: %v, %v; want skipped", res, err)
	}

	// Other bytes under the same key: refused, naming the key; nothing changes.
	other := object(t, obj.Key, []byte("other bytes"))
	_, err = st.Put(ctx, other, nil)
	var ce *s3store.ConflictError
	if !errors.As(err, &ce) || ce.Key != obj.Key || !bytes.Contains([]byte(err.Error()), []byte(obj.Key)) {
		t.Fatalf("put of other bytes: %v; want a ConflictError naming %s", err, obj.Key)
	}
	if _, body := publicGet(t, srv, obj.Key); string(body) != "archive bytes" {
		t.Fatalf("object was overwritten: %q", body)
	}
}

func TestPutRefusesAnObjectWithoutMetadataIfDifferent(t *testing.T) {
	srv := s3test.Start(t, []string{bucket})
	st := newStore(t, srv, 0)
	ctx := context.Background()
	key := "releases/o/r/v1.0.0/foreign.txt"
	// An object written by another tool (no sha256 metadata).
	if err := os.MkdirAll(filepath.Dir(filepath.Join(srv.Dir, bucket, key)), 0o755); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	if _, err := c.PutObject(ctx, putInput(key, "foreign")); err != nil {
		t.Fatal(err)
	}
	if res, err := st.Put(ctx, object(t, key, []byte("foreign")), nil); err != nil || res != s3store.Skipped {
		t.Fatalf("same bytes without metadata: %v, %v; want skipped", res, err)
	}
	var ce *s3store.ConflictError
	if _, err := st.Put(ctx, object(t, key, []byte("mine")), nil); !errors.As(err, &ce) {
		t.Fatalf("different bytes without metadata: %v; want a ConflictError", err)
	}
}

func TestMultipartUpload(t *testing.T) {
	srv := s3test.Start(t, []string{bucket}, bucket)
	st := newStore(t, srv, 5<<20)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16+7) // 3 parts, the last short
	obj := object(t, "releases/o/r/v1.0.0/big.msi", data)
	var sent atomic.Int64
	if res, err := st.Put(ctx, obj, func(n int64) { sent.Add(n) }); err != nil || res != s3store.Uploaded {
		t.Fatalf("multipart put: %v, %v", res, err)
	}
	if sent.Load() != obj.Size {
		t.Errorf("progress reported %d bytes, want %d", sent.Load(), obj.Size)
	}
	_, body := publicGet(t, srv, obj.Key)
	if !bytes.Equal(body, data) {
		t.Fatalf("read back %d bytes, want %d identical", len(body), len(data))
	}
	if info, ok, err := st.Head(ctx, obj.Key); err != nil || !ok || info.SHA256 != obj.SHA256 {
		t.Fatalf("head: %+v %v %v; want sha256 metadata %s", info, ok, err, obj.SHA256)
	}
	if res, err := st.Put(ctx, obj, nil); err != nil || res != s3store.Skipped {
		t.Fatalf("multipart put again: %v, %v; want skipped", res, err)
	}
	big2 := append(bytes.Clone(data[:len(data)-1]), 'X')
	var ce *s3store.ConflictError
	if _, err := st.Put(ctx, object(t, obj.Key, big2), nil); !errors.As(err, &ce) {
		t.Fatalf("multipart put of other bytes: %v; want a ConflictError", err)
	}
}

func TestConcurrentPutsOfOneKeyStoreOneVersion(t *testing.T) {
	srv := s3test.Start(t, []string{bucket}, bucket)
	st := newStore(t, srv, 0)
	ctx := context.Background()
	key := "releases/o/r/v1.0.0/race.txt"
	objs := []s3store.Object{object(t, key, []byte("A")), object(t, key, []byte("B"))}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = st.Put(ctx, objs[i%2], nil) })
	}
	wg.Wait()
	_, body := publicGet(t, srv, key)
	for i, err := range errs {
		want := string(body) == string("AB"[i%2])
		if want && err != nil {
			t.Errorf("writer %d of the stored content failed: %v", i, err)
		}
		var ce *s3store.ConflictError
		if !want && !errors.As(err, &ce) {
			t.Errorf("writer %d of other content: %v; want a ConflictError", i, err)
		}
	}
}

func TestLock(t *testing.T) {
	srv := s3test.Start(t, []string{bucket})
	st := newStore(t, srv, 0)
	ctx := context.Background()
	key := ".relkit/locks/o/r/v1.0.0.lock"
	l, err := st.Lock(ctx, key, "run 1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var le *s3store.LockedError
	if _, err := st.Lock(ctx, key, "run 2", time.Hour); !errors.As(err, &le) || le.Info.Owner != "run 1" {
		t.Fatalf("second lock: %v; want LockedError held by run 1", err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	l2, err := st.Lock(ctx, key, "run 2", -time.Second) // expires at once
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	// An expired lock is taken over.
	l3, err := st.Lock(ctx, key, "run 3", time.Hour)
	if err != nil {
		t.Fatalf("taking over an expired lock: %v", err)
	}
	if err := l2.Unlock(ctx); err != nil {
		t.Fatalf("unlock of a lock taken over: %v", err)
	}
	if _, err := st.Lock(ctx, key, "run 4", time.Hour); !errors.As(err, &le) || le.Info.Owner != "run 3" {
		t.Fatalf("the stale holder's unlock removed the new lock: %v", err)
	}
	if err := l3.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPutRefusesBytesThatDoNotMatchTheirHash(t *testing.T) {
	srv := s3test.Start(t, []string{bucket})
	st := newStore(t, srv, 0)
	ctx := context.Background()
	obj := object(t, "releases/o/r/v1.0.0/a.zip", []byte("good"))
	if err := os.WriteFile(obj.Path, []byte("evil"), 0o644); err != nil { // same size, other bytes
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, obj, nil); err == nil {
		t.Fatal("put of bytes that do not match their sha256 succeeded")
	}
	if _, ok, err := st.Head(ctx, obj.Key); err != nil || ok {
		t.Fatalf("an object was stored (%v, %v)", ok, err)
	}
}

func TestLockOfADeadLocalProcessIsStale(t *testing.T) {
	srv := s3test.Start(t, []string{bucket})
	st := newStore(t, srv, 0)
	ctx := context.Background()
	key := ".relkit/locks/o/r/v1.0.0.lock"
	host, _ := os.Hostname()
	// A publish killed mid-way: its lock names a process that is gone.
	body := `{"owner":"killed","host":"` + host + `","pid":2147483000,"created":"2026-01-01T00:00:00Z","expires":"2999-01-01T00:00:00Z"}`
	if _, err := srv.Client(t).PutObject(ctx, putInput(key, body)); err != nil {
		t.Fatal(err)
	}
	l, err := st.Lock(ctx, key, "rerun", time.Hour)
	if err != nil {
		t.Fatalf("lock held by a dead local process: %v; want it taken over", err)
	}
	_ = l.Unlock(ctx)
}
