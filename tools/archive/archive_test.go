package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mtime has odd seconds on purpose: zip stores it as 22:13:20.
var mtime = time.Date(2023, 11, 14, 22, 13, 21, 0, time.UTC)

func writeFile(t testing.TB, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // not subject to umask
		t.Fatal(err)
	}
	return p
}

// release lays out what a connector archive holds, under dir.
func release(t testing.TB, dir string) []Entry {
	t.Helper()
	return []Entry{
		{Name: "docs/README.md", Path: writeFile(t, dir, "README.md", "# tool\n", 0o600)},
		{Name: "tool", Path: writeFile(t, dir, "tool", "\x7fELF binary", 0o700)},
		{Name: "tool.exe", Path: writeFile(t, dir, "tool.exe", "MZ binary", 0o644)},
		{Name: "LICENSE", Path: writeFile(t, dir, "LICENSE", "MIT", 0o664)},
	}
}

type item struct {
	name    string
	mode    int64
	content string
}

var wantItems = []item{
	{"LICENSE", 0o644, "MIT"},
	{"docs/README.md", 0o644, "# tool\n"},
	{"tool", 0o755, "\x7fELF binary"},
	{"tool.exe", 0o755, "MZ binary"},
}

func build(t testing.TB, entries []Entry, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, entries, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"tar.gz", "zip"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	for _, s := range []string{"", "tgz", "ZIP", "tar"} {
		if _, err := ParseFormat(s); err == nil || !strings.Contains(err.Error(), `want "tar.gz" or "zip"`) {
			t.Errorf("ParseFormat(%q) error = %v", s, err)
		}
	}
}

func TestTarGz(t *testing.T) {
	data := build(t, release(t, t.TempDir()), Options{Format: TarGz, MTime: mtime})

	// gzip header: no flags (so no name or comment), MTIME 0, XFL 0, OS 255.
	if want := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}; !bytes.Equal(data[:10], want) {
		t.Errorf("gzip header = % x, want % x", data[:10], want)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	var got []item
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, item{hdr.Name, hdr.Mode, string(content)})
		if hdr.Format != tar.FormatUSTAR || hdr.PAXRecords != nil {
			t.Errorf("%s: format %v with PAX records %v, want plain ustar", hdr.Name, hdr.Format, hdr.PAXRecords)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: type %c owner %d:%d (%q:%q), want a regular file owned by 0:0 with no names",
				hdr.Name, hdr.Typeflag, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname)
		}
		if !hdr.ModTime.Equal(mtime) || !hdr.AccessTime.IsZero() || !hdr.ChangeTime.IsZero() {
			t.Errorf("%s: times %v/%v/%v, want mtime %v only", hdr.Name, hdr.ModTime, hdr.AccessTime, hdr.ChangeTime, mtime)
		}
	}
	if !slices.Equal(got, wantItems) {
		t.Errorf("entries = %+v, want %+v", got, wantItems)
	}
	// Every header is a ustar one ("ustar\x0000"), never a PAX 'x' or GNU header.
	for off := 0; off+512 <= len(raw) && raw[off] != 0; {
		h := raw[off : off+512]
		if string(h[257:265]) != "ustar\x0000" || h[156] != '0' {
			t.Errorf("header at %d: magic %q type %q, want ustar regular file", off, h[257:265], h[156])
		}
		size := int(octal(t, h[124:136]))
		off += 512 + (size+511)/512*512
	}
}

func octal(t *testing.T, b []byte) int64 {
	t.Helper()
	var n int64
	for _, c := range bytes.TrimRight(b, "\x00 ") {
		if c < '0' || c > '7' {
			t.Fatalf("bad octal field %q", b)
		}
		n = n*8 + int64(c-'0')
	}
	return n
}

