package msi

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/relkit/relkit/tools/release"
)

// Vars are the values a template can use, written {{.ProductName}} and so on.
// Every value is XML-escaped when substituted.
type Vars struct {
	ProductName    string // connector name, e.g. baton-okta
	Binary         string // executable name without ".exe"
	Vendor         string // Manufacturer; folder under Program Files
	Tag            string // v1.2.3-rc.1
	Version        string // 1.2.3-rc.1
	ProductVersion string // 1.2.3.0
	Major          uint64
	Minor          uint64
	Patch          uint64
	MsiArch        string // x64 or arm64
	Arch           string // amd64 or arm64
	UpgradeCode    string
	ProductCode    string
	PackageCode    string

	ServiceName        string
	ServiceDisplayName string
	ServiceDescription string
	ServiceArguments   string
}

// msiArch maps a Go GOARCH to the WiX -arch value and the summary
// information Template platform ("x64;1033", "Arm64;1033").
var msiArch = map[string]struct{ wix, platform string }{
	"amd64": {"x64", "x64"},
	"arm64": {"arm64", "Arm64"},
}

// NewVars computes the variables for a connector release. The ProductCode is
// a UUIDv5 under the UpgradeCode of the version and architecture, so every
// release (a pre-release included) and each architecture is its own product,
// while rebuilding a release gives the same code. PackageCode is left empty:
// Build derives it from the digests of everything that goes into the package.
func NewVars(name, binary, vendor string, tag release.Tag, arch string) (Vars, error) {
	if err := release.CheckName("name", name); err != nil {
		return Vars{}, err
	}
	if binary == "" {
		binary = name
	}
	if err := release.CheckName("binary name", binary); err != nil {
		return Vars{}, err
	}
	if err := checkVendor(vendor); err != nil {
		return Vars{}, err
	}
	a, ok := msiArch[arch]
	if !ok {
		return Vars{}, fmt.Errorf("arch %q: want amd64 or arm64 (Windows Installer packages for 64-bit Windows)", arch)
	}
	pv, err := tag.MSIVersion()
	if err != nil {
		return Vars{}, err
	}
	upgrade := release.UpgradeCode(name)
	return Vars{
		ProductName:        name,
		Binary:             binary,
		Vendor:             vendor,
		Tag:                tag.String(),
		Version:            tag.Version(),
		ProductVersion:     pv,
		Major:              tag.Major,
		Minor:              tag.Minor,
		Patch:              tag.Patch,
		MsiArch:            a.wix,
		Arch:               arch,
		UpgradeCode:        upgrade,
		ProductCode:        guid(upgrade, "ProductCode", tag.Version(), a.wix),
		ServiceName:        name,
		ServiceDisplayName: name,
		ServiceDescription: name + " service",
	}, nil
}

// checkVendor rejects what Windows does not allow in a folder name.
func checkVendor(v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("vendor is empty; give the company name used as Manufacturer and the Program Files folder")
	}
	if i := strings.IndexAny(v, `\/:*?"<>|`); i >= 0 {
		return fmt.Errorf("vendor %q: %q is not allowed in a Windows folder name", v, v[i])
	}
	for _, r := range v {
		if r < 0x20 {
			return fmt.Errorf("vendor %q: control characters are not allowed", v)
		}
	}
	if strings.HasSuffix(v, ".") || strings.HasSuffix(v, " ") {
		return fmt.Errorf("vendor %q: Windows folder names cannot end in a dot or space", v)
	}
	return nil
}

// values is the template data: every variable by name, as text.
func (v Vars) values() map[string]string {
	m := map[string]string{
		"ProductName":        v.ProductName,
		"ProjectName":        v.ProductName, // the name GoReleaser templates used
		"Binary":             v.Binary,
		"Vendor":             v.Vendor,
		"Tag":                v.Tag,
		"Version":            v.Version,
		"ProductVersion":     v.ProductVersion,
		"Major":              strconv.FormatUint(v.Major, 10),
		"Minor":              strconv.FormatUint(v.Minor, 10),
		"Patch":              strconv.FormatUint(v.Patch, 10),
		"MsiArch":            v.MsiArch,
		"Arch":               v.Arch,
		"UpgradeCode":        v.UpgradeCode,
		"ProductCode":        v.ProductCode,
		"PackageCode":        v.PackageCode,
		"ServiceName":        v.ServiceName,
		"ServiceDisplayName": v.ServiceDisplayName,
		"ServiceDescription": v.ServiceDescription,
		"ServiceArguments":   v.ServiceArguments,
	}
	return m
}

// VarNames lists the variable names a template may use, sorted.
func VarNames() []string {
	var names []string
	for k := range (Vars{}).values() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// guid returns an upper-case name-based (SHA-1, version 5) UUID of parts
// under the namespace UUID ns, e.g. the UpgradeCode.
func guid(ns string, parts ...string) string {
	nsBytes, err := hex.DecodeString(strings.ReplaceAll(strings.Trim(ns, "{}"), "-", ""))
	if err != nil || len(nsBytes) != 16 {
		panic("msi: bad namespace UUID " + ns) // callers pass computed UUIDs only
	}
	h := sha1.New()
	h.Write(nsBytes)
	// NUL separators keep ("ab","c") and ("a","bc") apart.
	h.Write([]byte(strings.Join(parts, "\x00")))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
}
