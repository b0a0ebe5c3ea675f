package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChecksumsCmd(t *testing.T) {
	dir := t.TempDir()
	var artifacts []string
	for _, name := range []string{"b.zip", "a.tar.gz"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		artifacts = append(artifacts, p)
	}
	sums := filepath.Join(dir, "checksums.txt")
	if code, _, errOut := relkit(append([]string{"checksums", "--out", sums}, artifacts...)...); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, errOut)
	}
	got := string(readBytes(t, sums))
	if want := sha256Line("a.tar.gz") + sha256Line("b.zip"); got != want {
		t.Fatalf("checksums file:\n%s\nwant:\n%s", got, want)
	}
	// Running again with the old list among the artifacts (a glob) is refused.
	if code, _, errOut := relkit(append([]string{"checksums", "--out", sums, sums}, artifacts...)...); code != 2 || !strings.Contains(errOut, "is the --out file itself") {
		t.Errorf("--out among the artifacts: exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := relkit(append([]string{"checksums", "--out", "-"}, artifacts...)...); code != 0 || out != got {
		t.Errorf("--out -: exit %d, stdout %q, want %q", code, out, got)
	}

	// --check from another working directory finds files beside the list.
	t.Chdir(t.TempDir())
	code, out, errOut := relkit("checksums", "--check", sums)
	if code != 0 || out != "a.tar.gz: OK\nb.zip: OK\n" {
		t.Fatalf("--check: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if err := os.WriteFile(artifacts[0], []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(artifacts[1]); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = relkit("checksums", "--check", sums)
	wantOut := "a.tar.gz: FAILED (missing in " + dir + ")\nb.zip: FAILED (checksum mismatch)\n"
	if code != 1 || out != wantOut || !strings.Contains(errOut, "2 of 2 files listed in "+sums+" failed verification") {
		t.Errorf("--check after tampering: exit %d, stdout %q, stderr %q; want exit 1, stdout %q", code, out, errOut, wantOut)
	}
	// --dir points elsewhere.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "a.tar.gz"), []byte("a.tar.gz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "b.zip"), []byte("b.zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := relkit("checksums", "--check", sums, "--dir", other); code != 0 {
		t.Errorf("--check --dir: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestChecksumsCmdErrors(t *testing.T) {
	dir := t.TempDir()
	one, two := filepath.Join(dir, "1"), filepath.Join(dir, "2")
	for _, d := range []string{one, two} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "tool.zip"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("\n"+strings.Repeat("0", 64)+" tool.zip\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sums.txt")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing", nil, 2, "give --out FILE ARTIFACT..."},
		{"both", []string{"--out", out, "--check", bad}, 2, "exclude each other"},
		{"no artifacts", []string{"--out", out}, 2, "no artifacts"},
		{"dir without check", []string{"--out", out, "--dir", dir, one}, 2, "--dir only applies to --check"},
		{"check with args", []string{"--check", bad, "x"}, 2, `unexpected argument "x"`},
		{"same base name", []string{"--out", out, filepath.Join(one, "tool.zip"), filepath.Join(two, "tool.zip")}, 1,
			filepath.Join(one, "tool.zip") + " and " + filepath.Join(two, "tool.zip") + " have the same file name"},
		{"missing artifact", []string{"--out", out, filepath.Join(dir, "nope")}, 1, "no such file"},
		{"malformed", []string{"--check", bad}, 1, bad + ": line 2: want '<64 hex>  <name>'"},
		{"empty", []string{"--check", empty}, 1, "lists no files"},
		{"missing list", []string{"--check", filepath.Join(dir, "nope")}, 1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := relkit(append([]string{"checksums"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a failed run wrote the checksums file")
			}
		})
	}
}

// sha256Line is the checksums line of a file whose content is its name.
func sha256Line(name string) string {
	return fmt.Sprintf("%x  %s\n", sha256.Sum256([]byte(name)), name)
}
