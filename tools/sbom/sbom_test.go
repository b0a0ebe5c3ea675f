package sbom

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/pkg"
)

var (
	created = time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	opts    = Options{Created: created, MainVersion: "v1.2.3"}
)

// document is the part of an SPDX 2.3 JSON document the tests read.
type document struct {
	SPDXVersion  string `json:"spdxVersion"`
	Name         string `json:"name"`
	Namespace    string `json:"documentNamespace"`
	CreationInfo struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []struct {
		Name         string `json:"name"`
		SPDXID       string `json:"SPDXID"`
		Version      string `json:"versionInfo"`
		ExternalRefs []struct {
			Type    string `json:"referenceType"`
			Locator string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
	Files []struct {
		Name string `json:"fileName"`
	} `json:"files"`
	Relationships []struct {
		A    string `json:"spdxElementId"`
		Type string `json:"relationshipType"`
		B    string `json:"relatedSpdxElement"`
	} `json:"relationships"`
}

func parse(t *testing.T, data []byte) document {
	t.Helper()
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("SBOM is not JSON: %v", err)
	}
	return doc
}

// goPackages lists "name version purl" for each package with a golang purl.
func goPackages(doc document) []string {
	var out []string
	for _, p := range doc.Packages {
		for _, r := range p.ExternalRefs {
			if r.Type == "purl" && strings.HasPrefix(r.Locator, "pkg:golang/") {
				out = append(out, p.Name+" "+p.Version+" "+r.Locator)
			}
		}
	}
	slices.Sort(out)
	return out
}

var helloOnce = sync.OnceValues(buildHello)

// helloBinary builds testdata/hello once per test run, offline, from the
// module cache that go.mod already populated.
func helloBinary(t *testing.T) []byte {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found: needed to build the Go binary under test")
	}
	data, err := helloOnce()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func buildHello() ([]byte, error) {
	dir, err := os.MkdirTemp("", "sbom-hello-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS("testdata/hello")); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-X main.version=v1.2.3", "-o", "hello", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build testdata/hello: %v\n%s", err, out)
	}
	return os.ReadFile(filepath.Join(dir, "hello"))
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func tarGz(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		hdr := &tar.Header{Name: name, Mode: 0o755, Size: int64(len(files[name])), ModTime: created, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: created}
		hdr.SetMode(0o755)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func generate(t *testing.T, path string) []byte {
	t.Helper()
	data, err := Generate(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Generate(%s): %v", path, err)
	}
	return data
}

func TestGenerateGoBinary(t *testing.T) {
	bin := helloBinary(t)
	path := writeFile(t, filepath.Join(t.TempDir(), "hello"), bin)
	doc := parse(t, generate(t, path))

	if doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("spdxVersion = %q, want SPDX-2.3", doc.SPDXVersion)
	}
	if doc.Name != "hello" {
		t.Errorf("name = %q, want the artifact basename hello", doc.Name)
	}
	sum := sha256.Sum256(bin)
	if want := "https://spdx.relkit.dev/hello-sha256-" + hex.EncodeToString(sum[:]); doc.Namespace != want {
		t.Errorf("documentNamespace = %q, want %q", doc.Namespace, want)
	}
	if want := "2024-01-02T02:04:05Z"; doc.CreationInfo.Created != want {
		t.Errorf("created = %q, want %q (Options.Created in UTC)", doc.CreationInfo.Created, want)
	}
	if want := []string{"Tool: relkit", "Tool: syft-" + syftVersion}; !slices.Equal(doc.CreationInfo.Creators, want) {
		t.Errorf("creators = %q, want %q", doc.CreationInfo.Creators, want)
	}

	pkgs := goPackages(doc)
	for _, want := range []string{
		"example.com/hello v1.2.3 pkg:golang/example.com/hello@v1.2.3",
		"github.com/google/uuid v1.6.0 pkg:golang/github.com/google/uuid@v1.6.0",
	} {
		if !slices.Contains(pkgs, want) {
			t.Errorf("Go packages %q lack %q", pkgs, want)
		}
	}
	if !slices.ContainsFunc(pkgs, func(p string) bool { return strings.HasPrefix(p, "stdlib go1.") }) {
		t.Errorf("Go packages %q lack the standard library", pkgs)
	}
}

// TestMainVersionUnknown: a -trimpath build records no main module version
// (not even one set with -ldflags -X), and none is made up.
func TestMainVersionUnknown(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "hello"), helloBinary(t))
	data, err := Generate(context.Background(), path, Options{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	pkgs := goPackages(parse(t, data))
	if want := "example.com/hello UNKNOWN pkg:golang/example.com/hello"; !slices.Contains(pkgs, want) {
		t.Errorf("Go packages %q lack %q", pkgs, want)
	}
}

func TestSetMainVersionKeepsRecordedVersion(t *testing.T) {
	recorded := pkg.Package{
		Name:     "example.com/hello",
		Version:  "v1.0.0",
		Type:     pkg.GoModulePkg,
		PURL:     "pkg:golang/example.com/hello@v1.0.0",
		Metadata: pkg.GolangBinaryBuildinfoEntry{MainModule: "example.com/hello"},
	}
	dep := pkg.Package{
		Name:     "github.com/google/uuid",
		Version:  "UNKNOWN",
		Type:     pkg.GoModulePkg,
		PURL:     "pkg:golang/github.com/google/uuid",
		Metadata: pkg.GolangBinaryBuildinfoEntry{MainModule: "example.com/hello"},
	}
	recorded.SetID()
	dep.SetID()
	c := pkg.NewCollection(recorded, dep)
	setMainVersion(c, "v1.2.3")
	for _, p := range c.Sorted() {
		if p.Version != "v1.0.0" && p.Version != "UNKNOWN" {
			t.Errorf("%s: version %q changed: only a main module without a version gets one", p.Name, p.Version)
		}
	}
}

// TestConsumersSeePackages reads the document back with syft's SPDX decoder,
// which grype uses too: it drops any package that is the target of a
// GENERATED_FROM relationship, so every Go package must survive the trip.
func TestConsumersSeePackages(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "hello"), helloBinary(t))
	data := generate(t, path)
	doc := parse(t, data)

	s, _, version, err := spdxjson.NewFormatDecoder().Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("syft cannot decode the document: %v", err)
	}
	if version != "2.3" {
		t.Errorf("syft decoded SPDX version %q, want 2.3", version)
	}
	var decoded []string
	for _, p := range s.Artifacts.Packages.Sorted(pkg.GoModulePkg) {
		decoded = append(decoded, p.Name+" "+p.Version+" "+p.PURL)
	}
	slices.Sort(decoded)
	if want := goPackages(doc); !slices.Equal(decoded, want) {
		t.Errorf("syft's SPDX reader sees Go packages\n%q\nwant\n%q", decoded, want)
	}

	pkgIDs := map[string]bool{}
	for _, p := range doc.Packages {
		pkgIDs[p.SPDXID] = true
	}
	for _, r := range doc.Relationships {
		if r.Type == "GENERATED_FROM" && pkgIDs[r.B] {
			t.Errorf("relationship %s GENERATED_FROM %s hides package %s from SPDX readers", r.A, r.B, r.B)
		}
	}
	describes := false
	for _, r := range doc.Relationships {
		describes = describes || r.A == "SPDXRef-DOCUMENT" && r.Type == "DESCRIBES"
	}
	if !describes {
		t.Error("no DOCUMENT DESCRIBES relationship")
	}
}

