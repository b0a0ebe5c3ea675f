// Package publish_test kills the real 'relkit publish' at random points and
// checks what a crash can leave behind, and runs it against bad input.
package publish_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/s3store/s3test"
	"github.com/relkit/relkit/tools/sign"
)

const (
	bucket = "dist"
	org    = "ConductorOne"
	repo   = "baton-crash"
)

// relkit is the CLI under test, built once by TestMain.
var relkit string

func TestMain(m *testing.M) {
	// tests/publish/images.sh builds it outside the stack's namespace.
	if p := os.Getenv("RELKIT"); p != "" {
		relkit = p
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "relkit-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	relkit = filepath.Join(dir, "relkit")
	build := exec.Command("go", "build", "-o", relkit, "github.com/relkit/relkit/tools/cmd/relkit")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build relkit:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// stack is versitygw with one public bucket, and a signed tree per tag.
type stack struct {
	srv    *s3test.Server
	client *s3.Client
	base   string
	signer sign.Signer
}

func newStack(t *testing.T) *stack {
	t.Helper()
	srv := s3test.Start(t, []string{bucket}, bucket)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key, sign.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{srv: srv, client: srv.Client(t), base: srv.Endpoint + "/" + bucket, signer: s}
}

// signedTree writes the release of tag and signs it offline.
func (s *stack) signedTree(t *testing.T, tag string) string {
	t.Helper()
	dir := publishtest.Tree(t, org, repo, tag, s.base, "archive "+tag, 256<<10)
	if _, err := sign.SignTree(context.Background(), dir, s.signer, sign.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// command is 'relkit publish' of a signed tree, with a clean environment.
func (s *stack) command(dir, tag, work string, extra ...string) *exec.Cmd {
	args := append([]string{"publish", "--dir", dir, "--org", org, "--repo", repo, "--tag", tag,
		"--bucket", bucket, "--base-url", s.base, "--s3-endpoint", s.srv.Endpoint, "--s3-path-style",
		"--s3-region", s3test.Region, "--work-dir", work, "--sign", "none", "--verify=false", "--jobs", "2"}, extra...)
	cmd := exec.Command(relkit, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(work), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretKey}
	return cmd
}

// objects maps every key under prefix to the sha256 of its bytes.
func (s *stack) objects(t *testing.T, prefix string) map[string]string {
	t.Helper()
	ctx := context.Background()
	sums := map[string]string{}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.Copy(h, out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			sums[aws.ToString(o.Key)] = hex.EncodeToString(h.Sum(nil))
		}
	}
	return sums
}

// check asserts what must hold at any moment: every object has the bytes
// of the tree's file of that name, and a published manifest.json has every
// file it names beside it.
func (s *stack) check(t *testing.T, dir, tag string) (objs map[string]string, published bool) {
	t.Helper()
	d := "releases/" + org + "/" + repo + "/" + tag + "/"
	objs = s.objects(t, d)
	for key, sum := range objs {
		data, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(key, d)))
		if err != nil {
			t.Errorf("%s: in the bucket but not in the tree: %v", key, err)
			continue
		}
		if want := sha256.Sum256(data); hex.EncodeToString(want[:]) != sum {
			t.Errorf("%s: sha256 %s in the bucket, the tree's file has %x", key, sum, want)
		}
	}
	if _, ok := objs[d+"manifest.json"]; !ok {
		return objs, false
	}
	f, err := os.Open(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := manifest.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	need := func(href string) {
		if href == "" {
			return
		}
		if _, ok := objs[strings.TrimPrefix(href, s.base+"/")]; !ok {
			t.Errorf("manifest.json is published but %s is missing", href)
		}
	}
	need(m.SignatureHref)
	for _, a := range m.Assets {
		need(a.Href)
		need(a.SignatureHref)
		need(a.Href + ".sigstore.json")
		for _, at := range a.Attestations {
			need(at.BundleHref)
		}
	}
	return objs, true
}

// TestPublishSurvivesSIGKILL kills 'relkit publish' at random points, at
// least 20 times, each time checking what the bucket holds and then
// running publish again, sometimes from a new work directory. Every re-run
// completes, no object ever changes, and manifest.json is never visible
// while a file it names is missing.
func TestPublishSurvivesSIGKILL(t *testing.T) {
	const wantKills, maxTrials = 20, 80
	s := newStack(t)
	tmp := t.TempDir()

	// One uninterrupted run sets the range of kill times.
	dir := s.signedTree(t, "v0.9.0")
	start := time.Now()
	if out, err := s.command(dir, "v0.9.0", filepath.Join(tmp, "calibrate")).CombinedOutput(); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	full := time.Since(start)
	t.Logf("an uninterrupted publish takes %s", full.Round(time.Millisecond))

	rng := mrand.New(mrand.NewPCG(5, 7))
	var kills, partial, withManifest, withLock int
	for trial := 0; kills < wantKills && trial < maxTrials; trial++ {
		tag := fmt.Sprintf("v1.0.%d", trial)
		dir := s.signedTree(t, tag)
		work := filepath.Join(tmp, tag)
		delay := time.Duration(rng.Int64N(int64(full)))
		cmd := s.command(dir, tag, work)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		killed := ws.Signaled() && ws.Signal() == syscall.SIGKILL
		if !killed && err != nil {
			t.Fatalf("%s: publish failed before the kill: %v\n%s", tag, err, out.String())
		}
		before, published := s.check(t, dir, tag)
		if killed {
			kills++
			if len(before) > 0 && !published {
				partial++
			}
			if published {
				withManifest++
			}
			if len(s.objects(t, ".relkit/locks/")) > 0 {
				withLock++
			}
		}
		if trial%2 == 1 {
			work += "-fresh" // as on another machine
		}
		out.Reset()
		rerun := s.command(dir, tag, work)
		rerun.Stdout, rerun.Stderr = &out, &out
		if err := rerun.Run(); err != nil {
			t.Fatalf("%s: re-run after a kill at %s failed: %v\n%s", tag, delay, err, out.String())
		}
		after, published := s.check(t, dir, tag)
		if !published {
			t.Fatalf("%s: re-run completed but manifest.json is not published\n%s", tag, out.String())
		}
		for key, sum := range before {
			if after[key] != sum {
				t.Errorf("%s: %s changed from %s to %s", tag, key, sum, after[key])
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("%d kills: %d left a partial release, %d a complete one, %d a lock", kills, partial, withManifest, withLock)
	if kills < wantKills {
		t.Fatalf("only %d runs were killed before finishing; want %d", kills, wantKills)
	}
	if partial == 0 {
		t.Errorf("no kill landed during the uploads")
	}
}

// TestPublishCLIRefusesBadInput runs the CLI with one bad input at a time:
// each exits 1 with a one-line error naming the problem and leaves nothing
// in the bucket, not even a lock.
func TestPublishCLIRefusesBadInput(t *testing.T) {
	s := newStack(t)
	const tag = "v2.0.0"
	dir := s.signedTree(t, tag)
	other := s.signedTree(t, "v2.0.1")
	for _, tc := range []struct {
		name string
		cmd  func(work string) *exec.Cmd
		want string
	}{
		{"a missing tree", func(w string) *exec.Cmd { return s.command(dir+"-missing", tag, w) }, "does not exist: build it"},
		{"a tree of another tag", func(w string) *exec.Cmd { return s.command(other, tag, w) }, "is the release of ConductorOne/baton-crash v2.0.1, not"},
		{"a wrong bucket", func(w string) *exec.Cmd {
			c := s.command(dir, tag, w)
			c.Args = append(c.Args, "--bucket", "no-such-bucket")
			return c
		}, `bucket "no-such-bucket" does not exist`},
		{"bad credentials", func(w string) *exec.Cmd {
			c := s.command(dir, tag, w)
			c.Env = append(c.Env, "AWS_SECRET_ACCESS_KEY=wrong")
			return c
		}, "the S3 credentials were refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := filepath.Join(t.TempDir(), "work")
			var stderr bytes.Buffer
			cmd := tc.cmd(work)
			cmd.Stderr = &stderr
			err := cmd.Run()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("exit: %v; want status 1\n%s", err, stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 0 {
				t.Errorf("stderr %q; want one line containing %q", msg, tc.want)
			}
			if objs := s.objects(t, ""); len(objs) != 0 {
				t.Errorf("left in the bucket: %v", objs)
			}
			if _, err := os.Stat(work); !os.IsNotExist(err) {
				t.Errorf("work directory %s was made", work)
			}
		})
	}
}
