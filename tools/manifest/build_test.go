package manifest

import (
	"bytes"
	"context"
	"github.com/relkit/relkit/tools/testutil/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/release"
)

const (
	testOrg  = "ConductorOne"
	testRepo = "baton-foo"
	testTag  = "v1.2.3"
	testBase = "https://dist.example.com/"
)

// tree writes a release directory: an archive per default platform, the
// amd64 installer, an SBOM per archive and installer, and the checksums
// file over them. File content is fixed, so digests are too.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tag, err := release.ParseTag(testTag)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, p := range release.DefaultPlatforms {
		files = append(files, release.ArchiveName(testRepo, tag, p))
	}
	files = append(files, release.MSIName(testRepo, tag, "amd64"))
	for _, f := range files {
		writeFile(t, dir, f, "content of "+f+"\n")
		writeFile(t, dir, f+release.SBOMSuffix, `{"spdxVersion":"SPDX-2.3"}`+"\n")
	}
	writeChecksums(t, dir, files...)
	return dir
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeChecksums(t *testing.T, dir string, names ...string) {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(dir, n))
	}
	lines, err := checksum.Files(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := checksum.Write(&buf, lines); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, testRepo+"_1.2.3_checksums.txt", buf.String())
}

func opts(dir string) BuildOptions {
	return BuildOptions{Dir: dir, Org: testOrg, Repo: testRepo, Tag: testTag, BaseURL: testBase}
}

func build(t *testing.T, o BuildOptions) []byte {
	t.Helper()
	m, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBuildGolden(t *testing.T) {
	o := opts(tree(t))
	o.ExpectAttestations = true
	golden.Check(t, "build-expect", build(t, o))
}

func TestBuildGoldenSubsetWithBundle(t *testing.T) {
	dir := t.TempDir()
	tag, _ := release.ParseTag(testTag)
	linux := release.ArchiveName(testRepo, tag, release.Platform{OS: "linux", Arch: "amd64"})
	darwin := release.ArchiveName(testRepo, tag, release.Platform{OS: "darwin", Arch: "arm64"})
	writeFile(t, dir, linux, "linux\n")
	writeFile(t, dir, darwin, "darwin\n")
	writeFile(t, dir, linux+release.ProvenanceSuffix, "{}\n")
	writeChecksums(t, dir, linux, darwin)

	o := opts(dir)
	o.Platforms = []release.Platform{{OS: "linux", Arch: "amd64"}, {OS: "darwin", Arch: "arm64"}}
	o.ReleasedAt = time.Date(2026, 5, 6, 19, 41, 9, 123456789, time.FixedZone("CEST", 2*3600))
	golden.Check(t, "build-subset", build(t, o))
}

func TestBuildIsDeterministicAcrossDirectories(t *testing.T) {
	first := build(t, opts(tree(t)))

	parent := t.TempDir()
	dir := tree(t)
	target := filepath.Join(parent, "elsewhere", "dist")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, target); err != nil {
		t.Fatal(err)
	}
	t.Chdir(parent)
	second := build(t, opts(filepath.Join("elsewhere", "dist")))
	if !bytes.Equal(first, second) {
		t.Errorf("same content in another directory gave different bytes:\n%s\n---\n%s", first, second)
	}
}

func TestBuildWithoutBundlesDeclaresNone(t *testing.T) {
	m, err := Build(context.Background(), opts(tree(t)))
	if err != nil {
		t.Fatal(err)
	}
	for k, a := range m.Assets {
		if len(a.Attestations) != 0 {
			t.Errorf("%s has attestations %v without bundles or ExpectAttestations", k, a.Attestations)
		}
	}
	if m.AssetAttestation != nil || m.ImageAttestation != nil {
		t.Errorf("summaries set without attestations: %+v %+v", m.AssetAttestation, m.ImageAttestation)
	}
	if !m.ReleasedAt.IsZero() {
		t.Errorf("releasedAt = %v, want unset", m.ReleasedAt)
	}
}

// The contract with publishing: the declared bundles are exactly the ones a
// signed tree holds.
func TestBuildExpectedAttestationsMatchSignedTree(t *testing.T) {
	dir := tree(t)
	o := opts(dir)
	o.ExpectAttestations = true
	declared := build(t, o)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, release.SBOMSuffix) {
			writeFile(t, dir, strings.TrimSuffix(name, release.SBOMSuffix)+release.SBOMBundleSuffix, "{}")
		} else {
			writeFile(t, dir, name+release.ProvenanceSuffix, "{}")
		}
	}
	signed := build(t, opts(dir))
	if !bytes.Equal(declared, signed) {
		t.Errorf("declared attestations differ from the signed tree's:\n%s\n---\n%s", declared, signed)
	}
	again := build(t, o)
	if !bytes.Equal(declared, again) {
		t.Error("ExpectAttestations on the signed tree declares more than it holds")
	}
}