func TestZip(t *testing.T) {
	data := build(t, release(t, t.TempDir()), Options{Format: Zip, MTime: mtime})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	wantTime := mtime.Truncate(2 * time.Second)
	var got []item
	offset := int64(0)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, item{f.Name, int64(f.Mode().Perm()), string(content)})
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d, want deflate", f.Name, f.Method)
		}
		if f.CreatorVersion>>8 != 3 || f.ExternalAttrs>>16 != uint32(0o100000|f.Mode().Perm()) || !f.Mode().IsRegular() {
			t.Errorf("%s: creator %#x attrs %#o, want Unix creator and a regular-file mode", f.Name, f.CreatorVersion, f.ExternalAttrs>>16)
		}
		if len(f.Extra) != 0 || !f.Modified.Equal(wantTime) {
			t.Errorf("%s: extra % x, time %v; want no extra field and MS-DOS time %v", f.Name, f.Extra, f.Modified, wantTime)
		}
		// The local header has no extra field either. Entries follow each
		// other: header, data, 16-byte data descriptor.
		if string(data[offset:offset+4]) != "PK\x03\x04" {
			t.Fatalf("%s: no local header at %d", f.Name, offset)
		}
		if n := binary.LittleEndian.Uint16(data[offset+28:]); n != 0 {
			t.Errorf("%s: local header has a %d-byte extra field", f.Name, n)
		}
		dataOffset, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		offset = dataOffset + int64(f.CompressedSize64) + 16
	}
	if !slices.Equal(got, wantItems) {
		t.Errorf("entries = %+v, want %+v", got, wantItems)
	}
	if zr.Comment != "" {
		t.Errorf("comment %q, want none", zr.Comment)
	}
}

