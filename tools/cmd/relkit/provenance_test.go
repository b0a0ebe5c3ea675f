package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/provenance"
)

func TestProvenanceCmd(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "baton-foo-v1.2.3-linux-amd64.tar.gz")
	if err := os.WriteFile(art, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const commit = "0123456789abcdef0123456789abcdef01234567"
	args := []string{"provenance", "--repository", "ConductorOne/baton-foo", "--tag", "v1.2.3", "--commit", commit,
		"--workflow-repository", "relkit/relkit", "--workflow-ref", commit, "--workflow-path", ".github/workflows/release.yaml",
		"--toolchain", "go=go1.26.8", "--started-on", "2026-05-06T19:41:09+02:00", "--subject", art}
	code, out, errOut := relkit(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`"sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"`,
		`"id": "https://github.com/relkit/relkit/.github/workflows/release.yaml@` + commit + `"`,
		`"go": "go1.26.8"`,
		`"startedOn": "2026-05-06T17:41:09Z"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("statement lacks %s:\n%s", want, out)
		}
	}

	outFile := filepath.Join(dir, "p.json")
	if code, _, errOut := relkit(append(args, "--out", outFile)...); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, errOut)
	}
	if data, err := os.ReadFile(outFile); err != nil || string(data) != out {
		t.Errorf("--out wrote different bytes than stdout (err %v)", err)
	}

	// The Bazel rule always passes the workflow flags; outside the release
	// workflow their stamp values are empty and the builder is the local one.
	local := []string{"provenance", "--repository", "ConductorOne/baton-foo", "--tag", "v1.2.3", "--commit", commit,
		"--workflow-repository", "", "--workflow-ref", "", "--workflow-path", "", "--subject", art}
	code, out, errOut = relkit(local...)
	if code != 0 {
		t.Fatalf("empty workflow flags: exit %d: %s", code, errOut)
	}
	if want := `"id": "` + provenance.LocalBuilderID + `"`; !strings.Contains(out, want) || strings.Contains(out, `"workflow"`) {
		t.Errorf("empty workflow flags: statement lacks %s or names a workflow:\n%s", want, out)
	}

	for _, bad := range [][]string{
		// A status command printing only some workflow keys.
		{"provenance", "--repository", "o/r", "--tag", "v1.2.3", "--commit", commit, "--subject", art,
			"--workflow-repository", "relkit/relkit", "--workflow-ref", commit, "--workflow-path", ""},
		{"provenance", "--repository", "o/r", "--tag", "v1.2.3", "--subject", art},
		{"provenance", "--repository", "o/r", "--tag", "v1.2.3", "--commit", "HEAD", "--subject", art},
		{"provenance", "--repository", "o/r", "--tag", "v1.2.3", "--commit", commit, "--subject", art, "--toolchain", "go"},
		{"provenance", "--repository", "o/r", "--tag", "v1.2.3", "--commit", commit, art},
	} {
		if code, _, errOut := relkit(bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", bad[1:], code, errOut)
		}
	}
}
