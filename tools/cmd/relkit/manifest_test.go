package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// releaseDir writes linux/amd64 and darwin/arm64 archives and their
// checksums file for baton-foo v1.2.3.
func releaseDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"baton-foo-v1.2.3-linux-amd64.tar.gz": "linux\n",
		"baton-foo-v1.2.3-darwin-arm64.zip":   "darwin\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errOut := relkit("checksums", "--out", filepath.Join(dir, "baton-foo_1.2.3_checksums.txt"),
		filepath.Join(dir, "baton-foo-v1.2.3-linux-amd64.tar.gz"), filepath.Join(dir, "baton-foo-v1.2.3-darwin-arm64.zip")); code != 0 {
		t.Fatalf("checksums: exit %d: %s", code, errOut)
	}
	return dir
}

func manifestBuildArgs(dir string, extra ...string) []string {
	return append([]string{"manifest", "build", "--dir", dir, "--org", "ConductorOne", "--repo", "baton-foo",
		"--tag", "v1.2.3", "--base-url", "https://dist.example.com/"}, extra...)
}

func TestManifestBuildAndMerge(t *testing.T) {
	dir := releaseDir(t)
	code, _, errOut := relkit(manifestBuildArgs(dir, "--platforms", "linux/amd64, darwin/arm64", "--expect-attestations")...)
	if code != 0 {
		t.Fatalf("manifest build: exit %d: %s", code, errOut)
	}
	built := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"sizeBytes": "6"`,
		`"href": "https://dist.example.com/releases/ConductorOne/baton-foo/v1.2.3/baton-foo-v1.2.3-linux-amd64.tar.gz"`,
		`"bundleHref": "https://dist.example.com/releases/ConductorOne/baton-foo/v1.2.3/baton-foo-v1.2.3-linux-amd64.tar.gz.provenance.sigstore.json"`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("manifest.json lacks %s:\n%s", want, data)
		}
	}

	images := filepath.Join(t.TempDir(), "images.json")
	d := strings.Repeat("d", 64)
	if err := os.WriteFile(images, []byte(`{"images":{"ecrPublic":{"ref":"r.example/o/r:1.2.3","digest":"sha256:`+d+`","isIndex":true}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := relkit("manifest", "merge", built, images)
	if code != 0 || !strings.Contains(out, `"imageAttestation"`) {
		t.Fatalf("manifest merge: exit %d, stderr %s, stdout:\n%s", code, errOut, out)
	}

	conflict := filepath.Join(t.TempDir(), "conflict.json")
	if err := os.WriteFile(conflict, []byte(`{"images":{"ecrPublic":{"ref":"r.example/o/r:1.2.4","digest":"sha256:`+d+`"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = relkit("manifest", "merge", "--out", filepath.Join(dir, "merged.json"), built, images, conflict)
	if code != 1 || !strings.Contains(errOut, `images["ecrPublic"] differs between `+images+" and "+conflict) {
		t.Errorf("conflict: exit %d, stderr %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "merged.json")); err == nil {
		t.Error("a failed merge wrote its output")
	}
}

func TestManifestBuildErrors(t *testing.T) {
	dir := releaseDir(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{manifestBuildArgs(dir), 1, "missing archives for darwin-amd64"},
		{manifestBuildArgs(dir, "--platforms", "linux/amd64"), 1, "lists baton-foo-v1.2.3-darwin-arm64.zip, which are not assets"},
		{manifestBuildArgs(dir, "--platforms", "plan9/amd64"), 2, `platform "plan9/amd64" is not supported`},
		{manifestBuildArgs(dir, "--released-at", "today"), 2, `--released-at "today"`},
		{[]string{"manifest", "build", "--dir", dir}, 2, "missing required flag(s): --base-url, --org, --repo, --tag"},
	}
	for _, tt := range tests {
		code, _, errOut := relkit(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args[2:], code, errOut, tt.code, tt.want)
		}
	}
	if code, _, _ := relkit("manifest", "merge"); code != 2 {
		t.Errorf("merge without BASE: exit %d, want 2", code)
	}
}
