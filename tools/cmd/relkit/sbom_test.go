package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/cli"
)

// relkitEnv runs the CLI in-process with the given environment variables.
func relkitEnv(vars map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }}
	code := app().Main(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

func TestSBOMCmd(t *testing.T) {
	// The test binary itself carries Go build information.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "relkit.test.sbom.json")
	epoch := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}

	code, _, errOut := relkitEnv(epoch, "sbom", "--out", out, self)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		SPDXVersion  string `json:"spdxVersion"`
		Name         string `json:"name"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.Name != filepath.Base(self) || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("document %+v: want SPDX-2.3, name %s, created from SOURCE_DATE_EPOCH", doc, filepath.Base(self))
	}

	// --epoch wins over SOURCE_DATE_EPOCH.
	if code, _, errOut := relkitEnv(epoch, "sbom", "--epoch", "0", "--out", out, self); code != 0 {
		t.Fatalf("--epoch 0: exit %d: %s", code, errOut)
	}
	if data, err := os.ReadFile(out); err != nil || !bytes.Contains(data, []byte(`"created": "1970-01-01T00:00:00Z"`)) {
		t.Error("--epoch 0 did not set the creation time")
	}
}

func TestSBOMCmdErrors(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("release notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	epoch := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"no artifact", epoch, []string{"--out", out}, 2, "want at least one ARTIFACT"},
		{"no --out", epoch, []string{notes}, 2, "--out FILE (one ARTIFACT) or --out-dir DIR"},
		{"--out with two", epoch, []string{"--out", out, notes, notes}, 2, "--out takes exactly one ARTIFACT, got 2; use --out-dir"},
		{"--out and --out-dir", epoch, []string{"--out", out, "--out-dir", dir, notes}, 2, "--out and --out-dir exclude each other"},
		{"same basename", epoch, []string{"--out-dir", dir, notes, filepath.Join(dir, "x", "notes.txt")}, 2, "would both write notes.txt.sbom.json"},
		{"no epoch", nil, []string{"--out", out, notes}, 2, "--epoch is required"},
		{"bad epoch", nil, []string{"--epoch", "yesterday", "--out", out, notes}, 2, `--epoch "yesterday"`},
		{"not Go", epoch, []string{"--out", out, notes}, 1, notes + ": no Go build information"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := relkitEnv(tc.vars, append([]string{"sbom"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("failed runs left %s behind", out)
	}
}

func TestSBOMCmdOutDir(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Two artifacts: the test binary under two names.
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	outDir := filepath.Join(dir, "sboms")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	epoch := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	if code, _, errOut := relkitEnv(epoch, "sbom", "--out-dir", outDir, a, b); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Each document equals the one a single-artifact call writes.
	for _, p := range []string{a, b} {
		one := filepath.Join(dir, filepath.Base(p)+".one.json")
		if code, _, errOut := relkitEnv(epoch, "sbom", "--out", one, p); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want, _ := os.ReadFile(one)
		got, err := os.ReadFile(filepath.Join(outDir, filepath.Base(p)+".sbom.json"))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("--out-dir document of %s differs from --out's (read: %v)", filepath.Base(p), err)
		}
	}

	// One bad artifact: nothing is written, not even the good one's.
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("release notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := relkitEnv(epoch, "sbom", "--out-dir", empty, a, notes)
	if code != 1 || !strings.Contains(errOut, notes+": no Go build information") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming %s", code, errOut, notes)
	}
	if left, _ := os.ReadDir(empty); len(left) != 0 {
		t.Errorf("a failed --out-dir run wrote %d files", len(left))
	}
}
