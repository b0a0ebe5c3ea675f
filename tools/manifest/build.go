package manifest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/release"
)

// BuildOptions describe the release directory Build reads.
type BuildOptions struct {
	Dir  string // release directory holding the assets and the checksums file
	Org  string // ORG, case preserved
	Repo string // R, the connector and binary name
	Tag  string // release tag, e.g. v1.2.3
	// BaseURL is the public download root; assets live under
	// BaseURL/releases/ORG/R/TAG/.
	BaseURL string
	// ReleasedAt is written when not zero. Leave it zero in the build half,
	// which must not depend on the clock.
	ReleasedAt time.Time
	// Platforms whose archives must exist; nil means release.DefaultPlatforms.
	Platforms []release.Platform
	// Skip lists asset keys (e.g. "windows-arm64") left out on purpose.
	Skip []string
	// ExpectAttestations declares the bundles publishing will create (see
	// the package documentation) in addition to those already in Dir.
	ExpectAttestations bool
}

// wanted is an asset Build looks for.
type wanted struct {
	key, file string
	optional  bool // installers are built only when the release asks for them
}

// Build makes the manifest of the release in opts.Dir. Every platform's
// archive must be there; an installer (R_TAG_windows_ARCH.msi) is included
// when present. The checksums file (R_VER_checksums.txt) must list exactly
// these assets, and each asset's content must match its listed sha256. The
// result depends only on the options and the files' content, not on where
// Dir is.
func Build(ctx context.Context, opts BuildOptions) (*Manifest, error) {
	tag, err := release.ParseTag(opts.Tag)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(release.CheckName("org", opts.Org), release.CheckName("repo", opts.Repo)); err != nil {
		return nil, err
	}
	base, err := releaseURL(opts.BaseURL, opts.Org, opts.Repo, tag)
	if err != nil {
		return nil, err
	}
	wants, err := wantedAssets(opts, tag)
	if err != nil {
		return nil, err
	}
	assets, err := presentAssets(opts.Dir, wants)
	if err != nil {
		return nil, err
	}
	csName := release.ChecksumsName(opts.Repo, tag)
	sums, err := verifyChecksums(ctx, opts.Dir, csName, assets)
	if err != nil {
		return nil, err
	}

	m := &Manifest{
		Version:         Version,
		Name:            opts.Repo,
		Org:             opts.Org,
		Semver:          tag.String(),
		Assets:          make(map[string]Asset, len(assets)+1),
		SignatureHref:   base + "/manifest.json" + release.SigSuffix,
		CertificateHref: base + "/manifest.json" + release.CertSuffix,
	}
	if !opts.ReleasedAt.IsZero() {
		m.ReleasedAt = opts.ReleasedAt.UTC()
	}
	for _, w := range assets {
		info, err := os.Stat(filepath.Join(opts.Dir, w.file))
		if err != nil {
			return nil, err
		}
		if m.Assets[w.key], err = newAsset(opts, base, w.file, sums[w.file], info.Size()); err != nil {
			return nil, err
		}
	}
	csSum, csSize, err := checksum.File(filepath.Join(opts.Dir, csName))
	if err != nil {
		return nil, fmt.Errorf("hash checksums file: %w", err)
	}
	if m.Assets[release.ChecksumsKey], err = newAsset(opts, base, csName, csSum, csSize); err != nil {
		return nil, err
	}
	m.summarize()
	return m, nil
}

// releaseURL returns BASE: the base URL without a trailing slash, then
// /releases/ORG/R/TAG.
func releaseURL(baseURL, org, repo string, tag release.Tag) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base URL %q: want an http(s) URL without query, e.g. https://dist.example.com", baseURL)
	}
	return strings.TrimRight(baseURL, "/") + "/releases/" + org + "/" + repo + "/" + tag.String(), nil
}

// wantedAssets lists the archives and installers of the platforms, less the
// skipped keys.
func wantedAssets(opts BuildOptions, tag release.Tag) ([]wanted, error) {
	platforms := opts.Platforms
	if platforms == nil {
		platforms = release.DefaultPlatforms
	}
	if len(platforms) == 0 {
		return nil, errors.New("no platforms: a release needs at least one archive")
	}
	var all []wanted
	seen := make(map[release.Platform]bool)
	for _, p := range platforms {
		if seen[p] {
			return nil, fmt.Errorf("platform %s is listed twice", p)
		}
		seen[p] = true
		all = append(all, wanted{key: p.Key(), file: release.ArchiveName(opts.Repo, tag, p)})
		if p.OS == "windows" {
			all = append(all, wanted{key: release.MSIKey(p.Arch), file: release.MSIName(opts.Repo, tag, p.Arch), optional: true})
		}
	}
	skip := make(map[string]bool)
	for _, k := range opts.Skip {
		if !slices.ContainsFunc(all, func(w wanted) bool { return w.key == k }) {
			var keys []string
			for _, w := range all {
				keys = append(keys, w.key)
			}
			slices.Sort(keys)
			return nil, fmt.Errorf("skip %q: not an asset key of this release; keys: %s", k, strings.Join(keys, ", "))
		}
		skip[k] = true
	}
	var out []wanted
	for _, w := range all {
		if !skip[w.key] {
			out = append(out, w)
		}
	}
	return out, nil
}

