package actionhelper

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSubstitute(t *testing.T) {
	vals := map[string]string{"VERSION": "1.2.3", "STABLE_GIT_COMMIT": "abc"}
	for in, want := range map[string]string{
		"{VERSION}-{STABLE_GIT_COMMIT}": "1.2.3-abc",
		"plain":                         "plain",
		"{lower}":                       "{lower}",
		"open {":                        "open {",
		"{}{VERSION}":                   "{}1.2.3",
		"{{VERSION}}":                   "{1.2.3}",
	} {
		got, err := substitute(in, vals)
		if err != nil || got != want {
			t.Errorf("substitute(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := substitute("{STABLE_GIT_COMIT}", vals); err == nil {
		t.Errorf("substitute of an unknown key = %q, want an error", got)
	}
}

func TestLinkerFlags(t *testing.T) {
	vals := map[string]string{"STABLE_GIT_COMMIT": "abc"}
	xdefs := []string{"main.commit={STABLE_GIT_COMMIT}", "main.version=1.2.3"}
	for _, tc := range []struct {
		strip bool
		want  string
	}{
		{true, "-s -w -buildid= -X main.commit=abc -X main.version=1.2.3"},
		{false, "-buildid= -X main.commit=abc -X main.version=1.2.3"},
	} {
		got, err := linkerFlags(tc.strip, xdefs, vals)
		if err != nil || got != tc.want {
			t.Errorf("linkerFlags(strip=%v) = %q, %v; want %q", tc.strip, got, err, tc.want)
		}
	}
	if _, err := linkerFlags(true, []string{"main.date=a b"}, vals); err == nil {
		t.Error("a -X value with a space was accepted; go build would split it")
	}
}

func TestStampKeepsOnlyNamedKeys(t *testing.T) {
	dir := t.TempDir()
	status := filepath.Join(dir, "stable-status.txt")
	if err := os.WriteFile(status, []byte("BUILD_HOST ci-17\nSTABLE_GIT_COMMIT abc\nSTABLE_COMMIT_EPOCH 1700000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "stamp.txt")
	if err := stamp(context.Background(), io.Discard, []string{"--status", status, "--out", out, "STABLE_GIT_COMMIT", "STABLE_COMMIT_EPOCH"}); err != nil {
		t.Fatalf("stamp() = %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "STABLE_COMMIT_EPOCH 1700000000\nSTABLE_GIT_COMMIT abc\n"; string(got) != want {
		t.Errorf("stamp file = %q, want %q", got, want)
	}
	if err := stamp(context.Background(), io.Discard, []string{"--status", status, "--out", out, "STABLE_COMMIT_DATE"}); err == nil {
		t.Error("stamp() with a key missing from the status file succeeded")
	}
}

func TestStampOptionalKeys(t *testing.T) {
	dir := t.TempDir()
	status := filepath.Join(dir, "stable-status.txt")
	if err := os.WriteFile(status, []byte("STABLE_GIT_COMMIT abc\nSTABLE_WORKFLOW_REF def\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "stamp.txt")
	if err := stamp(context.Background(), io.Discard, []string{"--status", status, "--out", out, "--optional", "STABLE_WORKFLOW_REF", "STABLE_WORKFLOW_PATH"}); err != nil {
		t.Fatalf("stamp(--optional) = %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "STABLE_WORKFLOW_PATH \nSTABLE_WORKFLOW_REF def\n"; string(got) != want {
		t.Errorf("stamp file = %q, want %q", got, want)
	}
	// An empty value is a value: a reference to it is substituted, not refused.
	vals, err := readStamp(out)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := substitute("[{STABLE_WORKFLOW_PATH}]", vals); err != nil || s != "[]" {
		t.Errorf("substitute of an empty key = %q, %v; want \"[]\"", s, err)
	}
}

func TestRunReadsEveryStampFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	out := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(a, []byte("STABLE_GIT_COMMIT abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("STABLE_WORKFLOW_REF def\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), io.Discard, []string{"--stamp", a, "--stamp", b, "--stdout", out, "echo", "{STABLE_GIT_COMMIT}@{STABLE_WORKFLOW_REF}"})
	if err != nil {
		t.Fatalf("run() = %v", err)
	}
	if got, _ := os.ReadFile(out); string(got) != "abc@def\n" {
		t.Errorf("output = %q, want %q", got, "abc@def\n")
	}
}

func TestTreeCopiesFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "a")
	write("layout/index.json", "{}")
	write("layout/blobs/sha256/00", "blob")
	out := filepath.Join(dir, "out")
	err := tree(context.Background(), io.Discard, []string{"--out", out, filepath.Join(dir, "a.txt") + "=a.txt", filepath.Join(dir, "layout") + "=images/image"})
	if err != nil {
		t.Fatalf("tree() = %v", err)
	}
	for name, want := range map[string]string{"a.txt": "a", "images/image/index.json": "{}", "images/image/blobs/sha256/00": "blob"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if err := tree(context.Background(), io.Discard, []string{"--out", out, filepath.Join(dir, "a.txt") + "=../escape"}); err == nil {
		t.Error("tree() with a name outside the tree succeeded")
	}
}

// The sandbox stages a directory input's files as symlinks into the
// execroot; the tree must hold the files, never those links.
func TestTreeResolvesStagedSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "execroot", "blob")
	staged := filepath.Join(dir, "sandbox", "layout", "blobs", "sha256", "00")
	for _, d := range []string{filepath.Dir(real), filepath.Dir(staged)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(real, []byte("blob"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, staged); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := tree(context.Background(), io.Discard, []string{"--out", out, filepath.Join(dir, "sandbox", "layout") + "=images/image"}); err != nil {
		t.Fatalf("tree() = %v", err)
	}
	got := filepath.Join(out, "images", "image", "blobs", "sha256", "00")
	info, err := os.Lstat(got)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Mode().IsRegular() {
		t.Errorf("%s has mode %v; want a regular file", got, info.Mode())
	}
}

func TestMainReturnsTheToolsExitCode(t *testing.T) {
	var stderr bytes.Buffer
	if code := Main(context.Background(), []string{"run", "sh", "-c", "echo broken >&2; exit 3"}, &stderr); code != 3 {
		t.Errorf("Main(run a tool exiting 3) = %d, want 3", code)
	}
	if !strings.Contains(stderr.String(), "broken") {
		t.Errorf("the failing tool's stderr was not passed on: %q", stderr.String())
	}
	stderr.Reset()
	if code := Main(context.Background(), []string{"--help"}, &stderr); code != 0 || !strings.Contains(stderr.String(), "gobuild --go GO") {
		t.Errorf("Main(--help) = %d, %q; want 0 and the commands' synopses", code, stderr.String())
	}
	stderr.Reset()
	if code := Main(context.Background(), []string{"bogus"}, &stderr); code != 1 || !strings.Contains(stderr.String(), `unknown command "bogus"`) {
		t.Errorf("Main(bogus) = %d, %q; want 1 naming the command", code, stderr.String())
	}
}

// A cancelled action (Bazel interrupting the build) must not leave the
// build's temporary module copy and Go cache behind in TMPDIR.
func TestGoBuildCancelledRemovesItsTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	goBin := filepath.Join(dir, "sdk", "bin", "go")
	for _, d := range []string{tmp, filepath.Dir(goBin), filepath.Join(dir, "mod")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A go that signals it has started, then works until interrupted.
	fake := "#!/bin/sh\ntrap 'kill $!; exit 130' INT\ntouch \"$TMPDIR/started\"\nsleep 30 &\nwait\n"
	if err := os.WriteFile(goBin, []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "mod", "go.mod")
	if err := os.WriteFile(src, []byte("module example.com/m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if m, _ := filepath.Glob(filepath.Join(tmp, "relkit-gobuild-*", "started")); len(m) > 0 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	err := goBuild(ctx, io.Discard, []string{"--go", goBin, "--dir", filepath.Join(dir, "mod"), "--src", src,
		"--goos", "linux", "--goarch", "amd64", "--out", filepath.Join(dir, "out"), "."})
	if err == nil {
		t.Fatal("goBuild succeeded although it was cancelled")
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("goBuild took %v to stop after cancellation", time.Since(start))
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}

// The Go SDK repository rule compiles this package with no module
// dependencies, before anything else exists.
func TestUsesTheStandardLibraryOnly(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "actionhelper.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
			t.Errorf("imports %s: the action helper must build from the standard library alone", path)
		}
	}
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if !strings.HasSuffix(name, "_test.go") && name != "actionhelper.go" {
			t.Errorf("%s: the SDK repository rule compiles actionhelper.go alone; keep the package in that file", name)
		}
	}
}
