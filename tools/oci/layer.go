package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is one file or directory of a layer.
type entry struct {
	name     string // absolute, clean, e.g. /etc/passwd
	dir      bool
	mode     int64
	uid, gid int
	data     []byte // regular files only
}

// Owner of the default base's home directory: the distroless "nonroot" user.
const (
	NonrootUID = 65532
	NonrootGID = 65532
)

// layer writes entries as a gzip'd tar and returns it as an image layer.
// The bytes depend only on the entries and mtime: entries are sorted,
// parent directories are added (0755, owned by root), owner names are
// empty, and every time is mtime.
func layer(entries []entry, mtime time.Time, mt types.MediaType) (v1.Layer, error) {
	byName := make(map[string]entry)
	for _, e := range entries {
		if prev, ok := byName[e.name]; ok && !(prev.dir && e.dir) {
			return nil, fmt.Errorf("%s is in the image twice", e.name)
		}
		byName[e.name] = e
		for d := path.Dir(e.name); d != "/"; d = path.Dir(d) {
			if prev, ok := byName[d]; ok && !prev.dir {
				return nil, fmt.Errorf("%s is a file, but %s needs it to be a directory", d, e.name)
			}
			if _, ok := byName[d]; !ok {
				byName[d] = entry{name: d, dir: true, mode: 0o755}
			}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range byName {
			if !yield(n) {
				return
			}
		}
	})

	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	mtime = time.Unix(mtime.Unix(), 0).UTC()
	for _, n := range names {
		e := byName[n]
		h := &tar.Header{
			Name:    strings.TrimPrefix(n, "/"),
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: mtime,
		}
		if e.dir {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", n, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}

	// Compressed here, not by go-containerregistry, so the blob depends on
	// compress/gzip alone (no header name or time).
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	blob := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}, tarball.WithMediaType(mt))
}

// fileEntry reads a file from disk for a layer: mode 0755 when it has any
// execute bit, else 0644, owned by root.
func fileEntry(src, dest string) (entry, error) {
	if err := checkImagePath(dest); err != nil {
		return entry{}, err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return entry{}, fmt.Errorf("read %s: %w", src, err)
	}
	if !fi.Mode().IsRegular() {
		return entry{}, fmt.Errorf("%s is not a regular file", src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return entry{}, fmt.Errorf("read %s: %w", src, err)
	}
	mode := int64(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	return entry{name: dest, mode: mode, data: data}, nil
}

// checkImagePath accepts absolute, clean, printable ASCII paths other than "/".
func checkImagePath(p string) error {
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" {
		return fmt.Errorf("image path %q: want an absolute clean path like /etc/app/config.yaml", p)
	}
	for _, c := range p {
		if c < 0x21 || c > 0x7e || c == '\\' {
			return fmt.Errorf("image path %q: only printable ASCII without spaces or backslashes", p)
		}
	}
	return nil
}
