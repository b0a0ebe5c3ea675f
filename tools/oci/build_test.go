package oci

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var commitTime = time.Unix(1700000000, 0)

// testCACert is a real PEM bundle with fixed bytes: Ed25519 signatures
// need no randomness, so the certificate is the same on every run.
var testCACert = func() []byte {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relkit test CA"},
		NotBefore: commitTime, NotAfter: commitTime.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}()

// testSpec writes a binary per platform (and an extra file) under a fresh
// directory and returns a spec for them.
func testSpec(t *testing.T, ca []byte) Spec {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return Spec{
		Name: "baton-foo",
		Binaries: map[Platform]string{
			LinuxAMD64: write("amd64", "\x7fELF amd64 binary", 0o700),
			LinuxARM64: write("arm64", "\x7fELF arm64 binary", 0o600),
		},
		CACerts: ca,
		Files:   []File{{Src: write("conf", "key: value\n", 0o600), Dest: "/etc/baton/default.yaml"}},
		Env:     []string{"BATON_MODE=server"},
		Labels:  Labels(commitTime, "baton-foo", strings.Repeat("a", 40), "1.2.3", "https://github.com/acme/baton-foo", "ConductorOne Baton connector"),
		Created: commitTime,
	}
}

func TestBuildIsReproducible(t *testing.T) {
	var got []string
	for range 2 {
		// Fresh files at other paths, with other modes and times.
		idx, err := BuildIndex(testSpec(t, testCACert))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Summarize(Artifact{Index: idx})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(s, "", "  ")
		got = append(got, string(b)+"\n")
	}
	if got[0] != got[1] {
		t.Fatalf("two builds differ:\n%s\n%s", got[0], got[1])
	}
	golden := filepath.Join("testdata", "index.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got[0]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got[0] != string(want) {
		t.Errorf("digests changed (a toolchain or format change breaks reproducibility; -update if intended):\ngot  %s\nwant %s", got[0], want)
	}
}

func TestLayoutRoundTripIsReproducible(t *testing.T) {
	spec := testSpec(t, testCACert)
	idx, err := BuildIndex(spec)
	if err != nil {
		t.Fatal(err)
	}
	var indexJSON [][]byte
	for _, dir := range []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")} {
		if err := WriteLayout(dir, Artifact{Index: idx}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		indexJSON = append(indexJSON, b)
		back, err := ReadLayout(dir)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := idx.Digest()
		if got, _ := back.Digest(); got != want || back.Index == nil {
			t.Errorf("layout %s holds %v, want index %s", dir, got, want)
		}
	}
	if !bytes.Equal(indexJSON[0], indexJSON[1]) {
		t.Errorf("index.json differs between layouts:\n%s\n%s", indexJSON[0], indexJSON[1])
	}
}

func TestDefaultBaseImage(t *testing.T) {
	spec := testSpec(t, testCACert)
	idx, err := BuildIndex(spec)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := idx.RawManifest()
	if strings.Contains(string(raw), "artifactType") {
		t.Errorf("index descriptors carry artifactType: %s", raw)
	}
	im, _ := idx.IndexManifest()
	var plats []string
	for _, d := range im.Manifests {
		plats = append(plats, d.Platform.OS+"/"+d.Platform.Architecture+d.Platform.Variant)
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: media type %s", d.Digest, d.MediaType)
		}
	}
	if want := []string{"linux/amd64", "linux/arm64v8"}; !slices.Equal(plats, want) {
		t.Errorf("platforms %v, want %v", plats, want)
	}

	img, err := idx.Image(im.Manifests[1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/baton-foo"}) || c.Cmd != nil {
		t.Errorf("user %q entrypoint %q cmd %q", c.User, c.Entrypoint, c.Cmd)
	}
	if !cf.Created.Time.Equal(commitTime) || c.Labels[LabelCreated] != "2023-11-14T22:13:20Z" || c.Labels[LabelVersion] != "1.2.3" {
		t.Errorf("created %s, labels %v", cf.Created, c.Labels)
	}
	if !slices.Contains(c.Env, "BATON_MODE=server") {
		t.Errorf("env %v", c.Env)
	}

	files := imageFiles(t, img)
	bin := files["baton-foo"]
	if string(bin.data) != "\x7fELF arm64 binary" || bin.Mode != 0o755 || bin.Uid != 0 || !bin.ModTime.Equal(commitTime) {
		t.Errorf("/baton-foo: %q mode %o uid %d time %s", bin.data, bin.Mode, bin.Uid, bin.ModTime)
	}
	if f := files["etc/baton/default.yaml"]; string(f.data) != "key: value\n" || f.Mode != 0o644 {
		t.Errorf("extra file: %q mode %o", f.data, f.Mode)
	}
	if f := files["etc/ssl/certs/ca-certificates.crt"]; !bytes.Equal(f.data, testCACert) {
		t.Errorf("CA bundle not installed")
	}
	if f := files["etc/passwd"]; !strings.Contains(string(f.data), "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n") {
		t.Errorf("/etc/passwd: %q", f.data)
	}
	if f, ok := files["home/nonroot"]; !ok || f.Uid != NonrootUID || f.Typeflag != tar.TypeDir || f.Mode != 0o700 {
		t.Errorf("/home/nonroot: %+v", f.Header)
	}
	for name := range files {
		if strings.HasPrefix(name, "bin/") || strings.HasSuffix(name, "/sh") {
			t.Errorf("image has %s; want no shell", name)
		}
	}
}

