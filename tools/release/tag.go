package release

import (
	"fmt"
	"strconv"
	"strings"
)

// Tag is a parsed release tag: semver 2.0.0 with a mandatory leading "v" and
// no build metadata.
type Tag struct {
	Major, Minor, Patch uint64
	// Prerelease is the part after "-", without the dash; empty for a final release.
	Prerelease string
}

// ParseTag parses a release tag such as "v1.2.3" or "v1.2.3-rc.1".
//
// Build metadata ("+build.1") is valid semver but rejected: "+" is not a legal
// OCI tag character and is ambiguous in S3 keys and URLs ("+" vs space).
func ParseTag(s string) (Tag, error) {
	bad := func(why string) (Tag, error) {
		return Tag{}, fmt.Errorf("tag %q: %s", s, why)
	}
	if s == "" {
		return bad("empty; want a semver tag like v1.2.3 or v1.2.3-rc.1")
	}
	if s[0] != 'v' {
		return bad("must start with a lowercase 'v', like v1.2.3")
	}
	rest := s[1:]
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		return bad("build metadata (\"+" + rest[i+1:] + "\") is not allowed: '+' is illegal in container image tags and ambiguous in S3 keys; use a pre-release like -rc.1 instead")
	}
	core, pre, hasPre := strings.Cut(rest, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return bad("want MAJOR.MINOR.PATCH after the 'v', like v1.2.3")
	}
	var nums [3]uint64
	for i, p := range parts {
		n, err := parseNumericID(p)
		if err != nil {
			return bad(fmt.Sprintf("%s version %q %s", [3]string{"major", "minor", "patch"}[i], p, err))
		}
		nums[i] = n
	}
	if hasPre {
		if pre == "" {
			return bad("empty pre-release after '-'")
		}
		for _, id := range strings.Split(pre, ".") {
			if err := checkPrereleaseID(id); err != nil {
				return bad(fmt.Sprintf("pre-release identifier %q %s", id, err))
			}
		}
	}
	return Tag{Major: nums[0], Minor: nums[1], Patch: nums[2], Prerelease: pre}, nil
}

func parseNumericID(p string) (uint64, error) {
	if p == "" {
		return 0, fmt.Errorf("is empty")
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("must be a number")
		}
	}
	if len(p) > 1 && p[0] == '0' {
		return 0, fmt.Errorf("has a leading zero")
	}
	n, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("is too large")
	}
	return n, nil
}

func checkPrereleaseID(id string) error {
	if id == "" {
		return fmt.Errorf("is empty")
	}
	numeric := true
	for _, c := range id {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
			numeric = false
		default:
			return fmt.Errorf("has %q; only [0-9A-Za-z-] are allowed", c)
		}
	}
	if numeric && len(id) > 1 && id[0] == '0' {
		return fmt.Errorf("is numeric with a leading zero")
	}
	return nil
}

// String returns the tag form, e.g. "v1.2.3-rc.1".
func (t Tag) String() string { return "v" + t.Version() }

// Ref returns the tag's git ref, e.g. "refs/tags/v1.2.3-rc.1": the source ref
// a release's keyless signatures must name.
func (t Tag) Ref() string { return "refs/tags/" + t.String() }

// Version returns the tag without its "v", e.g. "1.2.3-rc.1".
func (t Tag) Version() string {
	v := fmt.Sprintf("%d.%d.%d", t.Major, t.Minor, t.Patch)
	if t.Prerelease != "" {
		v += "-" + t.Prerelease
	}
	return v
}

// IsPrerelease reports whether the tag has a pre-release part.
func (t Tag) IsPrerelease() bool { return t.Prerelease != "" }

// MSI ProductVersion limits: major and minor are bytes, build is 16 bits.
const (
	msiMaxMajor = 255
	msiMaxMinor = 255
	msiMaxPatch = 65535
)

// MSIVersion returns the Windows Installer ProductVersion "MAJ.MIN.PAT.0".
// The pre-release is dropped (Windows Installer versions are four integers),
// and fields beyond the Windows Installer limits are an error.
func (t Tag) MSIVersion() (string, error) {
	var errs []string
	if t.Major > msiMaxMajor {
		errs = append(errs, fmt.Sprintf("major %d exceeds %d", t.Major, msiMaxMajor))
	}
	if t.Minor > msiMaxMinor {
		errs = append(errs, fmt.Sprintf("minor %d exceeds %d", t.Minor, msiMaxMinor))
	}
	if t.Patch > msiMaxPatch {
		errs = append(errs, fmt.Sprintf("patch %d exceeds %d", t.Patch, msiMaxPatch))
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("tag %s cannot be an MSI ProductVersion: %s (Windows Installer limits: major and minor 0-255, patch 0-65535)", t, strings.Join(errs, ", "))
	}
	return fmt.Sprintf("%d.%d.%d.0", t.Major, t.Minor, t.Patch), nil
}

// Forms is the JSON shape of `relkit version-forms`.
type Forms struct {
	Tag        string `json:"tag"`
	Version    string `json:"version"`
	MSIVersion string `json:"msiVersion,omitempty"`
}

// Forms returns every form of the tag. MSIVersion is empty when the tag is
// outside Windows Installer limits.
func (t Tag) Forms() Forms {
	msi, _ := t.MSIVersion()
	return Forms{Tag: t.String(), Version: t.Version(), MSIVersion: msi}
}

// Compare orders tags by semver precedence: -1, 0 or +1.
func (t Tag) Compare(o Tag) int {
	for _, d := range [3][2]uint64{{t.Major, o.Major}, {t.Minor, o.Minor}, {t.Patch, o.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case t.Prerelease == o.Prerelease:
		return 0
	case t.Prerelease == "":
		return 1
	case o.Prerelease == "":
		return -1
	}
	a, b := strings.Split(t.Prerelease, "."), strings.Split(o.Prerelease, ".")
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := comparePrereleaseID(a[i], b[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func comparePrereleaseID(a, b string) int {
	an, aErr := strconv.ParseUint(a, 10, 64)
	bn, bErr := strconv.ParseUint(b, 10, 64)
	switch {
	case aErr == nil && bErr == nil:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aErr == nil: // numeric identifiers sort before alphanumeric ones
		return -1
	case bErr == nil:
		return 1
	}
	return strings.Compare(a, b)
}