func TestGenerateArchives(t *testing.T) {
	bin := helloBinary(t)
	dir := t.TempDir()
	want := goPackages(parse(t, generate(t, writeFile(t, filepath.Join(dir, "hello"), bin))))
	files := map[string][]byte{"hello": bin, "README.md": []byte("# hello\n")}

	for name, data := range map[string][]byte{
		"hello-v1.2.3-linux-amd64.tar.gz": tarGz(t, files),
		"hello-v1.2.3-darwin-arm64.zip":   zipOf(t, files),
	} {
		t.Run(name, func(t *testing.T) {
			doc := parse(t, generate(t, writeFile(t, filepath.Join(dir, name), data)))
			if doc.Name != name {
				t.Errorf("name = %q, want %q", doc.Name, name)
			}
			if got := goPackages(doc); !slices.Equal(got, want) {
				t.Errorf("Go packages from %s:\n%q\nwant the binary's:\n%q", name, got, want)
			}
			var names []string
			for _, f := range doc.Files {
				names = append(names, f.Name)
			}
			if !slices.Contains(names, "hello") {
				t.Errorf("files %q lack the binary hello", names)
			}
		})
	}
}

// TestDeterministic generates the SBOM of the same bytes from different
// directories, working directories and temporary directories: the outputs
// must be identical and hold none of those paths.
func TestDeterministic(t *testing.T) {
	bin := helloBinary(t)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"hello", bin},
		{"hello-v1.2.3-linux-amd64.tar.gz", tarGz(t, map[string][]byte{"hello": bin})},
		{"hello-v1.2.3-windows-amd64.zip", zipOf(t, map[string][]byte{"hello.exe": bin})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var outs [][]byte
			var paths []string
			for i, useRelative := range []bool{false, true} {
				dir := t.TempDir()
				tmp := filepath.Join(dir, "tmp")
				if err := os.Mkdir(tmp, 0o755); err != nil {
					t.Fatal(err)
				}
				t.Setenv("TMPDIR", tmp)
				art := writeFile(t, filepath.Join(dir, "in", "copy"+string(rune('a'+i)), tc.name), tc.data)
				arg := art
				if useRelative {
					t.Chdir(filepath.Join(dir, "in"))
					arg = filepath.Join("copyb", tc.name)
				} else {
					t.Chdir(dir)
				}
				outs = append(outs, generate(t, arg))
				paths = append(paths, dir)
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Errorf("same bytes, different SBOMs:\n%s\n---\n%s", outs[0], outs[1])
			}
			for _, s := range jsonStrings(t, outs[0]) {
				for _, p := range append(paths, os.TempDir(), "/tmp/", "syft-archive-contents") {
					if strings.Contains(s, p) {
						t.Errorf("SBOM string %q contains host or temporary path %q", s, p)
					}
				}
			}
		})
	}
}