func TestLambdaImageUsesDockerMediaTypes(t *testing.T) {
	spec := testSpec(t, testCACert)
	spec.Format = Docker
	spec.Entrypoint = []string{"/baton-foo", "lambda"}
	img, err := BuildImage(spec, LinuxARM64)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.DockerManifestSchema2 || m.Config.MediaType != types.DockerConfigJSON {
		t.Errorf("manifest %s config %s", m.MediaType, m.Config.MediaType)
	}
	for _, l := range m.Layers {
		if l.MediaType != types.DockerLayer {
			t.Errorf("layer %s", l.MediaType)
		}
	}
	if _, err := BuildIndex(spec); err == nil {
		t.Error("BuildIndex with Docker media types: no error")
	}
}

func TestPinnedBase(t *testing.T) {
	// A base with only linux/amd64, in an OCI layout.
	baseSpec := testSpec(t, testCACert)
	delete(baseSpec.Binaries, LinuxARM64)
	baseSpec.Env = []string{"FROM_BASE=1"}
	baseIdx, err := BuildIndex(baseSpec)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "base")
	if err := WriteLayout(dir, Artifact{Index: baseIdx}); err != nil {
		t.Fatal(err)
	}
	baseDigest, _ := baseIdx.Digest()

	spec := testSpec(t, nil)
	spec.Bases = []Base{{Path: dir, Digest: baseDigest}}
	img, err := BuildImage(spec, LinuxAMD64)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if !slices.Contains(cf.Config.Env, "FROM_BASE=1") || len(cf.RootFS.DiffIDs) != 3 {
		t.Errorf("env %v, %d layers; want the base's env and 2+1 layers", cf.Config.Env, len(cf.RootFS.DiffIDs))
	}

	_, err = BuildImage(spec, LinuxARM64)
	if err == nil || !strings.Contains(err.Error(), "no image for linux/arm64") || !strings.Contains(err.Error(), "found: linux/amd64") {
		t.Errorf("base without arm64: got %v", err)
	}

	other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}
	spec.Bases = []Base{{Path: dir, Digest: other}}
	if _, err := BuildImage(spec, LinuxAMD64); err == nil || !strings.Contains(err.Error(), "not in the layout") {
		t.Errorf("unpinned digest: got %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"missing binary", func(s *Spec) { s.Binaries[LinuxAMD64] = "/nonexistent/baton-foo" }, "binary for linux/amd64: read /nonexistent/baton-foo"},
		{"no CA bundle", func(s *Spec) { s.CACerts = nil }, "CA bundle: no PEM certificates"},
		{"not certificates", func(s *Spec) { s.CACerts = []byte("hello") }, "not PEM"},
		{"relative file destination", func(s *Spec) { s.Files[0].Dest = "etc/x" }, "want an absolute clean path"},
		{"file over binary", func(s *Spec) { s.Files[0].Dest = "/baton-foo" }, "/baton-foo is in the image twice"},
		{"bad env", func(s *Spec) { s.Env = []string{"NOVALUE"} }, `env "NOVALUE": want KEY=VALUE`},
		{"no time", func(s *Spec) { s.Created = time.Time{} }, "no creation time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec(t, testCACert)
			tc.edit(&spec)
			_, err := BuildIndex(spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

type tarFile struct {
	*tar.Header
	data []byte
}

// imageFiles flattens img's layers into its file system.
func imageFiles(t *testing.T, img v1.Image) map[string]tarFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := make(map[string]tarFile)
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = tarFile{h, data}
	}
}

func FuzzParseBase(f *testing.F) {
	f.Add("base@sha256:" + strings.Repeat("a", 64))
	f.Add("dir/layout@sha256:abc")
	f.Add("@")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBase(s)
		if err != nil {
			return
		}
		if b.String() != s {
			t.Errorf("ParseBase(%q).String() = %q", s, b.String())
		}
	})
}
