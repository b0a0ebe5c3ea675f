package publish_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/publish"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/s3store"
	"github.com/relkit/relkit/tools/s3store/s3test"
)

const (
	bucket = "dist"
	org    = "ConductorOne"
	repo   = "baton-x"
	tag    = "v1.2.3"
)

// buildTree writes an unsigned release tree for linux/amd64 with hrefs
// under base, as the build does.
func buildTree(t *testing.T, base, content string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tg, _ := release.ParseTag(tag)
	archive := release.ArchiveName(repo, tg, release.Platform{OS: "linux", Arch: "amd64"})
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(archive, content)
	write(archive+release.SBOMSuffix, `{"spdxVersion":"SPDX-2.3"}`)
	lines, err := checksum.Files(context.Background(), []string{filepath.Join(dir, archive)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	checksum.Write(&buf, lines)
	write(release.ChecksumsName(repo, tg), buf.String())
	m, err := manifest.Build(context.Background(), manifest.BuildOptions{
		Dir: dir, Org: org, Repo: repo, Tag: tag, BaseURL: base,
		Platforms: []release.Platform{{OS: "linux", Arch: "amd64"}}, ExpectAttestations: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "manifest.json"), 0o644, func(w io.Writer) error { return manifest.Write(w, m) }); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeSigner writes the side files the sign package writes, with
// placeholder content derived from each file.
type fakeSigner struct{ calls int }

func (f *fakeSigner) SignTree(_ context.Context, dir string) error {
	f.calls++
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, release.SBOMSuffix) {
			continue
		}
		side := []string{".sig", ".cert", ".sigstore.json"}
		if n != "manifest.json" {
			side = append(side, release.ProvenanceSuffix)
		}
		if _, err := os.Stat(filepath.Join(dir, n+release.SBOMSuffix)); err == nil {
			side = append(side, release.SBOMBundleSuffix)
		}
		for _, s := range side {
			if err := os.WriteFile(filepath.Join(dir, n+s), []byte("signature of "+n+s), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

type env struct {
	srv   *s3test.Server
	store *s3store.Store
	base  string
}

func newEnv(t *testing.T) env {
	t.Helper()
	srv := s3test.Start(t, []string{bucket}, bucket)
	st, err := s3store.New(context.Background(), s3store.Config{Bucket: bucket, Endpoint: srv.Endpoint, Region: s3test.Region,
		PathStyle: true, AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return env{srv: srv, store: st, base: srv.Endpoint + "/" + bucket}
}

func (e env) options(t *testing.T, dir string) publish.Options {
	return publish.Options{Dir: dir, Org: org, Repo: repo, Tag: tag, BaseURL: e.base, WorkDir: filepath.Join(t.TempDir(), "work"),
		Store: e.store, Signer: &fakeSigner{}}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPublishAndPublishAgain(t *testing.T) {
	e := newEnv(t)
	dir := buildTree(t, e.base, "linux archive")
	before, _ := os.ReadDir(dir)
	rep, err := publish.Run(context.Background(), e.options(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Errorf("publish wrote into the built tree: %d files, was %d", len(after), len(before))
	}
	d := e.base + "/releases/" + org + "/" + repo + "/" + tag + "/"
	want := map[string]string{
		"manifest.json":                                              "application/json",
		"manifest.json.sig":                                          "application/octet-stream",
		"manifest.json.cert":                                         "application/x-pem-file",
		"manifest.json.sigstore.json":                                "application/json",
		"baton-x_1.2.3_checksums.txt":                                "text/plain; charset=utf-8",
		"baton-x_1.2.3_checksums.txt.provenance.sigstore.json":       "application/json",
		"baton-x-v1.2.3-linux-amd64.tar.gz":                          "application/gzip",
		"baton-x-v1.2.3-linux-amd64.tar.gz.sig":                      "application/octet-stream",
		"baton-x-v1.2.3-linux-amd64.tar.gz.sbom.json":                "application/json",
		"baton-x-v1.2.3-linux-amd64.tar.gz.sbom.sigstore.json":       "application/json",
		"baton-x-v1.2.3-linux-amd64.tar.gz.provenance.sigstore.json": "application/json",
	}
	for name, ct := range want {
		resp, _ := get(t, d+name)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct || resp.Header.Get("Cache-Control") != publish.CacheControl {
			t.Errorf("%s: %s, Content-Type %q, Cache-Control %q; want 200, %q", name, resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), ct)
		}
	}
	if resp, _ := get(t, d+"provenance.intoto.json"); resp.StatusCode == 200 {
		t.Errorf("the unsigned statement was published")
	}
	if rep.AlreadyPublished || len(rep.Uploaded) == 0 || len(rep.Skipped) != 0 || rep.ManifestURL != d+"manifest.json" {
		t.Errorf("report: %+v", rep)
	}

	// Again: a no-op that says so.
	var log bytes.Buffer
	o := e.options(t, dir)
	o.Log = &log
	signer := o.Signer.(*fakeSigner)
	rep, err = publish.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AlreadyPublished || len(rep.Uploaded) != 0 || signer.calls != 0 || !strings.Contains(log.String(), "already published") {
		t.Errorf("second publish: %+v, signer called %d times, log:\n%s", rep, signer.calls, log.String())
	}
}

func TestPublishResumesAndNeverOverwrites(t *testing.T) {
	e := newEnv(t)
	dir := buildTree(t, e.base, "linux archive")
	o := e.options(t, dir)
	// A first attempt that died after some uploads: same work directory,
	// so the same signatures.
	if err := (&fakeSigner{}).SignTree(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	archive := "baton-x-v1.2.3-linux-amd64.tar.gz"
	for _, name := range []string{archive, archive + ".sig"} {
		p := filepath.Join(dir, name)
		sum, size, _ := checksum.File(p)
		if _, err := e.store.Put(context.Background(), s3store.Object{Key: "releases/" + org + "/" + repo + "/" + tag + "/" + name, Path: p, SHA256: sum, Size: size}, nil); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := publish.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 2 {
		t.Errorf("skipped %v; want the two objects of the first attempt", rep.Skipped)
	}

	// Another build of the same tag with other bytes: refused, naming the
	// key, and the release stays as it was.
	e2 := newEnv(t)
	dir2 := buildTree(t, e2.base, "other archive")
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, []byte("first build"), 0o644)
	sum, size, _ := checksum.File(p)
	key := "releases/" + org + "/" + repo + "/" + tag + "/" + archive
	if _, err := e2.store.Put(context.Background(), s3store.Object{Key: key, Path: p, SHA256: sum, Size: size}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = publish.Run(context.Background(), e2.options(t, dir2))
	var ce *s3store.ConflictError
	var se *publish.StepError
	if !errors.As(err, &ce) || !errors.As(err, &se) || se.Step != "upload artifacts" || !strings.Contains(err.Error(), key) {
		t.Fatalf("publish over other bytes: %v; want an upload artifacts conflict naming %s", err, key)
	}
	if resp, _ := get(t, e2.base+"/"+strings.TrimSuffix(key, archive)+"manifest.json"); resp.StatusCode == 200 {
		t.Errorf("manifest.json was published although an artifact failed")
	}
}

func TestPublishRefusesTheWrongTree(t *testing.T) {
	e := newEnv(t)
	cases := map[string]func(o *publish.Options){
		"another tag":      func(o *publish.Options) { o.Tag = "v1.2.4" },
		"another base URL": func(o *publish.Options) { o.BaseURL = "https://cdn.example.com" },
		"a missing tree":   func(o *publish.Options) { o.Dir = filepath.Join(t.TempDir(), "nothing") },
		"a prefix":         func(o *publish.Options) { o.Prefix = "staging" },
	}
	dir := buildTree(t, e.base, "linux archive")
	for name, change := range cases {
		o := e.options(t, dir)
		change(&o)
		_, err := publish.Run(context.Background(), o)
		var se *publish.StepError
		if !errors.As(err, &se) || se.Step != "check tree" {
			t.Errorf("%s: %v; want a check tree error", name, err)
		}
	}
	if _, ok, _ := e.store.Head(context.Background(), "releases/"+org+"/"+repo+"/"+tag+"/manifest.json"); ok {
		t.Error("something was published")
	}
}

func TestPublishNeedsSignatures(t *testing.T) {
	e := newEnv(t)
	o := e.options(t, buildTree(t, e.base, "linux archive"))
	o.Signer = nil // an unsigned tree used as signed
	_, err := publish.Run(context.Background(), o)
	var se *publish.StepError
	if !errors.As(err, &se) || se.Step != "check signed tree" || !strings.Contains(err.Error(), ".sig is missing") {
		t.Fatalf("unsigned tree: %v", err)
	}
}

// A signature the verify step would refuse, such as one made with an
// identity token for another ref, fails the release before any upload:
// the write-once bucket keeps nothing that cannot be replaced.
func TestPublishChecksTheSignerBeforeUploading(t *testing.T) {
	e := newEnv(t)
	o := e.options(t, buildTree(t, e.base, "linux archive"))
	var checked []string
	o.CheckSignature = func(data, bundle []byte) error {
		checked = append(checked, string(bundle))
		if !bytes.Contains(data, []byte(`"assets"`)) {
			t.Errorf("checked %q, want manifest.json", data)
		}
		return errors.New("certificate identity is refs/heads/main, want refs/tags/v1.2.3")
	}
	_, err := publish.Run(context.Background(), o)
	var se *publish.StepError
	if !errors.As(err, &se) || se.Step != "check signed tree" || !strings.Contains(err.Error(), "refs/heads/main") ||
		!strings.Contains(err.Error(), "nothing is uploaded") {
		t.Fatalf("publish with a refused signer: %v; want a check signed tree error naming the identity", err)
	}
	if want := []string{"signature of manifest.json.sigstore.json"}; !slices.Equal(checked, want) {
		t.Errorf("checked bundles %q, want %q", checked, want)
	}
	keys, err := e.store.List(context.Background(), "releases/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("uploaded although the signature would not verify: %q", keys)
	}

	// The same tree with a signer verification accepts is published.
	o.CheckSignature = func(data, bundle []byte) error { return nil }
	if _, err := publish.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func TestPublishNeedsDeclaredProvenance(t *testing.T) {
	e := newEnv(t)
	dir := buildTree(t, e.base, "linux archive")
	m, err := manifest.Build(context.Background(), manifest.BuildOptions{Dir: dir, Org: org, Repo: repo, Tag: tag, BaseURL: e.base,
		Platforms: []release.Platform{{OS: "linux", Arch: "amd64"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "manifest.json"), 0o644, func(w io.Writer) error { return manifest.Write(w, m) }); err != nil {
		t.Fatal(err)
	}
	_, err = publish.Run(context.Background(), e.options(t, dir))
	if err == nil || !strings.Contains(err.Error(), "--expect-attestations") {
		t.Fatalf("manifest without attestations: %v", err)
	}
}
