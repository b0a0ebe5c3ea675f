package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/release"
)

// readTree finds the parts of the release tree in dir and checks that all
// digests agree, reporting every disagreement at once.
func readTree(ctx context.Context, dir string) (*tree, error) {
	t := &tree{dir: dir, digests: map[string]string{}, sboms: map[string][]byte{}}
	matches, err := filepath.Glob(filepath.Join(dir, "*_checksums.txt"))
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("release tree: %w", err)
		}
		return nil, fmt.Errorf("release tree %s: no *_checksums.txt: build the tree first (relkit checksums)", dir)
	case 1:
		t.checksums = filepath.Base(matches[0])
	default:
		return nil, fmt.Errorf("release tree %s: %d checksums files, want one: %s", dir, len(matches), strings.Join(matches, ", "))
	}
	csPath := filepath.Join(dir, t.checksums)
	f, err := os.Open(csPath)
	if err != nil {
		return nil, err
	}
	lines, err := checksum.Parse(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", csPath, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: lists no artifacts", csPath)
	}
	var errs []error
	for i, r := range checksum.Check(ctx, dir, lines) {
		switch {
		case r.Err == nil:
			t.artifacts = append(t.artifacts, r.Name)
			t.digests[r.Name] = lines[i].SHA256
		case errors.Is(r.Err, checksum.ErrMismatch):
			errs = append(errs, fmt.Errorf("%s: sha256 differs from %s: the file changed after the checksums were written; rebuild the tree", filepath.Join(dir, r.Name), t.checksums))
		case errors.Is(r.Err, fs.ErrNotExist):
			errs = append(errs, fmt.Errorf("%s: listed in %s but missing", filepath.Join(dir, r.Name), t.checksums))
		default:
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Join(dir, r.Name), r.Err))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.Strings(t.artifacts)
	if t.digests[t.checksums], _, err = checksum.File(csPath); err != nil {
		return nil, fmt.Errorf("hash %s: %w", csPath, err)
	}
	errs = append(errs, t.readStatement())
	errs = append(errs, t.readSBOMs())
	errs = append(errs, t.readManifest())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("release tree %s does not check out, nothing was signed:\n%w", dir, err)
	}
	return t, nil
}

// readStatement reads provenance.intoto.json and requires it to name every
// artifact with its digest, and nothing outside the tree.
func (t *tree) readStatement() error {
	path := filepath.Join(t.dir, StatementFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: missing: write it with 'relkit provenance --subject' for every artifact", path)
	}
	if err != nil {
		return err
	}
	subjects, err := ParseStatement(data, SLSAPredicate)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	named := map[string]bool{}
	for _, s := range subjects {
		named[s.Name] = true
		want, ok := t.digests[s.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: subject %s is not an artifact of the tree (not in %s)", path, s.Name, t.checksums))
		case s.SHA256 != want:
			errs = append(errs, fmt.Errorf("%s: subject %s has sha256 %s, the file has %s: regenerate the statement", path, s.Name, s.SHA256, want))
		default:
			t.subjects = append(t.subjects, s.Name)
		}
	}
	for _, a := range t.artifacts {
		if !named[a] {
			errs = append(errs, fmt.Errorf("%s: does not cover %s: regenerate it with every artifact as --subject", path, a))
		}
	}
	sort.Strings(t.subjects)
	t.statement = data
	return errors.Join(errs...)
}

// Subject is an artifact an in-toto statement is about.
type Subject struct {
	Name   string
	SHA256 string // 64 lower-case hex digits
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseStatement reads an in-toto Statement v1 of predicateType and returns
// its subjects. Each subject needs a plain file name, unique, and a sha256
// digest.
func ParseStatement(data []byte, predicateType string) ([]Subject, error) {
	var st struct {
		Type    string `json:"_type"`
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not an in-toto statement: data after the JSON object")
	}
	if st.Type != StatementType {
		return nil, fmt.Errorf("_type is %q, want %q", st.Type, StatementType)
	}
	if st.PredicateType != predicateType {
		return nil, fmt.Errorf("predicateType is %q, want %q", st.PredicateType, predicateType)
	}
	if len(st.Predicate) == 0 || st.Predicate[0] != '{' {
		return nil, errors.New("predicate is not a JSON object")
	}
	if len(st.Subject) == 0 {
		return nil, errors.New("no subjects")
	}
	seen := map[string]bool{}
	var subjects []Subject
	for i, s := range st.Subject {
		switch {
		case s.Name == "" || s.Name != filepath.Base(s.Name) || strings.ContainsAny(s.Name, `/\`) || s.Name == "." || s.Name == "..":
			return nil, fmt.Errorf("subject %d: name %q is not a plain file name", i+1, s.Name)
		case seen[s.Name]:
			return nil, fmt.Errorf("subject %d: %s is listed twice", i+1, s.Name)
		case !sha256RE.MatchString(s.Digest["sha256"]):
			return nil, fmt.Errorf("subject %d (%s): want a sha256 digest of 64 lower-case hex digits", i+1, s.Name)
		}
		seen[s.Name] = true
		subjects = append(subjects, Subject{Name: s.Name, SHA256: s.Digest["sha256"]})
	}
	return subjects, nil
}

// readSBOMs reads <artifact>.sbom.json of every artifact that has one.
func (t *tree) readSBOMs() error {
	var errs []error
	for _, a := range t.artifacts {
		path := filepath.Join(t.dir, a+release.SBOMSuffix)
		doc, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = CheckSBOM(doc, t.digests[a])
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		t.sboms[a] = doc
	}
	return errors.Join(errs...)
}

// namespaceDigestRE finds the artifact digest relkit's SBOM namespaces end
// with ("...-sha256-<hex>").
var namespaceDigestRE = regexp.MustCompile(`-sha256-([0-9a-f]{64})$`)

// CheckSBOM accepts an SPDX JSON document about the artifact with digest
// sha256hex: a JSON object whose spdxVersion starts with "SPDX-" and whose
// documentNamespace, when it names an artifact digest, names this one.
func CheckSBOM(doc []byte, sha256hex string) error {
	var d struct {
		SPDXVersion       string `json:"spdxVersion"`
		DocumentNamespace string `json:"documentNamespace"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return fmt.Errorf("not an SPDX JSON document: %w", err)
	}
	if !strings.HasPrefix(d.SPDXVersion, "SPDX-") {
		return fmt.Errorf("spdxVersion is %q, want an SPDX JSON document (SPDX-2.x)", d.SPDXVersion)
	}
	if m := namespaceDigestRE.FindStringSubmatch(d.DocumentNamespace); m != nil && m[1] != sha256hex {
		return fmt.Errorf("describes an artifact with sha256 %s, the file has %s: regenerate the SBOM", m[1], sha256hex)
	}
	return nil
}

// readManifest checks the digests manifest.json records, when present.
func (t *tree) readManifest() error {
	path := filepath.Join(t.dir, ManifestFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := manifest.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sum, _, err := checksum.File(path)
	if err != nil {
		return fmt.Errorf("hash %s: %w", path, err)
	}
	t.manifest = true
	t.digests[ManifestFile] = sum
	keys := make([]string, 0, len(m.Assets))
	for k := range m.Assets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		a := m.Assets[k]
		want, ok := t.digests[a.Filename]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: asset %s: %s is not in the tree's %s", path, k, a.Filename, t.checksums))
		case a.SHA256 != want:
			errs = append(errs, fmt.Errorf("%s: asset %s: sha256 %s, the file has %s: rebuild the manifest", path, k, a.SHA256, want))
		}
	}
	return errors.Join(errs...)
}
