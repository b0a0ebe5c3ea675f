// Package gosdk unpacks a Go SDK from the zip the Go module proxy serves for
// module golang.org/toolchain, keeping what building a program reads.
//
// Bazel's own extraction writes all ~11,500 files of that zip, several
// seconds on every fresh machine before any Go build can start. Two thirds
// of them are tests, test data and the sources of the Go commands (whose
// binaries bin/ and pkg/tool/ already hold), which `go build` never reads.
package gosdk

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// modulePrefix starts every entry of a toolchain module zip, followed by
// "@<version>/".
const modulePrefix = "golang.org/toolchain@"

// Result says what Unpack wrote.
type Result struct {
	Version string // the module version, e.g. v0.0.1-go1.26.8.linux-amd64
	Files   int    // files written
	Bytes   int64  // their size
	Skipped int    // files left out
}

// Skipped reports whether a file of the SDK, named relative to GOROOT with
// slashes, is left out: tests, testdata and src/cmd. Building std or any
// program works without them; `go test std` or building cmd/... does not.
func Skipped(rel string) bool {
	return strings.HasPrefix(rel, "src/cmd/") ||
		strings.HasSuffix(rel, "_test.go") ||
		strings.HasPrefix(rel, "testdata/") || strings.Contains(rel, "/testdata/")
}

// Unpack writes the SDK in the toolchain module zip at zipPath to dest,
// which must not exist yet: GOROOT. It unpacks into a temporary directory
// beside dest and renames it into place, so dest appears complete or not at
// all. Module zips carry no file modes: files in bin/ and pkg/tool/ are
// executable, the rest are not.
func Unpack(ctx context.Context, zipPath, dest string) (Result, error) {
	if _, err := os.Lstat(dest); err == nil {
		return Result{}, fmt.Errorf("%s already exists: unpack into a new directory", dest)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return Result{}, fmt.Errorf("open Go SDK zip %s: %w", zipPath, err)
	}
	defer zr.Close()
	files, res, err := plan(zr.File)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", zipPath, err)
	}

	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-")
	if err != nil {
		return Result{}, fmt.Errorf("unpack Go SDK: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename
	if err := writeAll(ctx, files, tmp, &res); err != nil {
		return Result{}, fmt.Errorf("unpack %s: %w", zipPath, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return Result{}, fmt.Errorf("unpack Go SDK: %w", err)
	}
	return res, nil
}

// entry is a file to write, named relative to GOROOT.
type entry struct {
	f   *zip.File
	rel string
}

// plan checks the zip's entries and picks the files to write.
func plan(zfiles []*zip.File) ([]entry, Result, error) {
	var res Result
	var files []entry
	seen := map[string]bool{}
	for _, f := range zfiles {
		if strings.HasSuffix(f.Name, "/") {
			continue // directory entries; directories follow from the files
		}
		if res.Version == "" {
			res.Version = moduleVersion(f.Name)
			if res.Version == "" {
				return nil, res, fmt.Errorf("entry %q is not under %s<version>/: not a Go toolchain module zip", f.Name, modulePrefix)
			}
		}
		rel, err := entryPath(f.Name, modulePrefix+res.Version+"/")
		if err != nil {
			return nil, res, err
		}
		if t := f.Mode().Type(); t != 0 {
			return nil, res, fmt.Errorf("entry %q is a %v, not a regular file", f.Name, t)
		}
		if seen[rel] {
			return nil, res, fmt.Errorf("entry %q appears twice", f.Name)
		}
		seen[rel] = true
		if Skipped(rel) {
			res.Skipped++
			continue
		}
		files = append(files, entry{f, rel})
	}
	for _, need := range []string{"VERSION", "bin/go"} {
		if !seen[need] {
			return nil, res, fmt.Errorf("no %s under %s%s/: not a Go SDK", need, modulePrefix, res.Version)
		}
	}
	return files, res, nil
}

// moduleVersion returns the version in a toolchain module zip entry's name,
// or "" when the name does not start with the module's prefix.
func moduleVersion(name string) string {
	v, _, ok := strings.Cut(strings.TrimPrefix(name, modulePrefix), "/")
	if !ok || !strings.HasPrefix(name, modulePrefix) || v == "" {
		return ""
	}
	return v
}

// entryPath returns an entry's name below prefix, refusing anything that
// would not stay inside the destination directory.
func entryPath(name, prefix string) (string, error) {
	rel, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return "", fmt.Errorf("entry %q is outside %s", name, prefix)
	}
	if rel == "" || rel == "." || path.Clean(rel) != rel || !filepath.IsLocal(rel) || strings.Contains(rel, `\`) {
		return "", fmt.Errorf("entry %q has an unsafe path", name)
	}
	return rel, nil
}

// writeAll creates the directories, then writes the files in parallel.
func writeAll(ctx context.Context, files []entry, dir string, res *Result) error {
	dirs := map[string]bool{}
	for _, e := range files {
		dirs[path.Dir(e.rel)] = true
	}
	for d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			return err
		}
	}

	// Many small files: the time goes into creating them, not decompressing.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	var total atomic.Int64
	for _, e := range files {
		if gctx.Err() != nil {
			break // a write failed, or the caller gave up
		}
		g.Go(func() error {
			n, err := writeFile(e, filepath.Join(dir, filepath.FromSlash(e.rel)))
			total.Add(n)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res.Files, res.Bytes = len(files), total.Load()
	return nil
}

func writeFile(e entry, dest string) (int64, error) {
	perm := fs.FileMode(0o644)
	if strings.HasPrefix(e.rel, "bin/") || strings.HasPrefix(e.rel, "pkg/tool/") {
		perm = 0o755
	}
	r, err := e.f.Open()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.f.Name, err)
	}
	defer r.Close()
	w, err := os.OpenFile(dest, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return 0, err
	}
	// Reading to the end checks the entry's CRC-32.
	n, err := io.Copy(w, r)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w", e.f.Name, err)
	}
	return n, nil
}
