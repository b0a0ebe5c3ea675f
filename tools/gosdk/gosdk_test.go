package gosdk

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const prefix = "golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64/"

// sdkFiles is a small SDK as the module proxy zips it.
var sdkFiles = []string{
	"VERSION", "go.env", "LICENSE",
	"bin/go", "bin/gofmt",
	"pkg/tool/linux_amd64/compile", "pkg/tool/linux_amd64/link",
	"lib/time/zoneinfo.zip",
	"src/go.mod", "src/fmt/print.go", "src/vendor/modules.txt",
	"src/fmt/fmt_test.go", "src/fmt/testdata/x.txt", "src/testdata/y",
	"src/cmd/go/main.go", "src/cmd/vendor/modules.txt",
}

type zipEntry struct {
	name string
	data string
	mode fs.FileMode // 0: none recorded, as in module zips
}

func writeZip(t *testing.T, entries []zipEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sdk.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sdkZip(t *testing.T, extra ...zipEntry) string {
	entries := []zipEntry{{name: prefix}, {name: prefix + "src/"}}
	for _, f := range sdkFiles {
		entries = append(entries, zipEntry{name: prefix + f, data: "content of " + f})
	}
	return writeZip(t, append(entries, extra...))
}

// tree lists the files under dir with their permissions.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got = append(got, info.Mode().Perm().String()+" "+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

func TestUnpackKeepsWhatBuildsRead(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "goroot")
	res, err := Unpack(context.Background(), sdkZip(t), dest)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-rw-r--r-- LICENSE",
		"-rw-r--r-- VERSION",
		"-rw-r--r-- go.env",
		"-rw-r--r-- lib/time/zoneinfo.zip",
		"-rw-r--r-- src/fmt/print.go",
		"-rw-r--r-- src/go.mod",
		"-rw-r--r-- src/vendor/modules.txt",
		"-rwxr-xr-x bin/go",
		"-rwxr-xr-x bin/gofmt",
		"-rwxr-xr-x pkg/tool/linux_amd64/compile",
		"-rwxr-xr-x pkg/tool/linux_amd64/link",
	}
	sort.Strings(want)
	if got := tree(t, dest); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("unpacked:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "src/fmt/print.go")); string(b) != "content of src/fmt/print.go" {
		t.Errorf("src/fmt/print.go holds %q", b)
	}
	if res.Version != "v0.0.1-go1.26.8.linux-amd64" || res.Files != len(want) || res.Skipped != 5 {
		t.Errorf("result %+v, want version v0.0.1-go1.26.8.linux-amd64, %d files, 5 skipped", res, len(want))
	}
	if want := int64(len("content of src/fmt/print.go")); res.Bytes < want {
		t.Errorf("result counts %d bytes", res.Bytes)
	}
}

func TestUnpackRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		entries    []zipEntry
	}{
		{"another module", "not a Go toolchain module zip", []zipEntry{{name: "example.com/m@v1.0.0/VERSION"}}},
		{"two versions", "is outside " + prefix, []zipEntry{{name: prefix + "VERSION"}, {name: "golang.org/toolchain@v0.0.1-go1.25.0.linux-amd64/bin/go"}}},
		{"parent directory", "unsafe path", []zipEntry{{name: prefix + "VERSION"}, {name: prefix + "../../etc/passwd"}}},
		{"unclean path", "unsafe path", []zipEntry{{name: prefix + "VERSION"}, {name: prefix + "src//fmt/print.go"}}},
		{"symlink", "not a regular file", []zipEntry{{name: prefix + "VERSION"}, {name: prefix + "bin/go", data: "/bin/sh", mode: fs.ModeSymlink | 0o777}}},
		{"duplicate", "appears twice", []zipEntry{{name: prefix + "VERSION"}, {name: prefix + "bin/go"}, {name: prefix + "bin/go"}}},
		{"no go command", "no bin/go", []zipEntry{{name: prefix + "VERSION"}, {name: prefix + "src/fmt/print.go"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zipPath := writeZip(t, tc.entries)
			parent := t.TempDir()
			_, err := Unpack(context.Background(), zipPath, filepath.Join(parent, "goroot"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestUnpackLeavesNothingOnFailure(t *testing.T) {
	// A stored entry whose CRC-32 does not match: found only while writing.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"VERSION", "bin/go", "src/fmt/print.go"} {
		data := []byte("content of " + name)
		crc := crc32.ChecksumIEEE(data)
		if name == "src/fmt/print.go" {
			crc++
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: prefix + name, Method: zip.Store, CRC32: crc,
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	zipPath := filepath.Join(t.TempDir(), "sdk.zip")
	os.WriteFile(zipPath, buf.Bytes(), 0o644)

	parent := t.TempDir()
	_, err := Unpack(context.Background(), zipPath, filepath.Join(parent, "goroot"))
	if err == nil || !strings.Contains(err.Error(), "src/fmt/print.go") || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("error %v, want a checksum error naming src/fmt/print.go", err)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestUnpackIntoExistingDirectory(t *testing.T) {
	dest := t.TempDir()
	if _, err := Unpack(context.Background(), sdkZip(t), dest); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("error %v, want one saying the directory exists", err)
	}
}

func TestUnpackCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	parent := t.TempDir()
	if _, err := Unpack(ctx, sdkZip(t), filepath.Join(parent, "goroot")); err == nil {
		t.Fatal("a cancelled unpack succeeded")
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestSkipped(t *testing.T) {
	for rel, want := range map[string]bool{
		"src/cmd/go/main.go":         true,
		"src/fmt/fmt_test.go":        true,
		"src/fmt/testdata/a.go":      true,
		"testdata/x":                 true,
		"src/cmdline/x.go":           false,
		"src/fmt/print.go":           false,
		"src/internal/testenv/x.go":  false,
		"src/testing/testing.go":     false,
		"pkg/tool/linux_amd64/vet":   false,
		"src/vendor/golang.org/x/ok": false,
	} {
		if got := Skipped(rel); got != want {
			t.Errorf("Skipped(%q) = %v, want %v", rel, got, want)
		}
	}
}

func FuzzEntryPath(f *testing.F) {
	for _, s := range []string{prefix + "bin/go", prefix + "../x", prefix + "/abs", prefix + "a/./b", prefix, "other/x", prefix + `a\..\..\x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		rel, err := entryPath(name, prefix)
		if err != nil {
			return
		}
		if !filepath.IsLocal(rel) {
			t.Fatalf("entryPath(%q) = %q, not local", name, rel)
		}
		dest := filepath.Join("/goroot", rel)
		if !strings.HasPrefix(dest, "/goroot/") {
			t.Fatalf("entryPath(%q) = %q writes %s", name, rel, dest)
		}
		if v := moduleVersion(name); v != "" && !strings.HasPrefix(name, modulePrefix+v+"/") {
			t.Fatalf("moduleVersion(%q) = %q", name, v)
		}
	})
}
