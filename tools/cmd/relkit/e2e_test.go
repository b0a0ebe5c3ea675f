package main

// End-to-end: the relkit binary as users run it, on the example connector
// cross-compiled for every default platform.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/relkit/relkit/tools/release"
)

const (
	exampleOrg    = "ConductorOne"
	exampleRepo   = "baton-example"
	exampleTag    = "v1.2.3-rc.1"
	exampleEpoch  = "1767225600" // 2026-01-01T00:00:00Z
	exampleCommit = "0123456789abcdef0123456789abcdef01234567"
	exampleBase   = "https://dist.example.com"
)

var (
	relkitOnce sync.Once
	relkitBin  string
	relkitErr  error
)

// TestMain removes the relkit binary that relkitBinary built (about 90 MB)
// once the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if relkitBin != "" {
		os.RemoveAll(filepath.Dir(relkitBin))
	}
	os.Exit(code)
}

// relkitBinary builds the CLI once per test run.
func relkitBinary(t *testing.T) string {
	t.Helper()
	relkitOnce.Do(func() {
		dir, err := os.MkdirTemp("", "relkit-bin-")
		if err != nil {
			relkitErr = err
			return
		}
		relkitBin = filepath.Join(dir, "relkit")
		out, err := exec.Command("go", "build", "-o", relkitBin, ".").CombinedOutput()
		if err != nil {
			relkitErr = fmt.Errorf("go build relkit: %v\n%s", err, out)
		}
	})
	if relkitErr != nil {
		t.Fatal(relkitErr)
	}
	return relkitBin
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// crossCompile builds the example connector for p the way a release does.
func crossCompile(t *testing.T, out string, p release.Platform) {
	t.Helper()
	ldflags := "-s -w -buildid= -X main.version=" + strings.TrimPrefix(exampleTag, "v") +
		" -X main.commit=" + exampleCommit + " -X main.date=2026-01-01T00:00:00Z"
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./cmd/baton-example")
	cmd.Dir = filepath.Join(repoRoot(t), "examples", "baton-example")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch, "GOFLAGS=-mod=mod", "GOPROXY=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", p, err, b)
	}
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(relkitBinary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("relkit %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// packageRelease makes the unsigned release tree for the example in dir from
// binaries in binDir, using only the relkit CLI.
func packageRelease(t *testing.T, binDir, dir string) {
	t.Helper()
	tag, _ := release.ParseTag(exampleTag)
	var archives []string
	for _, p := range release.DefaultPlatforms {
		name := release.ArchiveName(exampleRepo, tag, p)
		bin := filepath.Join(binDir, p.Key(), p.BinaryName(exampleRepo))
		run(t, dir, "archive", "--format", p.ArchiveFormat(), "--mtime", exampleEpoch, "--out", name, bin)
		run(t, dir, "sbom", "--epoch", exampleEpoch, "--out", name+release.SBOMSuffix, name)
		archives = append(archives, name)
	}
	run(t, dir, append([]string{"checksums", "--out", release.ChecksumsName(exampleRepo, tag)}, archives...)...)
	prov := []string{"provenance", "--out", "provenance.intoto.json",
		"--repository", exampleOrg + "/" + exampleRepo, "--tag", exampleTag, "--commit", exampleCommit}
	for _, a := range archives {
		prov = append(prov, "--subject", a)
	}
	run(t, dir, prov...)
	run(t, dir, "manifest", "build", "--dir", ".", "--org", exampleOrg, "--repo", exampleRepo,
		"--tag", exampleTag, "--base-url", exampleBase)
}

func buildBinaries(t *testing.T) string {
	t.Helper()
	binDir := t.TempDir()
	for _, p := range release.DefaultPlatforms {
		crossCompile(t, filepath.Join(binDir, p.Key(), p.BinaryName(exampleRepo)), p)
	}
	return binDir
}

func TestReleaseEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles six binaries")
	}
	if _, err := exec.LookPath("file"); err != nil {
		t.Fatal("the 'file' command is needed (Debian package file; scripts/setup.sh installs it)")
	}
	binDir := buildBinaries(t)
	dir := t.TempDir()
	packageRelease(t, binDir, dir)
	tag, _ := release.ParseTag(exampleTag)

	// Names as the previous pipeline published them, plus windows/arm64.
	want := []string{
		"baton-example-v1.2.3-rc.1-darwin-amd64.zip",
		"baton-example-v1.2.3-rc.1-darwin-arm64.zip",
		"baton-example-v1.2.3-rc.1-linux-amd64.tar.gz",
		"baton-example-v1.2.3-rc.1-linux-arm64.tar.gz",
		"baton-example-v1.2.3-rc.1-windows-amd64.zip",
		"baton-example-v1.2.3-rc.1-windows-arm64.zip",
	}
	checksums := readFile(t, filepath.Join(dir, "baton-example_1.2.3-rc.1_checksums.txt"))
	var lines []string
	for i, a := range want {
		sum := sha256File(t, filepath.Join(dir, a))
		lines = append(lines, sum+"  "+a)
		checkBinary(t, filepath.Join(dir, a), release.DefaultPlatforms[i])
	}
	if got := strings.Join(lines, "\n") + "\n"; string(checksums) != got {
		t.Errorf("checksums file:\n%s\nwant:\n%s", checksums, got)
	}

	var m struct {
		Version string `json:"version"`
		Name    string `json:"name"`
		Org     string `json:"org"`
		Semver  string `json:"semver"`
		Assets  map[string]struct {
			Filename  string `json:"filename"`
			MediaType string `json:"mediaType"`
			SizeBytes any    `json:"sizeBytes"`
			SHA256    string `json:"sha256"`
			Href      string `json:"href"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "manifest.json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != "2" || m.Name != exampleRepo || m.Org != exampleOrg || m.Semver != exampleTag {
		t.Errorf("manifest header = %q %q %q %q", m.Version, m.Name, m.Org, m.Semver)
	}
	var keys []string
	for k := range m.Assets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wantKeys := "checksums darwin-amd64 darwin-arm64 linux-amd64 linux-arm64 windows-amd64 windows-arm64"
	if strings.Join(keys, " ") != wantKeys {
		t.Errorf("manifest asset keys = %v, want %s", keys, wantKeys)
	}
	base := exampleBase + "/releases/" + exampleOrg + "/" + exampleRepo + "/" + exampleTag + "/"
	for i, p := range release.DefaultPlatforms {
		a := m.Assets[p.Key()]
		if a.Filename != want[i] || a.Href != base+want[i] || a.SHA256 != sha256File(t, filepath.Join(dir, want[i])) {
			t.Errorf("asset %s = %+v", p.Key(), a)
		}
		if _, ok := a.SizeBytes.(string); !ok {
			t.Errorf("asset %s sizeBytes is %T, want a JSON string", p.Key(), a.SizeBytes)
		}
		wantType := map[string]string{"zip": "application/zip", "tar.gz": "application/gzip"}[p.ArchiveFormat()]
		if a.MediaType != wantType {
			t.Errorf("asset %s mediaType = %q, want %q", p.Key(), a.MediaType, wantType)
		}
	}
	if c := m.Assets["checksums"]; c.Filename != release.ChecksumsName(exampleRepo, tag) || c.MediaType != "text/plain" {
		t.Errorf("checksums asset = %+v", c)
	}

	// Provenance names every archive with its digest.
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "provenance.intoto.json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != "https://slsa.dev/provenance/v1" || len(st.Subject) != len(want) {
		t.Fatalf("provenance statement = %+v", st)
	}
	for i, s := range st.Subject {
		if s.Name != want[i] || s.Digest["sha256"] != sha256File(t, filepath.Join(dir, want[i])) {
			t.Errorf("provenance subject %d = %+v", i, s)
		}
	}

	// Each SBOM describes the connector module it was made from.
	for _, a := range want {
		sbom := string(readFile(t, filepath.Join(dir, a+release.SBOMSuffix)))
		if !strings.Contains(sbom, `"spdxVersion": "SPDX-2.3"`) || !strings.Contains(sbom, "example.com/baton-example") {
			t.Errorf("%s.sbom.json does not describe the example module", a)
		}
	}
}

func TestReleaseIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles six binaries")
	}
	binDir := buildBinaries(t)
	// Same inputs, different working directories and temp paths.
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "elsewhere", "deeper")
	if err := os.MkdirAll(b, 0o755); err != nil {
		t.Fatal(err)
	}
	binCopy := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(binCopy, os.DirFS(binDir)); err != nil {
		t.Fatal(err)
	}
	packageRelease(t, binDir, a)
	packageRelease(t, binCopy, b)
	ta, tb := treeDigests(t, a), treeDigests(t, b)
	if len(ta) == 0 {
		t.Fatal("empty release tree")
	}
	for name, d := range ta {
		if tb[name] != d {
			t.Errorf("%s differs between two builds from different paths", name)
		}
	}
	if len(ta) != len(tb) {
		t.Errorf("trees have %d and %d files", len(ta), len(tb))
	}
}

func treeDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[e.Name()] = sha256File(t, filepath.Join(dir, e.Name()))
	}
	return out
}

// checkBinary extracts the single binary from an archive and checks with
// file(1) that it is an executable for p.
func checkBinary(t *testing.T, archivePath string, p release.Platform) {
	t.Helper()
	name, data := onlyEntry(t, archivePath)
	if name != p.BinaryName(exampleRepo) {
		t.Errorf("%s holds %q, want %q", filepath.Base(archivePath), name, p.BinaryName(exampleRepo))
	}
	tmp := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("file", "-b", tmp).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"linux/amd64":   "ELF 64-bit LSB executable, x86-64",
		"linux/arm64":   "ELF 64-bit LSB executable, ARM aarch64",
		"darwin/amd64":  "Mach-O 64-bit x86_64 executable",
		"darwin/arm64":  "Mach-O 64-bit arm64 executable",
		"windows/amd64": "PE32+ executable (console) x86-64",
		"windows/arm64": "PE32+ executable (console) Aarch64",
	}[p.String()]
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("file %s: %q, want prefix %q", name, out, want)
	}
	if p.String() == runtime.GOOS+"/"+runtime.GOARCH {
		v, err := exec.Command(tmp, "version").Output()
		if err != nil || !strings.Contains(string(v), "1.2.3-rc.1") {
			t.Errorf("%s version = %q, %v", name, v, err)
		}
	}
}

func onlyEntry(t *testing.T, path string) (string, []byte) {
	t.Helper()
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		if len(zr.File) != 1 {
			t.Fatalf("%s has %d entries, want 1", path, len(zr.File))
		}
		f := zr.File[0]
		if f.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v, want 0755", f.Name, f.Mode())
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return f.Name, data
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if h.Mode != 0o755 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.ModTime.Unix() != 1767225600 {
		t.Errorf("%s: header %+v", h.Name, h)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Fatalf("%s has more than one entry", path)
	}
	return h.Name, data
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(readFile(t, path))
	return hex.EncodeToString(sum[:])
}
