// Package codesign signs the binaries of a staged release tree at publish
// time, and brings every file that depends on their bytes up to date.
//
// The build half stays unsigned and reproducible. Resign then, for the
// identities it is given:
//
//   - darwin zips: the binary is signed with the Developer ID identity
//     (identifier com.<org>.<repo>, hardened runtime; without a timestamp
//     server the signing time is the commit time) and the zip is written
//     again with tools/archive exactly as the build wrote it (same entries,
//     modes and time), which is checked by first re-creating the unsigned
//     zip byte for byte;
//   - windows zips: the .exe is Authenticode-signed and the zip re-written;
//     each MSI is built again around the signed .exe from the recipe in
//     index.json (checked by rebuilding the unsigned MSI byte for byte) and
//     signed itself;
//   - then the SBOMs of the changed archives (same creation time and main
//     version), the checksums file, the provenance statement's subjects and
//     the manifest's sha256 and sizeBytes are updated; every other byte of
//     those files stays as the build wrote it.
//
// Without identities nothing changes. Notarization of the signed darwin
// zips happens only when an App Store Connect key is given; a ticket cannot
// be stapled to a bare binary (see package notary).
//
// # Resume
//
// Signatures with a timestamp are never the same twice, and published
// objects are write-once. So before signing a file Resign asks for the one
// an earlier attempt published (Options.Published). If there is one, it is
// checked (its binary's signature verifies with the configured identity,
// and removing the signature gives back the tree's unsigned binary) and
// used as is; the derived files are then regenerated to the same bytes as
// before.
package codesign

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/macos/notary"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/msi"
	"github.com/relkit/relkit/tools/release"
)

// Options configure Resign. A nil identity leaves its platform unsigned.
type Options struct {
	MacOS   *MacOS
	Windows *Windows
	// Notary notarizes the signed darwin zips; nil: not notarized.
	Notary *Notary
	// SBOMMainVersion is the --main-version the build gave 'relkit sbom';
	// the rules and scripts/build-example-tree.sh give none.
	SBOMMainVersion string
	// Published returns the object an earlier attempt published under the
	// file name name, if any; nil means nothing is published.
	Published func(ctx context.Context, name string) (data []byte, ok bool, err error)
	// Log receives one line per file; nil discards.
	Log io.Writer
}

// MacOS is the Developer ID identity darwin binaries are signed with.
type MacOS struct {
	Identity *macos.Identity
	// Roots are the roots Identity was loaded with, to check published
	// binaries; nil means Apple's.
	Roots *x509.CertPool
	// Identifier is the code signing identifier; empty: com.<org>.<repo>.
	Identifier string
	// TimestampURL is an RFC 3161 server; notarization needs one. Without
	// it the signature records the commit time.
	TimestampURL string
}

// Windows is the Authenticode key .exe and .msi files are signed with.
type Windows struct {
	PKCS12   []byte
	Password string
	// TimestampURLs are RFC 3161 servers tried in order. Without any, the
	// signing time is the commit time and signing is reproducible.
	TimestampURLs []string
	// CAFile and TSACAFile are the PEM roots signatures are checked with;
	// empty means the system roots.
	CAFile, TSACAFile string
	// Tool is osslsigncode; empty: PATH. MSITools are wixl and msitools;
	// zero: PATH.
	Tool     string
	MSITools msi.Tools
}

// Notary submits signed darwin zips to Apple.
type Notary struct {
	Client  *notary.Client
	Timeout time.Duration // per submission; 0 means 30 minutes
}

// Report says what Resign did. File lists are sorted.
type Report struct {
	Signed []string // files signed by this run
	Reused []string // signed files an earlier attempt published, checked and kept
	// Updated are the derived files written again: SBOMs, the checksums
	// file, the provenance statement and manifest.json.
	Updated []string
	// Notarization has one entry per darwin zip.
	Notarization []Notarization
}

// Notarization is the notary outcome of one darwin zip.
type Notarization struct {
	File   string `json:"file"`
	Status string `json:"status"` // "Accepted" or notary.NotNotarized
	ID     string `json:"id,omitempty"`
}