// jsonStrings returns every string, keys included, in a JSON document.
func jsonStrings(t *testing.T, data []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func TestGenerateErrors(t *testing.T) {
	dir := t.TempDir()
	corruptGz := tarGz(t, map[string][]byte{"hello": bytes.Repeat([]byte("x"), 1<<16)})
	corruptGz = corruptGz[:len(corruptGz)/2]
	for _, tc := range []struct {
		name, path string
		want       string
	}{
		{"missing", filepath.Join(dir, "missing.tar.gz"), "no such file"},
		{"not Go", writeFile(t, filepath.Join(dir, "notes.txt"), []byte("release notes\n")), "no Go build information"},
		{"archive without Go", writeFile(t, filepath.Join(dir, "docs.zip"), zipOf(t, map[string][]byte{"README.md": []byte("hi\n")})), "no Go build information"},
		{"corrupt tar.gz", writeFile(t, filepath.Join(dir, "bad.tar.gz"), corruptGz), "bad.tar.gz"},
		{"corrupt zip", writeFile(t, filepath.Join(dir, "bad.zip"), []byte("PK\x03\x04 not really a zip")), "bad.zip"},
		{"directory", dir, dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(context.Background(), tc.path, opts)
			if err == nil {
				t.Fatalf("Generate(%s) succeeded, want an error", tc.path)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.path) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q should name %s and say %q", msg, tc.path, tc.want)
			}
		})
	}
}

func TestGenerateNeedsCreated(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "hello"), []byte("x"))
	if _, err := Generate(context.Background(), path, Options{}); err == nil {
		t.Fatal("Generate without Options.Created succeeded")
	}
}

func TestGenerateAs(t *testing.T) {
	dir := t.TempDir()
	bin := helloBinary(t)
	path := writeFile(t, filepath.Join(dir, "build-output"), bin)
	got, err := GenerateAs(context.Background(), path, "hello", opts)
	if err != nil {
		t.Fatal(err)
	}
	// The same document as the binary named hello gives.
	want := generate(t, writeFile(t, filepath.Join(t.TempDir(), "hello"), bin))
	if !bytes.Equal(got, want) {
		t.Error("GenerateAs differs from Generate of the file under that name")
	}

	for _, name := range []string{"", ".", "..", "a/b", "/abs"} {
		if _, err := GenerateAs(context.Background(), path, name, opts); err == nil || !strings.Contains(err.Error(), "is not a file name") {
			t.Errorf("GenerateAs(%q): %v; want a file-name error", name, err)
		}
	}
	// Errors name the caller's file, not the temporary copy.
	notGo := writeFile(t, filepath.Join(dir, "notes.txt"), []byte("notes"))
	if _, err := GenerateAs(context.Background(), notGo, "hello", opts); err == nil || !strings.HasPrefix(err.Error(), notGo+": no Go build information") {
		t.Errorf("GenerateAs of a non-Go file: %v; want it to name %s", err, notGo)
	}
}

func TestPrepare(t *testing.T) {
	// A prepared context changes the cost, never the document.
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, "hello"), helloBinary(t))
	ctx, err := Prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		got, err := Generate(ctx, path, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, generate(t, path)) {
			t.Fatalf("document %d from a prepared context differs from an unprepared one", i)
		}
	}
}
