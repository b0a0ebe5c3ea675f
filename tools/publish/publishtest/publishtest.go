// Package publishtest writes release trees for publish tests: what
// 'bazel build //:release' writes, small enough to sign in milliseconds.
package publishtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/release"
)

// Platforms are the platforms of Tree: one tar.gz and one zip archive.
var Platforms = []release.Platform{{OS: "linux", Arch: "amd64"}, {OS: "windows", Arch: "amd64"}}

// Tree writes an unsigned release tree of org/repo at tag into a new
// directory and returns it: an archive per platform with its SPDX SBOM, the
// checksums file, provenance.intoto.json over them, and manifest.json with
// URLs under baseURL. content varies the archives' bytes; each archive is
// size bytes long at least.
func Tree(t testing.TB, org, repo, tag, baseURL, content string, size int) string {
	t.Helper()
	return tree(t, org, repo, tag, baseURL, content, size, Platforms)
}

// tree is Tree for the given platforms.
func tree(t testing.TB, org, repo, tag, baseURL, content string, size int, platforms []release.Platform) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tg, err := release.ParseTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var archives []string
	for _, p := range platforms {
		name := release.ArchiveName(repo, tg, p)
		body := fmt.Sprintf("%s %s\n", content, name)
		if pad := size - len(body); pad > 0 {
			body += strings.Repeat("x", pad)
		}
		write(name, []byte(body))
		archives = append(archives, filepath.Join(dir, name))
	}
	lines, err := checksum.Files(ctx, archives)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		write(l.Name+release.SBOMSuffix, fmt.Appendf(nil, `{"spdxVersion":"SPDX-2.3","name":%q,"documentNamespace":"https://spdx.relkit.dev/%s-sha256-%s"}`+"\n", l.Name, l.Name, l.SHA256))
	}
	var buf bytes.Buffer
	if err := checksum.Write(&buf, lines); err != nil {
		t.Fatal(err)
	}
	cs := release.ChecksumsName(repo, tg)
	write(cs, buf.Bytes())
	subjects, err := provenance.Subjects(ctx, append(archives, filepath.Join(dir, cs)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := provenance.Statement(subjects, provenance.BuildFacts{Repository: org + "/" + repo, Tag: tag, Commit: strings.Repeat("ab", 20)})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := provenance.Write(&buf, st); err != nil {
		t.Fatal(err)
	}
	write("provenance.intoto.json", buf.Bytes())
	m, err := manifest.Build(ctx, manifest.BuildOptions{
		Dir: dir, Org: org, Repo: repo, Tag: tag, BaseURL: baseURL,
		Platforms: platforms, ExpectAttestations: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := manifest.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	write("manifest.json", buf.Bytes())
	return dir
}
