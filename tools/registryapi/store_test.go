package registryapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The store tests run against every backend OpenStore accepts: SQLite always,
// Postgres when its server binaries are installed (postgres_test.go).

func TestStoreSQLite(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "registry.db")
	testStore(t, dsn)
}

func TestStorePostgres(t *testing.T) {
	testStore(t, startPostgres(t))
}

// testStore checks the store behaviour the server relies on, on dsn.
func testStore(t *testing.T, dsn string) {
	ctx := context.Background()
	open := func(t *testing.T) *Store {
		t.Helper()
		st, err := OpenStore(ctx, dsn)
		if err != nil {
			t.Fatalf("OpenStore: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	// Each subtest records its own repository, so they share one database.
	release := func(t *testing.T, name, version string) *Release {
		t.Helper()
		r := request(t)
		r.Name, r.Version = name, version
		return r
	}
	t0 := time.Date(2026, 5, 6, 17, 37, 2, 0, time.UTC)

	t.Run("put is idempotent and immutable", func(t *testing.T) {
		st := open(t)
		r := release(t, "baton-put", "v1.0.0")
		if created, err := st.Put(ctx, r, t0); err != nil || !created {
			t.Fatalf("first Put = %v, %v; want created", created, err)
		}
		if created, err := st.Put(ctx, r, t0.Add(time.Hour)); err != nil || created {
			t.Fatalf("same record again = %v, %v; want unchanged", created, err)
		}
		other := *r
		other.CommitSHA = strings.Repeat("f", 40)
		if _, err := st.Put(ctx, &other, t0); !errors.Is(err, ErrConflict) {
			t.Fatalf("different record of the version = %v, want ErrConflict", err)
		}
		got, err := st.Get(ctx, r.Org, r.Name, r.Version)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := mustJSON(t, r), mustJSON(t, got); !bytes.Equal(a, b) {
			t.Errorf("Get returned another record:\n%s\nwant\n%s", b, a)
		}
		if got, err := st.Get(ctx, r.Org, r.Name, "v9.9.9"); got != nil || err != nil {
			t.Errorf("Get of an unknown version = %v, %v; want nil, nil", got, err)
		}
	})

	t.Run("list is oldest first", func(t *testing.T) {
		st := open(t)
		// Received within and across seconds, not in version order.
		for _, p := range []struct {
			version string
			at      time.Time
		}{
			{"v1.0.0", t0},
			{"v1.1.0", t0.Add(500 * time.Millisecond)},
			{"v0.9.0", t0.Add(time.Second)},
			{"v0.9.1", t0.Add(time.Second + time.Microsecond)},
		} {
			if _, err := st.Put(ctx, release(t, "baton-list", p.version), p.at); err != nil {
				t.Fatal(err)
			}
		}
		rels, err := st.List(ctx, "ConductorOne", "baton-list")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rels {
			got = append(got, r.Version)
		}
		if want := "v1.0.0 v1.1.0 v0.9.0 v0.9.1"; strings.Join(got, " ") != want {
			t.Errorf("List = %v, want %s", got, want)
		}
		if rels, err := st.List(ctx, "ConductorOne", "baton-none"); len(rels) != 0 || err != nil {
			t.Errorf("List of an unknown repository = %v, %v; want none", rels, err)
		}
	})

	t.Run("concurrent puts", func(t *testing.T) {
		st := open(t)
		same := release(t, "baton-race", "v1.0.0")
		var (
			wg                 sync.WaitGroup
			mu                 sync.Mutex
			created, conflicts int
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := same
				if i%2 == 1 {
					// Half of them a different record of the same version.
					other := *same
					other.WorkflowRunID = "999"
					r = &other
				}
				c, err := st.Put(ctx, r, t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, ErrConflict):
					conflicts++
				case err != nil:
					t.Errorf("Put: %v", err)
				case c:
					created++
				}
			}()
		}
		wg.Wait()
		// One record wins; the four writers of the other one conflict.
		if created != 1 || conflicts != 4 {
			t.Errorf("8 concurrent Puts: %d created, %d conflicts; want 1 and 4", created, conflicts)
		}
	})

	t.Run("reopen keeps records", func(t *testing.T) {
		st := open(t)
		if _, err := st.Put(ctx, release(t, "baton-reopen", "v1.0.0"), t0); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if got, err := open(t).Get(ctx, "ConductorOne", "baton-reopen", "v1.0.0"); got == nil || err != nil {
			t.Errorf("after reopening: %v, %v; want the record", got, err)
		}
	})

	t.Run("server", func(t *testing.T) {
		srv := httptest.NewServer((&Server{Store: open(t), Auth: StaticToken("t")}).Handler())
		t.Cleanup(srv.Close)
		r := release(t, "baton-server", "v1.0.0")
		if st, err := client(srv.URL, "t").Record(ctx, r); err != nil || st.Status != "success" {
			t.Fatalf("record: %+v, %v", st, err)
		}
		resp, err := http.Get(srv.URL + "/api/v1/releases/ConductorOne/baton-server/v1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var back Release
		if err := json.NewDecoder(resp.Body).Decode(&back); err != nil || resp.StatusCode != 200 {
			t.Fatalf("read back: %s, %v", resp.Status, err)
		}
		if a, b := mustJSON(t, r), mustJSON(t, &back); !bytes.Equal(a, b) {
			t.Errorf("read back differs:\n%s\nwant\n%s", b, a)
		}
	})
}

func TestOpenStoreHidesPassword(t *testing.T) {
	// Nothing listens on port 1: the connection is refused at once.
	_, err := OpenStore(context.Background(), "postgres://relkit:s3cret@127.0.0.1:1/registry?sslmode=disable&connect_timeout=5")
	if err == nil {
		t.Fatal("OpenStore of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "***@127.0.0.1:1") {
		t.Errorf("error = %q; want the URL with its password hidden", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
