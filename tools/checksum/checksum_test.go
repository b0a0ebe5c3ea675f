package checksum

import (
	"bytes"
	"context"
	"errors"
	"github.com/relkit/relkit/tools/testutil/golden"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Digests of well-known contents (sha256sum of the same bytes).
const (
	sumEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	sumHello = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" // "hello\n"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		content string
		want    string
	}{
		{"", sumEmpty},
		{"hello\n", sumHello},
	} {
		p := writeFile(t, dir, "f", tc.content)
		got, size, err := File(p)
		if err != nil {
			t.Fatalf("File(%q) error: %v", tc.content, err)
		}
		if got != tc.want || size != int64(len(tc.content)) {
			t.Errorf("File(%q) = %s, %d; want %s, %d", tc.content, got, size, tc.want, len(tc.content))
		}
	}
	if _, _, err := File(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("File(missing) error = %v, want fs.ErrNotExist", err)
	}
}

func TestFilesKeepsInputOrder(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"z", "a", "m", "b", "y", "c", "x"} {
		paths = append(paths, writeFile(t, dir, name, strings.Repeat(name, 1000)))
	}
	lines, err := Files(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		want, _, err := File(p)
		if err != nil {
			t.Fatal(err)
		}
		if lines[i].Name != filepath.Base(p) || lines[i].SHA256 != want {
			t.Errorf("line %d = %+v, want {%s %s}", i, lines[i], want, filepath.Base(p))
		}
	}
}

func TestFilesRefusesSameBaseName(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	pa := writeFile(t, a, "tool.zip", "1")
	pb := writeFile(t, b, "tool.zip", "2")
	_, err := Files(context.Background(), []string{pa, pb})
	if err == nil || !strings.Contains(err.Error(), pa) || !strings.Contains(err.Error(), pb) {
		t.Fatalf("Files(same base name) error = %v, want one naming %s and %s", err, pa, pb)
	}
}

