package verify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/sign"
	"github.com/relkit/relkit/tools/verify"
)

const (
	org     = "ConductorOne"
	repo    = "baton-v"
	tag     = "v1.2.3"
	archive = "baton-v-v1.2.3-linux-amd64.tar.gz"
	sums    = "baton-v_1.2.3_checksums.txt"
)

// release is a signed release tree served over HTTP as publish lays it
// out; override replaces the bytes served for a file name.
type release struct {
	dir      string
	url      string // manifest URL
	verifier *sign.Verifier
	mu       sync.Mutex
	override map[string][]byte
}

func newRelease(t *testing.T) *release {
	t.Helper()
	return newReleaseWith(t, func(url string) string { return publishtest.Tree(t, org, repo, tag, url, "archive", 0) }, nil)
}

// newReleaseWith serves the tree tree(base URL) writes, signed after
// prepare (when not nil) has changed it with the release's signer.
func newReleaseWith(t *testing.T, tree func(url string) string, prepare func(dir string, s sign.Signer)) *release {
	t.Helper()
	r := &release{override: map[string][]byte{}}
	d := "/releases/" + org + "/" + repo + "/" + tag + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name, ok := strings.CutPrefix(req.URL.Path, d)
		if !ok || strings.Contains(name, "/") {
			http.NotFound(w, req)
			return
		}
		r.mu.Lock()
		data, ok := r.override[name]
		r.mu.Unlock()
		if !ok {
			var err error
			if data, err = os.ReadFile(filepath.Join(r.dir, name)); err != nil {
				http.NotFound(w, req)
				return
			}
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	r.dir = tree(srv.URL)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key, sign.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(r.dir, s)
	}
	if _, err := sign.SignTree(context.Background(), r.dir, s, sign.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	if r.verifier, err = s.Verifier(); err != nil {
		t.Fatal(err)
	}
	r.url = srv.URL + d + "manifest.json"
	return r
}

func (r *release) serve(name string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.override[name] = data
}

func (r *release) file(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// manifest returns the manifest to edit and serve with serveManifest.
func (r *release) manifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Read(bytes.NewReader(r.file(t, "manifest.json")))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (r *release) serveManifest(t *testing.T, m *manifest.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	if err := manifest.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	r.serve("manifest.json", buf.Bytes())
}

func (r *release) verify(t *testing.T, v *sign.Verifier) *verify.Report {
	t.Helper()
	rep, err := verify.Release(context.Background(), verify.Options{ManifestURL: r.url, Org: org, Repo: repo, Tag: tag, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// verifyWith verifies with the release's signer and the builder policy b.
func (r *release) verifyWith(t *testing.T, b *verify.Builder) *verify.Report {
	t.Helper()
	rep, err := verify.Release(context.Background(), verify.Options{ManifestURL: r.url, Org: org, Repo: repo, Tag: tag, Verifier: r.verifier, Builder: b})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// failed returns the reason asset's check failed, or fails the test.
func failed(t *testing.T, rep *verify.Report, asset, check string) string {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Asset == asset && c.Check == check {
			if c.OK {
				t.Fatalf("%s: %s passed; want it to fail", asset, check)
			}
			return c.Reason
		}
	}
	t.Fatalf("%s: no %s check in the report:\n%s", asset, check, text(rep))
	return ""
}

func text(rep *verify.Report) string {
	var b strings.Builder
	rep.WriteText(&b)
	return b.String()
}

func TestReleasePasses(t *testing.T) {
	r := newRelease(t)
	rep := r.verify(t, r.verifier)
	if !rep.OK() || rep.Passed < 20 {
		t.Fatalf("a good release:\n%s", text(rep))
	}
	// Every asset had its bytes, signature and provenance checked.
	for _, asset := range []string{"linux-amd64", "windows-amd64", "checksums", "manifest"} {
		for _, check := range []string{"sha256 and size", "signature", "has SLSA provenance"} {
			if asset == "manifest" && check != "signature" {
				continue
			}
			found := false
			for _, c := range rep.Checks {
				found = found || (c.Asset == asset && c.Check == check && c.OK)
			}
			if !found {
				t.Errorf("%s: %s did not pass", asset, check)
			}
		}
	}
	var back verify.Report
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(rep); err != nil || json.Unmarshal(buf.Bytes(), &back) != nil || back.Passed != rep.Passed {
		t.Errorf("JSON report does not round-trip: %v", err)
	}
}

func TestTamperedAsset(t *testing.T) {
	r := newRelease(t)
	data := r.file(t, archive)
	data[0] ^= 1 // same size, other bytes
	r.serve(archive, data)
	rep := r.verify(t, r.verifier)
	if why := failed(t, rep, "linux-amd64", "sha256 and size"); !strings.Contains(why, archive) || !strings.Contains(why, "manifest says") {
		t.Errorf("reason %q does not name the file and the manifest's digest", why)
	}
	failed(t, rep, "linux-amd64", "signature")
	if rep.OK() || !strings.Contains(text(rep), "FAIL  linux-amd64") {
		t.Errorf("report:\n%s", text(rep))
	}
	for _, c := range rep.Checks {
		if c.Asset == "windows-amd64" && !c.OK {
			t.Errorf("an untouched asset failed: %+v", c)
		}
	}
}

func TestSizeMismatch(t *testing.T) {
	r := newRelease(t)
	r.serve(archive, append(r.file(t, archive), '\n'))
	why := failed(t, r.verify(t, r.verifier), "linux-amd64", "sha256 and size")
	size := len(r.file(t, archive))
	if !strings.Contains(why, fmt.Sprintf("%d bytes, manifest says", size+1)) {
		t.Errorf("reason %q does not give the sizes", why)
	}
}

// TestChecksumsListing serves a checksums file that lists an asset too
// many or too few, with a manifest that agrees with its digest.
func TestChecksumsListing(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(lines []checksum.Line) []checksum.Line
		want string
	}{
		"extra": {func(l []checksum.Line) []checksum.Line {
			return append(l, checksum.Line{Name: "baton-v-v1.2.3-plan9-amd64.tar.gz", SHA256: strings.Repeat("0", 64)})
		}, "lists baton-v-v1.2.3-plan9-amd64.tar.gz not in the manifest"},
		"missing": {func(l []checksum.Line) []checksum.Line { return l[1:] }, "lacks " + archive},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRelease(t)
			lines, err := checksum.Parse(bytes.NewReader(r.file(t, sums)))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := checksum.Write(&buf, tc.edit(lines)); err != nil {
				t.Fatal(err)
			}
			r.serve(sums, buf.Bytes())
			m := r.manifest(t)
			cs := m.Assets["checksums"]
			cs.SHA256, cs.SizeBytes = digest(buf.Bytes()), int64(buf.Len())
			m.Assets["checksums"] = cs
			r.serveManifest(t, m)
			rep := r.verify(t, r.verifier)
			if why := failed(t, rep, "checksums", "lists exactly the other assets"); !strings.Contains(why, tc.want) {
				t.Errorf("reason %q; want %q", why, tc.want)
			}
			// The edited manifest no longer matches its signature.
			failed(t, rep, "manifest", "signature")
		})
	}
}

func TestMissingAsset(t *testing.T) {
	r := newRelease(t)
	if err := os.Remove(filepath.Join(r.dir, archive+".provenance.sigstore.json")); err != nil {
		t.Fatal(err)
	}
	why := failed(t, r.verify(t, r.verifier), "linux-amd64", "attestation https://slsa.dev/provenance/v1")
	if !strings.Contains(why, "404") || !strings.Contains(why, archive+".provenance.sigstore.json") {
		t.Errorf("reason %q does not name the missing bundle", why)
	}
}

func TestWrongIdentity(t *testing.T) {
	r := newRelease(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sign.NewVerifier(nil, sign.Policy{PublicKey: key.Public(), Unlogged: true})
	if err != nil {
		t.Fatal(err)
	}
	rep := r.verify(t, other)
	for _, asset := range []string{"manifest", "checksums", "linux-amd64", "windows-amd64"} {
		if why := failed(t, rep, asset, "signature"); !strings.Contains(why, "verification failed") {
			t.Errorf("%s: reason %q", asset, why)
		}
	}
	failed(t, rep, "linux-amd64", "attestation https://slsa.dev/provenance/v1")
	// The bytes are still right: only the signer is wrong.
	for _, c := range rep.Checks {
		if c.Check == "sha256 and size" && !c.OK {
			t.Errorf("%s: %s", c.Asset, c.Reason)
		}
	}
}

func TestManifestOfAnotherRelease(t *testing.T) {
	r := newRelease(t)
	m := r.manifest(t)
	m.Semver = "v9.9.9"
	r.serveManifest(t, m)
	if why := failed(t, r.verify(t, r.verifier), "manifest", "release identity"); !strings.Contains(why, "want ConductorOne/baton-v v1.2.3") {
		t.Errorf("reason %q", why)
	}
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestProvenanceBuilder(t *testing.T) {
	r := newRelease(t) // provenance of a local build
	if rep := r.verifyWith(t, &verify.Builder{ID: provenance.LocalBuilderID}); !rep.OK() {
		t.Fatalf("the local builder, accepted by ID:\n%s", text(rep))
	}
	for _, b := range []*verify.Builder{
		{Workflow: "relkit/relkit/.github/workflows/release.yaml", Ref: "refs/heads/main"},
		{ID: "https://github.com/relkit/relkit/.github/workflows/release.yaml@" + strings.Repeat("1", 40)},
	} {
		rep := r.verifyWith(t, b)
		for _, asset := range []string{"linux-amd64", "checksums"} {
			why := failed(t, rep, asset, "attestation https://slsa.dev/provenance/v1")
			if !strings.Contains(why, "builder.id is "+provenance.LocalBuilderID) || !strings.Contains(why, "outside the release workflow") {
				t.Errorf("%+v: %s: reason %q does not say the release was built locally", b, asset, why)
			}
		}
		for _, c := range rep.Checks {
			if !c.OK && c.Check != "attestation https://slsa.dev/provenance/v1" {
				t.Errorf("%+v: unexpected failure %+v", b, c)
			}
		}
	}
}
