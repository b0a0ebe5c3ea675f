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
		{"no artifact", epoch, []string{"--out", out}, 2, "want exactly one ARTIFACT"},
		{"no --out", epoch, []string{notes}, 2, "--out"},
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
