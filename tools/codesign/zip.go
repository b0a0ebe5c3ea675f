package codesign

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/relkit/relkit/tools/archive"
)

// zipTree is the content of a zip archive the build wrote: regular files
// sharing one modification time.
type zipTree struct {
	files []zipFile
	mtime time.Time
}

type zipFile struct {
	name string
	exec bool
	data []byte
}

// readZip reads an archive as tools/archive writes it.
func readZip(data []byte) (*zipTree, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	z := &zipTree{}
	for i, f := range zr.File {
		if !f.Mode().IsRegular() {
			return nil, fmt.Errorf("entry %q is not a regular file", f.Name)
		}
		if i == 0 {
			z.mtime = f.Modified
		} else if !f.Modified.Equal(z.mtime) {
			return nil, fmt.Errorf("entry %q has another time than %q: not an archive relkit wrote", f.Name, zr.File[0].Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", f.Name, err)
		}
		z.files = append(z.files, zipFile{name: f.Name, exec: f.Mode()&0o111 != 0, data: b})
	}
	if len(z.files) == 0 {
		return nil, fmt.Errorf("empty archive")
	}
	return z, nil
}

// file returns the content of the entry name.
func (z *zipTree) file(name string) ([]byte, bool) {
	i := slices.IndexFunc(z.files, func(f zipFile) bool { return f.name == name })
	if i < 0 {
		return nil, false
	}
	return z.files[i].data, true
}

// with returns a copy of z whose entry name holds data.
func (z *zipTree) with(name string, data []byte) *zipTree {
	c := &zipTree{files: slices.Clone(z.files), mtime: z.mtime}
	for i := range c.files {
		if c.files[i].name == name {
			c.files[i].data = data
		}
	}
	return c
}

// bytes writes z with tools/archive, as the build did: the same entries,
// modes and time give the same bytes.
func (z *zipTree) bytes(tmp string) ([]byte, error) {
	dir, err := os.MkdirTemp(tmp, "zip-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var entries []archive.Entry
	for i, f := range z.files {
		p := filepath.Join(dir, fmt.Sprint(i))
		mode := os.FileMode(0o644)
		if f.exec {
			mode = 0o755
		}
		if err := os.WriteFile(p, f.data, mode); err != nil {
			return nil, err
		}
		entries = append(entries, archive.Entry{Name: f.name, Path: p})
	}
	out := filepath.Join(dir, "out.zip")
	if err := archive.WriteFile(out, entries, archive.Options{Format: archive.Zip, MTime: z.mtime}); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}