// presentAssets returns the wanted assets found in dir. A missing archive is
// an error; a missing installer is not.
func presentAssets(dir string, wants []wanted) ([]wanted, error) {
	var found []wanted
	var missing, keys []string
	for _, w := range wants {
		ok, err := isFile(filepath.Join(dir, w.file))
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			found = append(found, w)
		case !w.optional:
			missing = append(missing, fmt.Sprintf("%s (%s)", w.key, w.file))
			keys = append(keys, w.key)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: missing archives for %s; build them, or pass --skip %s if they are left out on purpose", dir, strings.Join(missing, ", "), strings.Join(keys, ","))
	}
	return found, nil
}

// verifyChecksums reads the checksums file in dir, checks that it lists
// exactly the assets and that each asset's content matches, and returns the
// digests by file name.
func verifyChecksums(ctx context.Context, dir, name string, assets []wanted) (map[string]string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: missing checksums file %s; write it over the release's archives and installers first", dir, name)
	}
	if err != nil {
		return nil, err
	}
	lines, err := checksum.Parse(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	sums := make(map[string]string, len(lines))
	for _, l := range lines {
		sums[l.Name] = l.SHA256
	}
	isAsset := make(map[string]bool, len(assets))
	var unlisted, extra []string
	for _, w := range assets {
		isAsset[w.file] = true
		if _, ok := sums[w.file]; !ok {
			unlisted = append(unlisted, w.file)
		}
	}
	for _, l := range lines {
		if !isAsset[l.Name] {
			extra = append(extra, l.Name)
		}
	}
	slices.Sort(unlisted)
	slices.Sort(extra)
	var problems []string
	if len(unlisted) > 0 {
		problems = append(problems, "does not list "+strings.Join(unlisted, ", "))
	}
	if len(extra) > 0 {
		problems = append(problems, "lists "+strings.Join(extra, ", ")+", which are not assets of this release (missing, skipped or misnamed)")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s %s; it must list exactly the release's archives and installers", path, strings.Join(problems, " and "))
	}

	var errs []error
	for _, r := range checksum.Check(ctx, dir, lines) {
		switch {
		case errors.Is(r.Err, checksum.ErrMismatch):
			errs = append(errs, fmt.Errorf("%s: content does not match its sha256 in %s; the file changed after the checksums were written", filepath.Join(dir, r.Name), name))
		case r.Err != nil:
			errs = append(errs, fmt.Errorf("hash %s: %w", filepath.Join(dir, r.Name), r.Err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sums, nil
}

func newAsset(opts BuildOptions, base, file, sha256 string, size int64) (Asset, error) {
	href := base + "/" + file
	a := Asset{
		Filename:        file,
		MediaType:       mediaType(file),
		SizeBytes:       size,
		SHA256:          sha256,
		Href:            href,
		SignatureHref:   href + release.SigSuffix,
		CertificateHref: href + release.CertSuffix,
	}
	exists := func(suffix string) (bool, error) { return isFile(filepath.Join(opts.Dir, file+suffix)) }
	prov, err := exists(release.ProvenanceSuffix)
	if err != nil {
		return Asset{}, err
	}
	if prov || opts.ExpectAttestations {
		a.Attestations = append(a.Attestations, AttestationDescriptor{StatementType, SLSAPredicate, href + release.ProvenanceSuffix})
	}
	sbom, err := exists(release.SBOMBundleSuffix)
	if err != nil {
		return Asset{}, err
	}
	if !sbom && opts.ExpectAttestations {
		if sbom, err = exists(release.SBOMSuffix); err != nil {
			return Asset{}, err
		}
	}
	if sbom {
		a.Attestations = append(a.Attestations, AttestationDescriptor{StatementType, SPDXPredicate, href + release.SBOMBundleSuffix})
	}
	return a, nil
}

func mediaType(file string) string {
	switch {
	case strings.HasSuffix(file, ".tar.gz"):
		return MediaGzip
	case strings.HasSuffix(file, ".zip"):
		return MediaZip
	case strings.HasSuffix(file, ".msi"):
		return MediaMSI
	default:
		return MediaPlain
	}
}

// isFile reports whether path is a regular file; a directory or other
// non-file at path is an error, since it cannot be released.
func isFile(path string) (bool, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !info.Mode().IsRegular() {
		return false, fmt.Errorf("%s is not a regular file", path)
	}
	return true, nil
}