// TestSystemTools reads the archives with GNU tar and Info-ZIP's zipinfo and
// unzip, as users do.
func TestSystemTools(t *testing.T) {
	dir := t.TempDir()
	entries := release(t, filepath.Join(dir, "src"))
	tgz := filepath.Join(dir, "a.tar.gz")
	zp := filepath.Join(dir, "a.zip")
	if err := WriteFile(tgz, entries, Options{Format: TarGz, MTime: mtime}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(zp, entries, Options{Format: Zip, MTime: mtime}); err != nil {
		t.Fatal(err)
	}

	t.Run("tar", func(t *testing.T) {
		out := run(t, "tar", "--full-time", "-tvzf", tgz)
		want := "" +
			"-rw-r--r-- 0/0 3 2023-11-14 22:13:21 LICENSE\n" +
			"-rw-r--r-- 0/0 7 2023-11-14 22:13:21 docs/README.md\n" +
			"-rwxr-xr-x 0/0 11 2023-11-14 22:13:21 tool\n" +
			"-rwxr-xr-x 0/0 9 2023-11-14 22:13:21 tool.exe\n"
		if got := squeeze(out); got != want {
			t.Errorf("tar -tv:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("zipinfo", func(t *testing.T) {
		// -T: full times; "bl": binary, data descriptor, no extra field.
		out := run(t, "unzip", "-Z", "-T", zp)
		for _, want := range []string{
			"-rw-r--r-- 2.0 unx 3 bl defN 20231114.221320 LICENSE\n",
			"-rw-r--r-- 2.0 unx 7 bl defN 20231114.221320 docs/README.md\n",
			"-rwxr-xr-x 2.0 unx 11 bl defN 20231114.221320 tool\n",
			"-rwxr-xr-x 2.0 unx 9 bl defN 20231114.221320 tool.exe\n",
		} {
			if !strings.Contains(squeeze(out), want) {
				t.Errorf("unzip -Z output lacks %q:\n%s", want, out)
			}
		}
		if out := run(t, "unzip", "-t", zp); !strings.Contains(out, "No errors detected") {
			t.Errorf("unzip -t:\n%s", out)
		}
	})
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// squeeze collapses runs of spaces, so column widths do not matter.
func squeeze(s string) string {
	var lines []string
	for l := range strings.Lines(s) {
		lines = append(lines, strings.Join(strings.Fields(l), " ")+"\n")
	}
	return strings.Join(lines, "")
}

// TestDeterministic archives the same contents from different directories,
// working directories, file times, owners and permission bits that do not
// matter.
func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	entriesA := release(t, a)
	entriesB := release(t, filepath.Join(b, "elsewhere", "deeper"))
	for _, e := range entriesB {
		if err := os.Chtimes(e.Path, time.Unix(1, 0), time.Unix(2, 0)); err != nil {
			t.Fatal(err)
		}
		if os.Getuid() == 0 { // another owner
			if err := os.Chown(e.Path, 1234, 5678); err != nil {
				t.Fatal(err)
			}
		}
		fi, err := os.Stat(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&0o100 != 0 { // other execute bits: same archive mode
			if err := os.Chmod(e.Path, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	// B in reverse order, with paths relative to another working directory.
	slices.Reverse(entriesB)
	t.Chdir(b)
	for i := range entriesB {
		rel, err := filepath.Rel(b, entriesB[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		entriesB[i].Path = rel
	}
	for _, format := range []Format{TarGz, Zip} {
		opts := Options{Format: format, MTime: mtime}
		first, second := build(t, entriesA, opts), build(t, entriesB, opts)
		if !bytes.Equal(first, second) {
			t.Errorf("%s: archives of the same files differ (%d and %d bytes)", format, len(first), len(second))
		}
		out := filepath.Join(t.TempDir(), "out."+string(format))
		if err := WriteFile(out, entriesB, opts); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, first) {
			t.Errorf("%s: WriteFile wrote other bytes than Write (err %v)", format, err)
		}
	}
}

func TestMTime(t *testing.T) {
	dir := t.TempDir()
	entries := []Entry{{Name: "f", Path: writeFile(t, dir, "f", "x", 0o644)}}
	zipTime := func(mt time.Time) (time.Time, error) {
		var buf bytes.Buffer
		if err := Write(&buf, entries, Options{Format: Zip, MTime: mt}); err != nil {
			return time.Time{}, err
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		return zr.File[0].Modified, nil
	}
	for _, tc := range []struct{ in, want time.Time }{
		{time.Unix(0, 0), time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2107, 12, 31, 23, 59, 59, 999, time.UTC), time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)},
		{time.Date(2024, 2, 29, 1, 2, 3, 0, time.FixedZone("X", 3600)), time.Date(2024, 2, 29, 0, 2, 2, 0, time.UTC)},
	} {
		if got, err := zipTime(tc.in); err != nil || !got.Equal(tc.want) {
			t.Errorf("zip time for %v = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		format Format
		mtime  time.Time
		want   string
	}{
		{Zip, time.Time{}, "no modification time"},
		{TarGz, time.Time{}, "no modification time"},
		{Zip, time.Date(2108, 1, 1, 0, 0, 0, 0, time.UTC), "zip stores times from 1980 to 2107"},
		{TarGz, time.Unix(-1, 0), "tar stores times from 1970"},
	} {
		err := Write(io.Discard, entries, Options{Format: tc.format, MTime: tc.mtime})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s with mtime %v: error = %v, want %q", tc.format, tc.mtime, err, tc.want)
		}
	}
}

func TestRefusesBadEntries(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "file", "x", 0o644)
	other := writeFile(t, dir, "other", "y", 0o644)
	link := filepath.Join(dir, "link-to-dir")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), broken); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"none", nil, "no files to archive"},
		{"directory", []Entry{{"d", dir}}, "is a directory, not a regular file"},
		{"link to directory", []Entry{{"d", link}}, "is a directory, not a regular file"},
		{"device", []Entry{{"null", os.DevNull}}, "is a device, not a regular file"},
		{"missing", []Entry{{"m", filepath.Join(dir, "missing")}}, "no such file"},
		{"broken link", []Entry{{"b", broken}}, "no such file"},
		{"duplicate", []Entry{{"a", file}, {"b", file}, {"a", other}}, `"a" is used twice: for ` + file + " and " + other},
		{"bad name", []Entry{{"f", file}, {"../f", file}}, `".." element`},
		{"ustar name", []Entry{{strings.Repeat("n", 101), file}}, "too long for a ustar header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.entries, Options{Format: TarGz, MTime: mtime})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
	if err := Write(io.Discard, []Entry{{"n", file}}, Options{Format: "rar", MTime: mtime}); err == nil {
		t.Error("Write accepted format rar")
	}
}

// A symbolic link to a regular file (as Bazel stages inputs) is archived as
// the file it points to.
func TestFollowsLinkToFile(t *testing.T) {
	dir := t.TempDir()
	target := writeFile(t, dir, "target", "content", 0o755)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	viaLink := build(t, []Entry{{"tool", link}}, Options{Format: TarGz, MTime: mtime})
	direct := build(t, []Entry{{"tool", target}}, Options{Format: TarGz, MTime: mtime})
	if !bytes.Equal(viaLink, direct) {
		t.Error("archive through a link differs from the archive of its target")
	}
}

func TestWriteFileLeavesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	out := writeFile(t, dir, "out.zip", "previous", 0o644)
	err := WriteFile(out, []Entry{{"x", filepath.Join(dir, "missing")}}, Options{Format: Zip, MTime: mtime})
	if err == nil {
		t.Fatal("WriteFile succeeded with a missing input")
	}
	if got, _ := os.ReadFile(out); string(got) != "previous" {
		t.Errorf("out = %q after a failed write, want it unchanged", got)
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("directory holds %d files after a failed write, want only out.zip", len(names))
	}
}

func TestCheckName(t *testing.T) {
	for _, name := range []string{"tool", "tool.exe", "bin/tool", "a b/c-d_e.f", "...", "a..b/.c"} {
		if err := checkName(name); err != nil {
			t.Errorf("checkName(%q) = %v, want ok", name, err)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"", "empty entry name"},
		{"/etc/passwd", "is absolute"},
		{"..", `".." element`},
		{"a/../../b", `".." element`},
		{"./a", `"." element`},
		{"a//b", "empty path element"},
		{"a/", "empty path element"},
		{`a\b`, "backslash"},
		{`..\evil`, "backslash"},
		{"a\x00b", "printable ASCII"},
		{"a\nb", "printable ASCII"},
		{"caf\u00e9", "printable ASCII"},
	} {
		if err := checkName(tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkName(%q) = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func FuzzEntryName(f *testing.F) {
	for _, s := range []string{"tool", "bin/tool.exe", "../x", "a//b", `a\b`, strings.Repeat("d/", 60) + "f"} {
		f.Add(s)
	}
	src := writeFile(f, f.TempDir(), "src", "data", 0o644)
	f.Fuzz(func(t *testing.T, name string) {
		if checkName(name) != nil {
			return
		}
		// Accepted names stay inside the extraction directory on any OS...
		if !filepath.IsLocal(name) || filepath.ToSlash(filepath.Clean(name)) != name || strings.Contains(name, `\`) {
			t.Fatalf("checkName accepted %q, which is not a clean local path", name)
		}
		// ...and are stored and read back unchanged.
		var buf bytes.Buffer
		if err := Write(&buf, []Entry{{name, src}}, Options{Format: Zip, MTime: mtime}); err != nil {
			t.Fatalf("zip of %q: %v", name, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil || len(zr.File) != 1 || zr.File[0].Name != name {
			t.Fatalf("zip of %q read back as %v, %v", name, zr, err)
		}
		if !fitsUSTAR(name) {
			return
		}
		buf.Reset()
		if err := Write(&buf, []Entry{{name, src}}, Options{Format: TarGz, MTime: mtime}); err != nil {
			t.Fatalf("tar.gz of %q: %v", name, err)
		}
		gz, err := gzip.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := tar.NewReader(gz).Next()
		if err != nil || hdr.Name != name || hdr.Format != tar.FormatUSTAR {
			t.Fatalf("tar.gz of %q read back as %+v, %v", name, hdr, err)
		}
	})
}
