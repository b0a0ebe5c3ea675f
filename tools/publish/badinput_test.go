package publish_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/publish"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/s3store"
	"github.com/relkit/relkit/tools/s3store/s3test"
)

// TestPublishRefusesBadInput gives publish one bad input at a time. Each
// fails with an error naming the problem, before anything is written: the
// bucket stays empty (no lock left behind) and no work directory is made.
func TestPublishRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dir := publishtest.Tree(t, org, repo, tag, e.base, "archive", 0)
	store := func(t *testing.T, cfg s3store.Config) *s3store.Store {
		t.Helper()
		st, err := s3store.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	good := s3store.Config{Bucket: bucket, Endpoint: e.srv.Endpoint, Region: s3test.Region, PathStyle: true,
		AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey, Attempts: 2}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, o *publish.Options)
		step   string
		want   string
	}{
		{"a missing tree", func(t *testing.T, o *publish.Options) { o.Dir += "-missing" }, "check tree", "does not exist: build it"},
		{"a tree of another tag", func(t *testing.T, o *publish.Options) {
			o.Dir = publishtest.Tree(t, org, repo, "v1.2.4", e.base, "archive", 0)
		}, "check tree", "is the release of ConductorOne/baton-x v1.2.4, not ConductorOne/baton-x v1.2.3"},
		{"a wrong bucket", func(t *testing.T, o *publish.Options) {
			cfg := good
			cfg.Bucket = "no-such-bucket"
			o.Store = store(t, cfg)
		}, "check published", `bucket "no-such-bucket" does not exist`},
		{"a wrong secret key", func(t *testing.T, o *publish.Options) {
			cfg := good
			cfg.SecretAccessKey = "wrong"
			o.Store = store(t, cfg)
		}, "check published", "credentials"},
		{"an unknown access key", func(t *testing.T, o *publish.Options) {
			cfg := good
			cfg.AccessKeyID = "nobody"
			o.Store = store(t, cfg)
		}, "check published", "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := e.options(t, dir)
			o.Store = store(t, good)
			tc.change(t, &o)
			_, err := publish.Run(ctx, o)
			var se *publish.StepError
			if !errors.As(err, &se) || se.Step != tc.step || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want a %s error containing %q", err, tc.step, tc.want)
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if got := objects(t, e.srv.Client(t)); len(got) != 0 {
				t.Errorf("left in the bucket: %v", got)
			}
			if _, err := os.Stat(o.WorkDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("work directory %s was made", o.WorkDir)
			}
		})
	}
}