func TestBuildMissingPlatformsAndSkip(t *testing.T) {
	dir := tree(t)
	tag, _ := release.ParseTag(testTag)
	for _, p := range []release.Platform{{OS: "windows", Arch: "arm64"}, {OS: "darwin", Arch: "amd64"}} {
		if err := os.Remove(filepath.Join(dir, release.ArchiveName(testRepo, tag, p))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Build(context.Background(), opts(dir))
	if err == nil {
		t.Fatal("missing archives accepted")
	}
	for _, want := range []string{"darwin-amd64 (baton-foo-v1.2.3-darwin-amd64.zip)", "windows-arm64 (baton-foo-v1.2.3-windows-arm64.zip)", "--skip darwin-amd64,windows-arm64 if"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	// Skipping them is not enough while the checksums file still lists them.
	o := opts(dir)
	o.Skip = []string{"windows-arm64", "darwin-amd64"}
	_, err = Build(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "lists baton-foo-v1.2.3-darwin-amd64.zip, baton-foo-v1.2.3-windows-arm64.zip, which are not assets") {
		t.Fatalf("err = %v, want the stale checksums lines named", err)
	}

	var names []string
	for _, p := range []release.Platform{{OS: "darwin", Arch: "arm64"}, {OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}, {OS: "windows", Arch: "amd64"}} {
		names = append(names, release.ArchiveName(testRepo, tag, p))
	}
	writeChecksums(t, dir, append(names, release.MSIName(testRepo, tag, "amd64"))...)
	m, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"darwin-amd64", "windows-arm64"} {
		if _, ok := m.Assets[k]; ok {
			t.Errorf("skipped key %s is in the manifest", k)
		}
	}
	if len(m.Assets) != 6 {
		t.Errorf("got %d assets, want 4 archives, the installer and checksums", len(m.Assets))
	}
}

func TestBuildSkipUnknownKey(t *testing.T) {
	o := opts(tree(t))
	o.Skip = []string{"linux-386"}
	_, err := Build(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), `skip "linux-386": not an asset key`) {
		t.Errorf("err = %v, want the unknown key named", err)
	}
}

func TestBuildInstallerIsOptional(t *testing.T) {
	dir := tree(t)
	tag, _ := release.ParseTag(testTag)
	msi := release.MSIName(testRepo, tag, "amd64")
	if err := os.Remove(filepath.Join(dir, msi)); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), opts(dir))
	if err == nil || !strings.Contains(err.Error(), "lists "+msi+", which are not assets") {
		t.Fatalf("err = %v, want the listed but missing installer named", err)
	}
	var names []string
	for _, p := range release.DefaultPlatforms {
		names = append(names, release.ArchiveName(testRepo, tag, p))
	}
	writeChecksums(t, dir, names...)
	m, err := Build(context.Background(), opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Assets["windows-amd64-msi"]; ok {
		t.Error("installer key present without an installer")
	}
}

func TestBuildChecksumMismatch(t *testing.T) {
	dir := tree(t)
	name := "baton-foo-v1.2.3-linux-arm64.tar.gz"
	writeFile(t, dir, name, "tampered\n")
	_, err := Build(context.Background(), opts(dir))
	if err == nil || !strings.Contains(err.Error(), name+": content does not match its sha256 in baton-foo_1.2.3_checksums.txt") {
		t.Errorf("err = %v, want the changed file named", err)
	}
}

func TestBuildChecksumsMustListEveryAsset(t *testing.T) {
	dir := tree(t)
	tag, _ := release.ParseTag(testTag)
	var names []string
	for _, p := range release.DefaultPlatforms[1:] {
		names = append(names, release.ArchiveName(testRepo, tag, p))
	}
	writeFile(t, dir, "notes.txt", "x")
	writeChecksums(t, dir, append(names, "notes.txt", release.MSIName(testRepo, tag, "amd64"))...)
	_, err := Build(context.Background(), opts(dir))
	if err == nil {
		t.Fatal("incomplete checksums accepted")
	}
	for _, want := range []string{"does not list baton-foo-v1.2.3-darwin-amd64.zip", "lists notes.txt, which are not assets"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	dir := tree(t)
	tests := []struct {
		name string
		edit func(*BuildOptions)
		want string
	}{
		{"tag", func(o *BuildOptions) { o.Tag = "1.2.3" }, `tag "1.2.3"`},
		{"tag with build metadata", func(o *BuildOptions) { o.Tag = "v1.2.3+x" }, "build metadata"},
		{"org", func(o *BuildOptions) { o.Org = "a/b" }, `org "a/b"`},
		{"repo", func(o *BuildOptions) { o.Repo = "" }, `repo ""`},
		{"base url", func(o *BuildOptions) { o.BaseURL = "dist.example.com" }, `base URL "dist.example.com"`},
		{"base url query", func(o *BuildOptions) { o.BaseURL = "https://x.example/?a=b" }, "base URL"},
		{"duplicate platform", func(o *BuildOptions) {
			o.Platforms = []release.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "amd64"}}
		}, "platform linux/amd64 is listed twice"},
		{"no platforms", func(o *BuildOptions) { o.Platforms = []release.Platform{} }, "no platforms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(dir)
			tt.edit(&o)
			_, err := Build(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestBuildWithoutChecksumsFile(t *testing.T) {
	dir := tree(t)
	if err := os.Remove(filepath.Join(dir, "baton-foo_1.2.3_checksums.txt")); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), opts(dir))
	if err == nil || !strings.Contains(err.Error(), "missing checksums file baton-foo_1.2.3_checksums.txt") {
		t.Errorf("err = %v, want the missing checksums file named", err)
	}
}

func TestBuildHrefsFollowBaseURL(t *testing.T) {
	o := opts(tree(t))
	o.BaseURL = "https://cdn.example.com/dist///"
	m, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://cdn.example.com/dist/releases/ConductorOne/baton-foo/v1.2.3/baton-foo-v1.2.3-linux-amd64.tar.gz"
	if got := m.Assets["linux-amd64"].Href; got != want {
		t.Errorf("href = %q, want %q", got, want)
	}
	if got := m.SignatureHref; got != "https://cdn.example.com/dist/releases/ConductorOne/baton-foo/v1.2.3/manifest.json.sig" {
		t.Errorf("signatureHref = %q", got)
	}
}
