package release

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Platform is a GOOS/GOARCH pair relkit releases for.
type Platform struct{ OS, Arch string }

// DefaultPlatforms are built unless a release narrows them. windows/arm64 is
// included: the same cross-compiler makes it at no extra cost.
var DefaultPlatforms = []Platform{
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"linux", "amd64"}, {"linux", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// Key is the platform's key in manifest.json, e.g. "linux-amd64".
func (p Platform) Key() string { return p.OS + "-" + p.Arch }

// String is the Go form, e.g. "linux/amd64".
func (p Platform) String() string { return p.OS + "/" + p.Arch }

// ArchiveFormat is "tar.gz" for linux and "zip" elsewhere, as users of the
// previous pipeline expect.
func (p Platform) ArchiveFormat() string {
	if p.OS == "linux" {
		return "tar.gz"
	}
	return "zip"
}

// BinaryName is the executable's name inside the archive.
func (p Platform) BinaryName(name string) string {
	if p.OS == "windows" {
		return name + ".exe"
	}
	return name
}

// ParsePlatform accepts "os/arch" or "os-arch" for a supported platform.
func ParsePlatform(s string) (Platform, error) {
	os, arch, ok := strings.Cut(s, "/")
	if !ok {
		os, arch, ok = strings.Cut(s, "-")
	}
	p := Platform{os, arch}
	if ok {
		for _, d := range DefaultPlatforms {
			if d == p {
				return p, nil
			}
		}
	}
	var names []string
	for _, d := range DefaultPlatforms {
		names = append(names, d.String())
	}
	return Platform{}, fmt.Errorf("platform %q is not supported; supported: %s", s, strings.Join(names, ", "))
}

// SortPlatforms orders platforms by key.
func SortPlatforms(ps []Platform) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Key() < ps[j].Key() })
}

// ArchiveName is the archive file name: "R-TAG-os-arch.tar.gz" or ".zip".
func ArchiveName(repo string, tag Tag, p Platform) string {
	return fmt.Sprintf("%s-%s-%s.%s", repo, tag, p.Key(), p.ArchiveFormat())
}

// MSIName is the installer file name: "R_TAG_windows_ARCH.msi".
func MSIName(repo string, tag Tag, arch string) string {
	return fmt.Sprintf("%s_%s_windows_%s.msi", repo, tag, arch)
}

// MSIKey is the installer's key in manifest.json, e.g. "windows-amd64-msi".
func MSIKey(arch string) string { return "windows-" + arch + "-msi" }

// ChecksumsName is the checksums file name: "R_VER_checksums.txt" (no "v").
func ChecksumsName(repo string, tag Tag) string {
	return fmt.Sprintf("%s_%s_checksums.txt", repo, tag.Version())
}

// ChecksumsKey is the checksums file's key in manifest.json.
const ChecksumsKey = "checksums"

// Side-file suffixes of a published artifact.
const (
	SigSuffix        = ".sig"
	CertSuffix       = ".cert"
	ProvenanceSuffix = ".provenance.sigstore.json"
	SBOMBundleSuffix = ".sbom.sigstore.json"
	SBOMSuffix       = ".sbom.json"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckName validates an org or repo name used in paths and artifact names.
func CheckName(what, s string) error {
	if !nameRE.MatchString(s) || len(s) > 100 {
		return fmt.Errorf("%s %q: want 1-100 characters of [A-Za-z0-9._-], starting with a letter or digit", what, s)
	}
	return nil
}