func TestFilesErrors(t *testing.T) {
	dir := t.TempDir()
	ok := writeFile(t, dir, "ok", "x")
	missing := filepath.Join(dir, "missing")
	if _, err := Files(context.Background(), []string{ok, missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Files(missing) error = %v, want one naming %s", err, missing)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Files(ctx, []string{ok}); !errors.Is(err, context.Canceled) {
		t.Errorf("Files(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestWriteGolden(t *testing.T) {
	// Unsorted on purpose: the reference pipeline appended Windows lines after
	// the sorted ones; relkit sorts globally.
	lines := []Line{
		{strings.Repeat("a", 64), "baton-foo_v1.0.0_windows_amd64.msi"},
		{strings.Repeat("1", 64), "baton-foo-v1.0.0-windows-amd64.zip"},
		{strings.Repeat("2", 64), "baton-foo-v1.0.0-linux-arm64.tar.gz"},
		{strings.Repeat("3", 64), "baton-foo-v1.0.0-darwin-amd64.zip"},
		{strings.Repeat("4", 64), "baton-foo-v1.0.0-linux-amd64.tar.gz"},
		{strings.Repeat("5", 64), "baton-foo-v1.0.0-darwin-arm64.zip"},
	}
	orig := slices.Clone(lines)
	var buf bytes.Buffer
	if err := Write(&buf, lines); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lines, orig) {
		t.Error("Write reordered its argument")
	}
	golden.Check(t, "checksums", buf.Bytes())
}

func TestWriteRefuses(t *testing.T) {
	good := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name  string
		lines []Line
		want  string
	}{
		{"short digest", []Line{{"abc", "a"}}, "want 64 hex digits"},
		{"upper-case digest", []Line{{strings.Repeat("A", 64), "a"}}, "lower-case"},
		{"empty name", []Line{{good, ""}}, "empty file name"},
		{"path", []Line{{good, "dir/a"}}, "path separator"},
		{"newline in name", []Line{{good, "a\nb"}}, "control character"},
		{"duplicate", []Line{{good, "a"}, {sumEmpty, "b"}, {sumHello, "a"}}, `"a" is listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.lines)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %q before failing", buf.String())
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	in := sumHello + "  b.tar.gz\n" + // sha256sum and GoReleaser
		"\n" + // blank lines are skipped
		sumEmpty + " *a.zip\n" + // binary-mode marker
		sumEmpty + "  *star name\n" + // text mode; the name starts with '*'
		sumEmpty + "  crlf\r\n" + // Windows line end
		sumEmpty + "  last line without newline"
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{
		{sumHello, "b.tar.gz"},
		{sumEmpty, "a.zip"},
		{sumEmpty, "*star name"},
		{sumEmpty, "crlf"},
		{sumEmpty, "last line without newline"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Parse = %q, want %q", got, want)
	}
	if d, ok := Lookup(got, "a.zip"); !ok || d != sumEmpty {
		t.Errorf("Lookup(a.zip) = %q, %v", d, ok)
	}
	if _, ok := Lookup(got, "nope"); ok {
		t.Error("Lookup(nope) found a line")
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"short digest", "abc  a\n", "line 1: checksum \"abc\": want 64 hex digits, got 3"},
		{"upper-case digest", strings.ToUpper(sumEmpty) + "  a\n", "line 1: checksum \"E3B0"},
		{"not hex", strings.Repeat("g", 64) + "  a\n", "'g' is not a hex digit"},
		{"one space", sumEmpty + " a\n", "line 1: want '<64 hex>  <name>'"},
		{"no separator", sumEmpty + "\n", "line 1: want '<64 hex>  <name>'"},
		{"missing name", sumEmpty + "  \n", "line 1: missing file name"},
		{"missing name after star", sumEmpty + " *\n", "line 1: missing file name"},
		{"path", sumEmpty + "  dir/a\n", "path separator"},
		{"backslash", sumEmpty + "  dir\\a\n", "path separator"},
		{"dot dot", sumEmpty + "  ..\n", `".." is not a file`},
		{"leading space", sumEmpty + "   a\n", "starts or ends with a space"},
		{"tab", sumEmpty + "\ta\n", "want '<64 hex>  <name>'"},
		{"carriage return in name", sumEmpty + "  a\rb\n", "control character"},
		{"escaped name", "\\" + sumEmpty + "  a\\nb\n", "escaped file names"},
		{"duplicate", "\n" + sumEmpty + "  a\n" + sumHello + " *a\n", `line 3: "a" is already listed on line 2`},
		{"comment", "# checksums\n", "line 1:"},
		{"too long", strings.Repeat("x", 70000), "line 1: longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%.80q) error = %v, want one containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	lines := []Line{{sumHello, "b"}, {sumEmpty, "a"}, {sumEmpty, "*c"}}
	var buf bytes.Buffer
	if err := Write(&buf, lines); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{{sumEmpty, "*c"}, {sumEmpty, "a"}, {sumHello, "b"}}
	if !slices.Equal(got, want) {
		t.Errorf("round trip = %q, want %q", got, want)
	}
}

// TestParseSha256sum reads what the real sha256sum writes, in both modes.
func TestParseSha256sum(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum not installed")
	}
	dir := t.TempDir()
	writeFile(t, dir, "a.tar.gz", "hello\n")
	writeFile(t, dir, "b.zip", "")
	for _, mode := range []string{"--text", "--binary"} {
		cmd := exec.Command("sha256sum", mode, "a.tar.gz", "b.zip")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sha256sum %s: %v", mode, err)
		}
		got, err := Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("Parse(sha256sum %s output %q): %v", mode, out, err)
		}
		want := []Line{{sumHello, "a.tar.gz"}, {sumEmpty, "b.zip"}}
		if !slices.Equal(got, want) {
			t.Errorf("sha256sum %s: Parse = %q, want %q", mode, got, want)
		}
	}
	// And sha256sum -c accepts what Write produces.
	var buf bytes.Buffer
	if err := Write(&buf, []Line{{sumEmpty, "b.zip"}, {sumHello, "a.tar.gz"}}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "SUMS", buf.String())
	cmd := exec.Command("sha256sum", "--check", "--strict", "SUMS")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c rejected Write's output: %v\n%s", err, out)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "good", "hello\n")
	writeFile(t, dir, "changed", "hello!\n")
	results := Check(context.Background(), dir, []Line{
		{sumHello, "good"},
		{sumHello, "changed"},
		{sumHello, "missing"},
		{sumHello, "../good"},
	})
	if len(results) != 4 {
		t.Fatalf("Check returned %d results, want 4", len(results))
	}
	if r := results[0]; r.Name != "good" || r.Err != nil {
		t.Errorf("good: %+v, want no error", r)
	}
	if r := results[1]; r.Name != "changed" || !errors.Is(r.Err, ErrMismatch) {
		t.Errorf("changed: %+v, want ErrMismatch", r)
	}
	if r := results[2]; r.Name != "missing" || !errors.Is(r.Err, fs.ErrNotExist) {
		t.Errorf("missing: %+v, want fs.ErrNotExist", r)
	}
	if r := results[3]; r.Err == nil || !strings.Contains(r.Err.Error(), "path separator") {
		t.Errorf("../good: %+v, want a refused name", r)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sumHello + "  a.tar.gz\n" + sumEmpty + " *b.zip\n"))
	f.Add([]byte("\n\n" + sumEmpty + "  x"))
	f.Add([]byte(sumEmpty + " a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever Parse accepts, Write must reproduce and Parse read back.
		var buf bytes.Buffer
		if err := Write(&buf, lines); err != nil {
			t.Fatalf("Write(Parse(%q)) error: %v", data, err)
		}
		again, err := Parse(&buf)
		if err != nil {
			t.Fatalf("Parse(Write(...)) error: %v\n%s", err, buf.Bytes())
		}
		slices.SortFunc(lines, func(a, b Line) int { return strings.Compare(a.Name, b.Name) })
		if !slices.Equal(lines, again) {
			t.Fatalf("round trip changed lines: %q != %q", lines, again)
		}
	})
}
