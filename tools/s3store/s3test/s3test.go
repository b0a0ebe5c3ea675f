// Package s3test runs a real S3 server, versitygw, for tests: on a free
// 127.0.0.1 port, storing into a temporary directory, with real SigV4
// credentials and conditional writes.
//
// The binary is $RELKIT_VERSITYGW, else the one testing/s3.sh builds into
// ~/.cache/relkit-versitygw/VERSION/bin. Tests that need it are skipped when
// neither exists.
package s3test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Version is the versitygw release the tests were written against.
const Version = "v1.8.0"

// Credentials of the test server's root user.
const (
	AccessKey = "relkit-test"
	SecretKey = "relkit-test-secret"
	Region    = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	Dir      string // its storage directory; one subdirectory per bucket
}

// Binary returns the versitygw path, or "" if there is none.
func Binary() string {
	if p := os.Getenv("RELKIT_VERSITYGW"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	p := filepath.Join(home, ".cache", "relkit-versitygw", Version, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Start runs versitygw for the duration of the test, with the given buckets
// created. Objects of buckets listed in public can be read anonymously over
// plain HTTP, as through a CDN.
func Start(t testing.TB, buckets []string, public ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("versitygw not found: run 'testing/stack build' or set RELKIT_VERSITYGW")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--quiet", "--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	logf, err := os.Create(filepath.Join(t.TempDir(), "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	s := &Server{Endpoint: "http://" + addr, Dir: dir}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := s.Client(t)
	ctx := context.Background()
	for _, b := range buckets {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	for _, b := range public {
		if err := MakePublic(ctx, c, b); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// MakePublic lets anyone read the bucket's objects (not list them).
func MakePublic(ctx context.Context, c *s3.Client, bucket string) error {
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, bucket)
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		return fmt.Errorf("make bucket %s public: %w", bucket, err)
	}
	return nil
}

// Client is an S3 client of the server's root user.
func (s *Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")))
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
		o.UsePathStyle = true
	})
}
