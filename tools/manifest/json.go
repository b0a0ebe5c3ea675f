package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Read parses manifest.json. It is tolerant where producers differ: unknown
// fields are ignored, null means unset, and sizeBytes may be a JSON string
// or number. It checks what consumers rely on and names the field of every
// problem: version is present, each asset has a sizeBytes that is a
// non-negative whole number and a sha256 of 64 lower-case hex digits, and
// each image is a tag reference with a sha256 digest (and, when given, a tag
// and uri that agree with them).
func Read(r io.Reader) (*Manifest, error) {
	m, err := decode(r)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// ReadFragment parses a fragment to merge: a JSON object with optional
// "assets" and "images" maps, or a whole manifest. It is read like Read,
// except that version may be absent.
func ReadFragment(r io.Reader) (*Manifest, error) {
	m, err := decode(r)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(m.contentErrors()...); err != nil {
		return nil, err
	}
	return m, nil
}

// Write writes m as JSON: two-space indentation, keys in schema order, map
// keys sorted, releasedAt in UTC, and a final newline. An invalid manifest
// is refused and nothing is written.
func Write(w io.Writer, m *Manifest) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("refusing to write an invalid manifest: %w", err)
	}
	out := *m
	out.ReleasedAt = out.ReleasedAt.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Validate checks a decoded manifest as Read does (version present, asset
// sha256 and sizeBytes, images) and reports every problem at once.
func (m *Manifest) Validate() error {
	var errs []error
	if m.Version == "" {
		errs = append(errs, fmt.Errorf("version: missing; want %q", Version))
	}
	return errors.Join(append(errs, m.contentErrors()...)...)
}

var (
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	sizeRE   = regexp.MustCompile(`^[0-9]{1,19}$`)
)

// contentErrors checks the fields merge and consumers rely on.
func (m *Manifest) contentErrors() []error {
	var errs []error
	if !m.ReleasedAt.IsZero() {
		if y := m.ReleasedAt.UTC().Year(); y < 1 || y > 9999 {
			errs = append(errs, fmt.Errorf("releasedAt: year %d is outside 0001-9999", y))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(m.Assets)) {
		a := m.Assets[key]
		path := fmt.Sprintf("assets[%q]", key)
		if key == "" {
			errs = append(errs, fmt.Errorf("%s: empty key", path))
		}
		if !sha256RE.MatchString(a.SHA256) {
			errs = append(errs, fmt.Errorf("%s.sha256: want 64 lower-case hex digits, got %s", path, short(a.SHA256)))
		}
		if a.SizeBytes < 0 {
			errs = append(errs, fmt.Errorf("%s.sizeBytes: %d is negative", path, a.SizeBytes))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(m.Images)) {
		errs = append(errs, m.Images[key].errors(fmt.Sprintf("images[%q]", key))...)
	}
	return errs
}

func (im Image) errors(path string) []error {
	var errs []error
	name, tag, err := splitRef(im.Ref)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s.ref: %w", path, err))
	}
	if !digestRE.MatchString(im.Digest) {
		errs = append(errs, fmt.Errorf("%s.digest: want sha256:<64 lower-case hex digits>, got %s", path, short(im.Digest)))
	}
	if err != nil {
		return errs
	}
	if im.Tag != "" && im.Tag != tag {
		errs = append(errs, fmt.Errorf("%s.tag: %s does not match the tag of ref %s", path, short(im.Tag), short(im.Ref)))
	}
	if want := name + "@" + im.Digest; im.URI != "" && im.URI != want {
		errs = append(errs, fmt.Errorf("%s.uri: want %s (ref without its tag, then @digest), got %s", path, short(want), short(im.URI)))
	}
	return errs
}

// splitRef splits an image tag reference such as host:5000/repo:1.2.3.
func splitRef(ref string) (name, tag string, err error) {
	if ref == "" {
		return "", "", errors.New("missing; want an image reference like registry/repo:tag")
	}
	if strings.ContainsAny(ref, "@ \t\r\n") {
		return "", "", fmt.Errorf("%s: want a tag reference like registry/repo:tag, without a digest or spaces", short(ref))
	}
	i := strings.LastIndexByte(ref, ':')
	if i <= strings.LastIndexByte(ref, '/') || i == 0 || i == len(ref)-1 {
		return "", "", fmt.Errorf("%s has no tag; want registry/repo:tag", short(ref))
	}
	return ref[:i], ref[i+1:], nil
}

// decode unmarshals a manifest or fragment, reading sizeBytes and
// releasedAt leniently.
func decode(r io.Reader) (*Manifest, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty input; want a JSON object")
	}
	var w struct {
		Manifest
		ReleasedAt *string                    `json:"releasedAt"`
		Assets     map[string]json.RawMessage `json:"assets"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("not a manifest: %w", err)
	}
	m := w.Manifest
	if w.ReleasedAt != nil && *w.ReleasedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, *w.ReleasedAt)
		if err != nil {
			return nil, fmt.Errorf("releasedAt: want an RFC 3339 time like 2026-05-06T17:41:09Z, got %s", short(*w.ReleasedAt))
		}
		m.ReleasedAt = t.UTC()
	}
	m.Assets = nil
	for _, key := range slices.Sorted(maps.Keys(w.Assets)) {
		a, err := decodeAsset(fmt.Sprintf("assets[%q]", key), w.Assets[key])
		if err != nil {
			return nil, err
		}
		if m.Assets == nil {
			m.Assets = make(map[string]Asset, len(w.Assets))
		}
		m.Assets[key] = a
	}
	if len(m.Images) == 0 {
		m.Images = nil
	}
	return &m, nil
}

func decodeAsset(path string, raw json.RawMessage) (Asset, error) {
	if string(raw) == "null" {
		return Asset{}, fmt.Errorf("%s: null; want an asset object", path)
	}
	var w struct {
		Asset
		SizeBytes json.RawMessage `json:"sizeBytes"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Asset{}, fmt.Errorf("%s: %w", path, err)
	}
	a := w.Asset
	size, err := parseSize(w.SizeBytes)
	if err != nil {
		return Asset{}, fmt.Errorf("%s.sizeBytes: %w", path, err)
	}
	a.SizeBytes = size
	if len(a.Attestations) == 0 {
		a.Attestations = nil
	}
	return a, nil
}

// parseSize accepts a whole number of bytes as a JSON string ("123", as
// protobuf JSON writes int64) or a JSON number (123).
func parseSize(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, errors.New("missing; want the size in bytes")
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	if !sizeRE.MatchString(s) {
		return 0, fmt.Errorf("want a non-negative whole number of bytes, got %s", short(string(raw)))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is too large", s)
	}
	return n, nil
}

// short quotes s for a message, cut to a readable length.
func short(s string) string {
	const max = 200
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
