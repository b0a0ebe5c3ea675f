package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/cli"
)

// relkitWithEnv runs the CLI in-process with the given environment.
func relkitWithEnv(environ map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return environ[k] }}
	code := app().Main(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

func TestArchiveCmd(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "build", "baton-foo")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	license := filepath.Join(dir, "LICENSE.txt")
	if err := os.WriteFile(license, []byte("MIT"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "foo.zip")
	code, _, errOut := relkit("archive", "--mtime", "1700000000", "--out", out, bin, license+"=docs/LICENSE")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name+" "+f.Mode().String())
	}
	if got, want := strings.Join(names, ", "), "baton-foo -rwxr-xr-x, docs/LICENSE -rw-r--r--"; got != want {
		t.Errorf("entries %q, want %q", got, want)
	}

	// SOURCE_DATE_EPOCH stands in for --mtime.
	viaEnv := filepath.Join(dir, "env.zip")
	env := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	if code, _, errOut := relkitWithEnv(env, "archive", "--out", viaEnv, bin, license+"=docs/LICENSE"); code != 0 {
		t.Fatalf("with SOURCE_DATE_EPOCH: exit %d: %s", code, errOut)
	}
	if a, b := readBytes(t, out), readBytes(t, viaEnv); !bytes.Equal(a, b) {
		t.Error("--mtime and SOURCE_DATE_EPOCH gave different archives")
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no time", nil, []string{"--out", out, bin}, 2, "--mtime is required when SOURCE_DATE_EPOCH is not set"},
		{"bad env time", map[string]string{"SOURCE_DATE_EPOCH": "soon"}, []string{"--out", out, bin}, 2, `SOURCE_DATE_EPOCH="soon"`},
		{"bad flag time", nil, []string{"--mtime", "-5", "--out", out, bin}, 2, `--mtime "-5"`},
		{"no out", nil, []string{"--mtime", "1", bin}, 2, "--out"},
		{"unknown extension", nil, []string{"--mtime", "1", "--out", "x.rar", bin}, 2, "pass --format"},
		{"bad format", nil, []string{"--mtime", "1", "--format", "7z", "--out", out, bin}, 2, `archive format "7z"`},
		{"no files", nil, []string{"--mtime", "1", "--out", out}, 2, "no files to archive"},
		{"empty name", nil, []string{"--mtime", "1", "--out", out, bin + "="}, 2, "want SRC or SRC=NAME"},
		{"directory", nil, []string{"--mtime", "1", "--out", out, dir}, 1, "is a directory, not a regular file"},
		{"bad name", nil, []string{"--mtime", "1", "--out", out, bin + "=../x"}, 1, `".." element`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := readBytes(t, out)
			code, _, errOut := relkitWithEnv(tc.env, append([]string{"archive"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
			if !bytes.Equal(readBytes(t, out), before) {
				t.Error("a failed run changed the output file")
			}
		})
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
