package codesign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sbom"
)

// provenanceFile is the unsigned statement the build writes.
const provenanceFile = "provenance.intoto.json"

// epoch is the commit time the build used for archive: the creation time
// of its SBOM, else the time of its entries.
func (t *tree) epoch(archive string, z *zipTree) (time.Time, error) {
	created, err := t.sbomCreated(archive)
	if errors.Is(err, os.ErrNotExist) {
		return z.mtime, nil
	}
	return created, err
}

// sbomCreated reads the creation time of the SBOM of archive.
func (t *tree) sbomCreated(archive string) (time.Time, error) {
	doc, err := readSBOM(t.path(archive + release.SBOMSuffix))
	if err != nil {
		return time.Time{}, err
	}
	return doc.created()
}

// spdxDoc is what code signing reads of an SBOM.
type spdxDoc struct {
	CreationInfo struct {
		Created string `json:"created"`
	} `json:"creationInfo"`
	Packages []struct {
		Name    string `json:"name"`
		Version string `json:"versionInfo"`
	} `json:"packages"`
}

func readSBOM(path string) (*spdxDoc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d spdxDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &d, nil
}

func (d *spdxDoc) created() (time.Time, error) {
	c, err := time.Parse(time.RFC3339, d.CreationInfo.Created)
	if err != nil {
		return time.Time{}, fmt.Errorf("SBOM creationInfo.created %q: %w", d.CreationInfo.Created, err)
	}
	return c, nil
}

// packages lists name@version of every package but the artifact itself
// (whose version is its digest), sorted.
func (d *spdxDoc) packages(artifact string) []string {
	var out []string
	for _, p := range d.Packages {
		if p.Name != artifact {
			out = append(out, p.Name+"@"+p.Version)
		}
	}
	slices.Sort(out)
	return out
}

// digest is the sha256 and size of a changed file.
type digest struct {
	sha256 string
	size   int64
}

// updateDerived brings the SBOMs, checksums, provenance and manifest up to
// date with the changed files.
func (t *tree) updateDerived(ctx context.Context) error {
	if len(t.changed) == 0 {
		return nil
	}
	changed := slices.Sorted(maps.Keys(t.changed))
	ctx, err := sbom.Prepare(ctx)
	if err != nil {
		return err
	}
	for _, name := range changed {
		if err := t.updateSBOM(ctx, name); err != nil {
			return err
		}
	}
	sums := map[string]digest{}
	for _, name := range changed {
		sum, size, err := checksum.File(t.path(name))
		if err != nil {
			return err
		}
		sums[name] = digest{sum, size}
	}
	csName, ok := t.asset(release.ChecksumsKey)
	if !ok {
		return fmt.Errorf("%s: no checksums asset", manifestFile)
	}
	if err := t.updateChecksums(csName, sums); err != nil {
		return err
	}
	sum, size, err := checksum.File(t.path(csName))
	if err != nil {
		return err
	}
	sums[csName] = digest{sum, size}
	if err := t.updateProvenance(sums); err != nil {
		return err
	}
	return t.updateManifest(sums)
}

// updateSBOM writes the SBOM of a changed archive again, with the creation
// time and main version of the build's one; the packages must not change,
// as signing does not touch the Go build information.
func (t *tree) updateSBOM(ctx context.Context, name string) error {
	p := t.path(name + release.SBOMSuffix)
	old, err := readSBOM(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil // installers have none
	}
	if err != nil {
		return err
	}
	created, err := old.created()
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	data, err := sbom.Generate(ctx, t.path(name), sbom.Options{Created: created, MainVersion: t.SBOMMainVersion})
	if err != nil {
		return err
	}
	var doc spdxDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	if got, want := doc.packages(name), old.packages(name); !slices.Equal(got, want) {
		return fmt.Errorf("%s: the regenerated SBOM lists other packages than the build's (%s, was %s): was it made with another --main-version?", name+release.SBOMSuffix, strings.Join(got, " "), strings.Join(want, " "))
	}
	t.report.Updated = append(t.report.Updated, name+release.SBOMSuffix)
	return t.writeFile(name+release.SBOMSuffix, data)
}

func (t *tree) updateChecksums(name string, sums map[string]digest) error {
	raw, err := os.ReadFile(t.path(name))
	if err != nil {
		return err
	}
	lines, err := checksum.Parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := sameAfterRewrite(name, raw, func(b *bytes.Buffer) error { return checksum.Write(b, lines) }); err != nil {
		return err
	}
	for i, l := range lines {
		if s, ok := sums[l.Name]; ok {
			lines[i].SHA256 = s.sha256
		}
	}
	var buf bytes.Buffer
	if err := checksum.Write(&buf, lines); err != nil {
		return err
	}
	t.report.Updated = append(t.report.Updated, name)
	return t.writeFile(name, buf.Bytes())
}

// updateProvenance replaces the digests of changed subjects and keeps
// every other field of the statement.
func (t *tree) updateProvenance(sums map[string]digest) error {
	raw, err := os.ReadFile(t.path(provenanceFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st provenance.StatementV1
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("%s: %w", provenanceFile, err)
	}
	if err := sameAfterRewrite(provenanceFile, raw, func(b *bytes.Buffer) error { return provenance.Write(b, &st) }); err != nil {
		return err
	}
	for i, s := range st.Subject {
		if l, ok := sums[s.Name]; ok {
			st.Subject[i].Digest = provenance.DigestSet{"sha256": l.sha256}
		}
	}
	var buf bytes.Buffer
	if err := provenance.Write(&buf, &st); err != nil {
		return err
	}
	t.report.Updated = append(t.report.Updated, provenanceFile)
	return t.writeFile(provenanceFile, buf.Bytes())
}

// updateManifest sets the sha256 and size of the changed assets.
func (t *tree) updateManifest(sums map[string]digest) error {
	m := t.manifest
	if err := sameAfterRewrite(manifestFile, t.manifestRaw, func(b *bytes.Buffer) error { return manifest.Write(b, m) }); err != nil {
		return err
	}
	for key, a := range m.Assets {
		if l, ok := sums[a.Filename]; ok {
			a.SHA256, a.SizeBytes = l.sha256, l.size
			m.Assets[key] = a
		}
	}
	var buf bytes.Buffer
	if err := manifest.Write(&buf, m); err != nil {
		return err
	}
	t.report.Updated = append(t.report.Updated, manifestFile)
	return t.writeFile(manifestFile, buf.Bytes())
}

// sameAfterRewrite makes sure that writing a file back as parsed gives its
// bytes: only then are the fields code signing does not touch kept as the
// build wrote them.
func sameAfterRewrite(name string, raw []byte, write func(*bytes.Buffer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !bytes.Equal(buf.Bytes(), raw) {
		return fmt.Errorf("%s is not in the form relkit writes (a field this relkit does not know?): it cannot be updated without changing other bytes", name)
	}
	return nil
}

func readManifest(path string) (*manifest.Manifest, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := manifest.Read(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, raw, nil
}
