// Package checksum hashes release artifacts and reads and writes checksums
// files in the format of sha256sum and GoReleaser:
//
//	<64 lower-case hex SHA-256>  <file name>
//
// Written files list every name once, sorted by name in byte order, so the
// same artifacts always give the same bytes.
//
// Parse is deliberately strict, because its output decides whether a download
// is trusted. It accepts exactly what sha256sum and GoReleaser write:
//
//   - "<hex>  <name>" (text mode) and "<hex> *<name>" (binary mode marker);
//   - blank lines (ignored), CRLF line ends, and a missing newline at the
//     end of the file;
//   - lines in any order (the reference pipeline's files are not sorted).
//
// It rejects, with the line number: a digest that is not 64 lower-case hex
// digits (no tool writes upper case, and a single spelling lets digests be
// compared as strings everywhere), a single space before the name, a missing
// name, a name that is not a plain file name (contains '/', '\', a control
// character, is "." or "..", or starts or ends with a space), a repeated
// name, and sha256sum's escaped-name lines (starting with '\'), which no
// artifact name needs.
package checksum

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Line is one entry of a checksums file.
type Line struct {
	SHA256 string // 64 lower-case hex digits
	Name   string // file name, without directory
}

// File streams path through SHA-256 and returns the hex digest and the
// number of bytes read. Memory use does not depend on the file's size.
func File(path string) (sha256hex string, size int64, err error) {
	return hashFile(context.Background(), path)
}

func hashFile(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return "", n, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ctxReader stops a long copy soon after ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Files hashes paths in parallel, at most GOMAXPROCS files at a time, and
// returns one Line per path in the order given, named by the path's base
// name. Two paths with the same base name are refused before any hashing,
// since their lines would collide in a checksums file.
func Files(ctx context.Context, paths []string) ([]Line, error) {
	seen := make(map[string]string, len(paths))
	for _, p := range paths {
		name := filepath.Base(p)
		if prev, ok := seen[name]; ok {
			return nil, fmt.Errorf("%s and %s have the same file name %q: a checksums file lists each name once", prev, p, name)
		}
		seen[name] = p
	}
	sums := hashAll(ctx, paths)
	lines := make([]Line, len(paths))
	for i, s := range sums {
		if s.err != nil {
			return nil, s.err
		}
		lines[i] = Line{SHA256: s.sha256, Name: filepath.Base(paths[i])}
	}
	return lines, nil
}

type sum struct {
	sha256 string
	err    error
}

// hashAll hashes every path with bounded parallelism; results are in input order.
func hashAll(ctx context.Context, paths []string) []sum {
	sums := make([]sum, len(paths))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i, p := range paths {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := ctx.Err(); err != nil {
				sums[i].err = fmt.Errorf("hash %s: %w", p, err)
				return
			}
			sums[i].sha256, _, sums[i].err = hashFile(ctx, p)
		})
	}
	wg.Wait()
	return sums
}

// Write writes lines as "<sha256>  <name>\n", sorted by name in byte order.
// It refuses invalid digests or names and repeated names, writing nothing.
func Write(w io.Writer, lines []Line) error {
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, func(a, b Line) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	for i, l := range sorted {
		if err := checkDigest(l.SHA256); err != nil {
			return fmt.Errorf("checksum of %q: %w", l.Name, err)
		}
		if err := checkName(l.Name); err != nil {
			return err
		}
		if i > 0 && sorted[i-1].Name == l.Name {
			return fmt.Errorf("name %q is listed twice", l.Name)
		}
		fmt.Fprintf(&buf, "%s  %s\n", l.SHA256, l.Name)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Parse reads a checksums file. Lines keep the file's order. See the package
// documentation for what is accepted.
func Parse(r io.Reader) ([]Line, error) {
	var lines []Line
	lineOf := make(map[string]int)
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		text := sc.Text()
		if strings.TrimLeft(text, " \t") == "" {
			continue
		}
		l, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if prev, ok := lineOf[l.Name]; ok {
			return nil, fmt.Errorf("line %d: %q is already listed on line %d", n, l.Name, prev)
		}
		lineOf[l.Name] = n
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes; is this a checksums file?", n+1, bufio.MaxScanTokenSize)
		}
		return nil, err
	}
	return lines, nil
}

const lineFormat = "want '<64 hex>  <name>' or '<64 hex> *<name>'"

func parseLine(s string) (Line, error) {
	if strings.HasPrefix(s, `\`) {
		return Line{}, fmt.Errorf("escaped file names are not supported, got %q", s)
	}
	digest, rest, ok := strings.Cut(s, " ")
	if !ok {
		return Line{}, fmt.Errorf("%s, got %q", lineFormat, s)
	}
	if err := checkDigest(digest); err != nil {
		return Line{}, err
	}
	// The character after the separating space is the mode: ' ' text, '*' binary.
	if rest == "" || (rest[0] != ' ' && rest[0] != '*') {
		return Line{}, fmt.Errorf("%s (two spaces before the name), got %q", lineFormat, s)
	}
	name := rest[1:]
	if name == "" {
		return Line{}, fmt.Errorf("missing file name after the checksum, got %q", s)
	}
	if err := checkName(name); err != nil {
		return Line{}, err
	}
	return Line{SHA256: digest, Name: name}, nil
}

func checkDigest(d string) error {
	if len(d) != sha256.Size*2 {
		return fmt.Errorf("checksum %q: want 64 hex digits, got %d characters", d, len(d))
	}
	for _, c := range []byte(d) {
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			return fmt.Errorf("checksum %q: want lower-case hex digits", d)
		default:
			return fmt.Errorf("checksum %q: %q is not a hex digit", d, c)
		}
	}
	return nil
}

// checkName accepts plain file names, so a listed name can never reach
// outside the directory it is checked in.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty file name")
	case name == "." || name == "..":
		return fmt.Errorf("file name %q is not a file", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("file name %q contains a path separator: want a plain file name", name)
	case name[0] == ' ' || name[len(name)-1] == ' ':
		return fmt.Errorf("file name %q starts or ends with a space", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("file name %q contains a control character", name)
		}
	}
	return nil
}

// Lookup returns the digest listed for name.
func Lookup(lines []Line, name string) (sha256hex string, ok bool) {
	for _, l := range lines {
		if l.Name == name {
			return l.SHA256, true
		}
	}
	return "", false
}

// ErrMismatch is the Result error of a file whose content has another digest
// than the one listed.
var ErrMismatch = errors.New("checksum does not match")

// Result is the outcome of checking one listed file.
type Result struct {
	Name string
	// Err is nil when the file matches; ErrMismatch when its digest differs;
	// otherwise the error opening or reading it (fs.ErrNotExist when missing).
	Err error
}

// Check re-hashes every listed file found in dir, in parallel, and returns one
// Result per line, in the order of lines. A name that is not a plain file
// name fails without being read, so lines never reach outside dir.
func Check(ctx context.Context, dir string, lines []Line) []Result {
	results := make([]Result, len(lines))
	var paths []string
	var idx []int
	for i, l := range lines {
		results[i].Name = l.Name
		if err := checkName(l.Name); err != nil {
			results[i].Err = err
			continue
		}
		paths = append(paths, filepath.Join(dir, l.Name))
		idx = append(idx, i)
	}
	for j, s := range hashAll(ctx, paths) {
		i := idx[j]
		results[i].Err = s.err
		if s.err == nil && s.sha256 != lines[i].SHA256 {
			results[i].Err = ErrMismatch
		}
	}
	return results
}