// Resign signs the binaries of the release tree in dir in place (see the
// package documentation) and returns what it did. On error, dir may hold
// some signed archives with derived files not yet updated: run it again on a
// fresh copy of the tree.
func Resign(ctx context.Context, dir string, o Options) (*Report, error) {
	t := &tree{Options: o, dir: dir, changed: map[string]bool{}, report: &Report{}}
	if t.Log == nil {
		t.Log = io.Discard
	}
	m, raw, err := readManifest(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, err
	}
	t.manifest, t.manifestRaw = m, raw
	if o.MacOS == nil && o.Windows == nil {
		t.logf("no signing identity given: binaries stay as built, %s", notary.NotNotarized)
		t.notNotarized()
		return t.report, nil
	}
	tmp, err := os.MkdirTemp("", "relkit-codesign-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	t.tmp = tmp
	if t.index, err = readIndex(dir); err != nil {
		return nil, err
	}
	tag, err := release.ParseTag(m.Semver)
	if err != nil {
		return nil, fmt.Errorf("%s: semver: %w", manifestFile, err)
	}
	t.tag = tag
	for _, arch := range t.arches("darwin") {
		if o.MacOS != nil {
			if err := t.darwin(ctx, arch); err != nil {
				return nil, err
			}
		}
	}
	for _, arch := range t.arches("windows") {
		if o.Windows != nil {
			if err := t.windows(ctx, arch); err != nil {
				return nil, err
			}
		}
	}
	if err := t.updateDerived(ctx); err != nil {
		return nil, err
	}
	if err := t.notarize(ctx); err != nil {
		return t.report, err
	}
	for _, l := range [][]string{t.report.Signed, t.report.Reused, t.report.Updated} {
		slices.Sort(l)
	}
	return t.report, nil
}

const manifestFile = "manifest.json"

type tree struct {
	Options
	dir, tmp    string
	manifest    *manifest.Manifest
	manifestRaw []byte
	index       *Index
	tag         release.Tag
	changed     map[string]bool // file names whose bytes changed
	report      *Report
}

func (t *tree) logf(format string, a ...any) { fmt.Fprintf(t.Log, "codesign: "+format+"\n", a...) }

// arches lists the architectures of goos that have a zip in the manifest.
func (t *tree) arches(goos string) []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(t.manifest.Assets)) {
		if arch, ok := strings.CutPrefix(key, goos+"-"); ok && !strings.Contains(arch, "-") &&
			strings.HasSuffix(t.manifest.Assets[key].Filename, ".zip") {
			out = append(out, arch)
		}
	}
	return out
}

// asset returns the file name of the manifest asset key.
func (t *tree) asset(key string) (string, bool) {
	a, ok := t.manifest.Assets[key]
	return a.Filename, ok && a.Filename != ""
}

func (t *tree) path(name string) string { return filepath.Join(t.dir, name) }

// published asks for the object an earlier attempt published.
func (t *tree) published(ctx context.Context, name string) ([]byte, bool, error) {
	if t.Published == nil {
		return nil, false, nil
	}
	data, ok, err := t.Published(ctx, name)
	if err != nil {
		return nil, false, fmt.Errorf("look for a published %s: %w", name, err)
	}
	return data, ok, nil
}

// openZip reads the archive name and checks that tools/archive re-creates
// it byte for byte, so that the signed one has the build's exact layout.
func (t *tree) openZip(name string) (*zipTree, error) {
	data, err := os.ReadFile(t.path(name))
	if err != nil {
		return nil, err
	}
	z, err := readZip(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	again, err := z.bytes(t.tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !slices.Equal(again, data) {
		return nil, fmt.Errorf("%s: writing its entries again does not give the same bytes: it was not written by 'relkit archive', so it cannot be re-packaged faithfully", name)
	}
	return z, nil
}

// publishedZip reads a published archive and checks it has the layout of
// the tree's one, with binary the only entry that may differ.
func (t *tree) publishedZip(name string, data []byte, built *zipTree, binary string) (*zipTree, error) {
	z, err := readZip(data)
	if err != nil {
		return nil, fmt.Errorf("published %s: %w", name, err)
	}
	bin, ok := z.file(binary)
	if !ok {
		return nil, fmt.Errorf("published %s has no %s", name, binary)
	}
	again, err := built.with(binary, bin).bytes(t.tmp)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(again, data) {
		return nil, fmt.Errorf("published %s differs from this tree's archive in more than the signed %s", name, binary)
	}
	return z, nil
}

// writeFile replaces the tree's file name and records the change.
func (t *tree) writeFile(name string, data []byte) error {
	if err := os.WriteFile(t.path(name), data, 0o644); err != nil {
		return err
	}
	t.changed[name] = true
	return nil
}

func (t *tree) notNotarized() {
	for _, arch := range t.arches("darwin") {
		name, _ := t.asset("darwin-" + arch)
		t.report.Notarization = append(t.report.Notarization, Notarization{File: name, Status: notary.NotNotarized})
	}
}

func (t *tree) notarize(ctx context.Context) error {
	if t.MacOS == nil || t.Notary == nil {
		t.logf("no App Store Connect key given: darwin archives are %s", notary.NotNotarized)
		t.notNotarized()
		return nil
	}
	timeout := t.Notary.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	for _, arch := range t.arches("darwin") {
		name, _ := t.asset("darwin-" + arch)
		data, err := os.ReadFile(t.path(name))
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeoutCause(ctx, timeout, errors.New("notary timeout reached"))
		res, err := t.Notary.Client.Submit(sctx, name, data)
		cancel()
		if err != nil {
			return fmt.Errorf("notarize %s: %w", name, err)
		}
		t.report.Notarization = append(t.report.Notarization, Notarization{File: name, Status: res.Status, ID: res.ID})
		t.logf("%s: notarization %s (submission %s)", name, res.Status, res.ID)
	}
	t.logf("note: %s", notary.StapleNote)
	return nil
}

func readIndex(dir string) (*Index, error) {
	f, err := os.Open(filepath.Join(dir, IndexFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ix, err := ReadIndex(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", IndexFile, err)
	}
	return ix, nil
}
