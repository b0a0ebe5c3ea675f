// Package sbom writes SPDX 2.3 JSON software bills of materials for Go
// release artifacts: a Go binary, or a .tar.gz or .zip holding one. The
// packages come from the Go build information embedded in the binary, read
// with syft.
//
// Documents are reproducible: the same artifact bytes, basename and creation
// time give the same document bytes, wherever the artifact lies. The
// namespace is
//
//	https://spdx.relkit.dev/<basename>-sha256-<hex digest of the artifact>
//
// so it names the artifact it describes. Nothing is looked up on the network
// or in the host's Go module cache.
package sbom

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anchore/packageurl-go"
	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/format/common/spdxhelpers"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/golang"
	"github.com/anchore/syft/syft/source/filesource"
	"github.com/spdx/tools-golang/spdx"
)

// syftVersion is the syft module version in go.mod. It is a constant, not
// read from the running binary's build information, which builds outside the
// go command (Bazel) do not carry.
const syftVersion = "v1.57.1"

// NamespacePrefix starts every document namespace.
const NamespacePrefix = "https://spdx.relkit.dev/"

// Options control document metadata that cannot be derived from the artifact.
type Options struct {
	// Created is the document creation time, normally SOURCE_DATE_EPOCH.
	// It is written in UTC with second precision and must be set.
	Created time.Time
	// MainVersion, if set, is the version of each main module whose build
	// information records none. Reproducible builds (-trimpath, no VCS
	// stamping) record "(devel)"; the release tag, e.g. v1.2.3, fills in.
	MainVersion string
}

// Prepare returns ctx carrying syft's licence scanner. syft builds that
// scanner (about a second of CPU) in every Generate whose context lacks one,
// although the Go binary cataloger never uses it here; callers writing
// several documents prepare once and pass the result to each Generate.
func Prepare(ctx context.Context) (context.Context, error) {
	return syft.SetContextLicenseScanner(ctx, createConfig().Licenses)
}

// Generate returns the SPDX 2.3 JSON document for the artifact at path. It
// fails if the artifact holds no Go build information.
func Generate(ctx context.Context, path string, opts Options) ([]byte, error) {
	if opts.Created.IsZero() {
		return nil, errors.New("sbom: creation time is not set")
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	src, err := filesource.New(filesource.Config{
		Path:             path,
		DigestAlgorithms: []crypto.Hash{crypto.SHA256},
	})
	if err != nil {
		// syft's message repeats the path in each layer; the innermost cause
		// (e.g. "zip: not a valid zip file") is what the user needs.
		for errors.Unwrap(err) != nil {
			err = errors.Unwrap(err)
		}
		return nil, fmt.Errorf("%s: cannot unpack: %w", path, err)
	}
	defer src.Close()

	s, err := syft.CreateSBOM(ctx, src, createConfig())
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	if len(s.Artifacts.Packages.Sorted(pkg.GoModulePkg)) == 0 {
		return nil, fmt.Errorf("%s: no Go build information found: want a Go binary built with modules, or a .tar.gz or .zip holding one", path)
	}
	if opts.MainVersion != "" {
		setMainVersion(s.Artifacts.Packages, opts.MainVersion)
	}

	doc := spdxhelpers.ToFormatModel(*s)
	if doc == nil {
		return nil, fmt.Errorf("%s: cannot convert to SPDX", path)
	}
	name := filepath.Base(path)
	doc.DocumentName = name
	doc.DocumentNamespace = NamespacePrefix + url.PathEscape(name) + "-sha256-" + sum
	doc.CreationInfo.Created = opts.Created.UTC().Format(time.RFC3339)
	doc.CreationInfo.Creators = []spdx.Creator{
		{CreatorType: "Tool", Creator: "relkit"},
		{CreatorType: "Tool", Creator: "syft-" + syftVersion},
	}
	sortDocument(doc)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode SBOM of %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// createConfig selects only the Go binary cataloger and the file catalogers,
// with every remote or host lookup off: licenses come from the binary alone,
// never from a module proxy or the local module cache.
func createConfig() *syft.CreateSBOMConfig {
	goCfg := golang.CatalogerConfig{
		MainModuleVersion: golang.DefaultMainModuleVersionConfig(),
		CaptureSymbols:    cataloging.SymbolScopeNone,
	}
	cfg := syft.DefaultCreateSBOMConfig()
	cfg.Packages = cfg.Packages.WithGolangConfig(goCfg)
	// SPDX 2.3 requires a SHA1 checksum for every file.
	cfg.Files.Hashers = []crypto.Hash{crypto.SHA1, crypto.SHA256}
	return cfg.
		WithTool("relkit", "syft-"+syftVersion).
		WithCatalogerSelection(cataloging.NewSelectionRequest().WithDefaults("go-module-binary-cataloger", "file"))
}

// setMainVersion gives version to each main module that has none (syft
// writes UNKNOWN then). The package keeps its ID, so relationships to it
// still hold.
func setMainVersion(c *pkg.Collection, version string) {
	for _, p := range c.Sorted(pkg.GoModulePkg) {
		m, ok := p.Metadata.(pkg.GolangBinaryBuildinfoEntry)
		if !ok || m.MainModule != p.Name || (p.Version != "" && p.Version != cataloging.UnknownStubValue) {
			continue
		}
		purl, err := packageurl.FromString(p.PURL)
		if err != nil {
			continue
		}
		purl.Version = version
		c.Delete(p.ID())
		p.Version = version
		p.PURL = purl.ToString()
		c.Add(p)
	}
}

// GenerateAs is Generate for the file at path as if it were named name, a
// base name: the document of a binary a release ships under another name,
// such as /NAME in a container image. The file is copied to a temporary
// directory for syft to read it under that name.
func GenerateAs(ctx context.Context, path, name string, opts Options) ([]byte, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("sbom: %q is not a file name", name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "relkit-sbom-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return nil, err
	}
	doc, err := Generate(ctx, p, opts)
	if err != nil {
		// Name the file the caller knows, not the temporary copy.
		return nil, errors.New(strings.ReplaceAll(err.Error(), p, path))
	}
	return doc, nil
}

// sortDocument orders every list so the output does not depend on map or
// cataloging order.
func sortDocument(doc *spdx.Document) {
	slices.SortFunc(doc.Packages, func(a, b *spdx.Package) int {
		return cmp.Or(
			cmp.Compare(a.PackageName, b.PackageName),
			cmp.Compare(a.PackageVersion, b.PackageVersion),
			cmp.Compare(a.PackageSPDXIdentifier, b.PackageSPDXIdentifier))
	})
	slices.SortFunc(doc.Files, func(a, b *spdx.File) int {
		return cmp.Or(
			cmp.Compare(a.FileName, b.FileName),
			cmp.Compare(a.FileSPDXIdentifier, b.FileSPDXIdentifier))
	})
	slices.SortFunc(doc.Relationships, func(a, b *spdx.Relationship) int {
		return cmp.Or(
			cmp.Compare(a.RefA.ElementRefID, b.RefA.ElementRefID),
			cmp.Compare(a.Relationship, b.Relationship),
			cmp.Compare(a.RefB.ElementRefID, b.RefB.ElementRefID),
			cmp.Compare(a.RelationshipComment, b.RelationshipComment))
	})
	slices.SortFunc(doc.OtherLicenses, func(a, b *spdx.OtherLicense) int {
		return cmp.Compare(a.LicenseIdentifier, b.LicenseIdentifier)
	})
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read artifact: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read artifact: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
