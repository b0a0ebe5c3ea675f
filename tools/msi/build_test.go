package msi

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/testutil/wintest"
)

// The commit time the builds use: 2023-11-14 22:13:20 UTC.
const testEpoch = 1700000000

// requireTools fails (not skips) without msitools: CI installs them.
func requireTools(t *testing.T) Tools {
	t.Helper()
	tools, err := FindTools()
	if err != nil {
		t.Fatalf("%v", err)
	}
	if _, err := exec.LookPath("msiextract"); err != nil {
		t.Fatal("msiextract not found on PATH; run scripts/install-msi-tools.sh")
	}
	return tools
}

type built struct {
	path  string
	vars  Vars
	tools Tools
}

func build(t *testing.T, tag, arch, tmpl, exe string) built {
	t.Helper()
	tools := requireTools(t)
	v := testVars(t, tag, arch)
	v.ServiceArguments = `service run --config "[INSTALLFOLDER]config.yaml"`
	out := filepath.Join(t.TempDir(), release.MSIName("baton-okta", mustTag(t, tag), arch))
	v, err := Build(context.Background(), out, Options{Vars: v, Binary: exe, Template: builtin(t, tmpl), TemplateName: tmpl, Epoch: testEpoch})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return built{out, v, tools}
}

func mustTag(t *testing.T, s string) release.Tag {
	t.Helper()
	tag, err := release.ParseTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func (b built) table(t *testing.T, name string) *Table {
	t.Helper()
	tb, err := ReadTable(context.Background(), b.tools.Msiinfo, b.path, name)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// rows renders a table's rows as "a|b|c" lines for readable comparisons.
func (b built) rows(t *testing.T, name string) []string {
	t.Helper()
	tb := b.table(t, name)
	var out []string
	for _, r := range tb.Rows {
		out = append(out, strings.Join(r, "|"))
	}
	return out
}

func (b built) property(t *testing.T, name string) string {
	t.Helper()
	tb := b.table(t, "Property")
	row := tb.Find("Property", name)
	if row == nil {
		t.Fatalf("Property table has no %s", name)
	}
	return tb.Get(row, "Value")
}

func (b built) summary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(b.tools.Msiinfo, "suminfo", b.path).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func contains(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("%s lacks %q; got:\n  %s", what, w, strings.Join(got, "\n  "))
		}
	}
}

func TestBuildDefault(t *testing.T) {
	exe := wintest.Exe(t, "amd64")
	b := build(t, "v1.2.3-rc.1", "amd64", "default.wxs", exe)
	up := "{5A97CB0C-9F4A-5E8A-8A12-CB498C89A6AF}"

	for name, want := range map[string]string{
		"UpgradeCode":    up,
		"ProductVersion": "1.2.3.0",
		"Manufacturer":   "ConductorOne",
		"ProductName":    "baton-okta",
		"ProductCode":    "{" + b.vars.ProductCode + "}",
		"ALLUSERS":       "1",
	} {
		if got := b.property(t, name); got != want {
			t.Errorf("Property %s = %q, want %q", name, got, want)
		}
	}
	// Upgrades replace older versions; newer ones are detected to refuse a downgrade.
	contains(t, "Upgrade", b.rows(t, "Upgrade"),
		up+"||1.2.3.0||1||WIX_UPGRADE_DETECTED",
		up+"|1.2.3.0|||2||WIX_DOWNGRADE_DETECTED")
	contains(t, "Environment", b.rows(t, "Environment"), "PATH|=-*PATH|[~];[INSTALLFOLDER]|PathEntry")
	contains(t, "InstallExecuteSequence", b.rows(t, "InstallExecuteSequence"),
		"InstallInitialize||1500", "RemoveExistingProducts||1501",
		"RemoveEnvironmentStrings||3300", "WriteEnvironmentStrings||5200")
	contains(t, "Directory", b.rows(t, "Directory"),
		"INSTALLFOLDER|VendorFolder|baton-okta", "VendorFolder|ProgramFiles64Folder|ConductorOne")

	info, _ := os.Stat(exe)
	files := b.table(t, "File")
	row := files.Find("FileName", "baton-okta.exe")
	if row == nil || files.Get(row, "FileSize") != itoa(info.Size()) {
		t.Errorf("File table has no baton-okta.exe of %d bytes: %v", info.Size(), files.Rows)
	}
	extracted := extract(t, b)
	if !bytes.Equal(extracted, readFile(t, exe)) {
		t.Error("the extracted executable differs from the input")
	}

	sum := b.summary(t)
	for _, want := range []string{
		"Template: x64;1033",
		"Revision number (UUID): {" + b.vars.PackageCode + "}",
		"Created: Tue Nov 14 22:13:20 2023",
		"Last saved: Tue Nov 14 22:13:20 2023",
		"Subject: baton-okta installer",
		"Author: ConductorOne",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary information lacks %q:\n%s", want, sum)
		}
	}
}

func TestBuildIsReproducible(t *testing.T) {
	exe := wintest.Exe(t, "amd64")
	// A copy at another path with another mtime: neither may matter.
	other := filepath.Join(t.TempDir(), "copy.exe")
	if err := os.WriteFile(other, readFile(t, exe), 0o755); err != nil {
		t.Fatal(err)
	}
	a := build(t, "v1.2.3", "amd64", "default.wxs", exe)
	b := build(t, "v1.2.3", "amd64", "default.wxs", other)
	if !bytes.Equal(readFile(t, a.path), readFile(t, b.path)) {
		t.Fatal("two builds of the same inputs differ")
	}
	if a.vars.PackageCode != b.vars.PackageCode {
		t.Errorf("PackageCode %s != %s", a.vars.PackageCode, b.vars.PackageCode)
	}
}

func TestBuildVersionsShareUpgradeCode(t *testing.T) {
	exe := wintest.Exe(t, "amd64")
	a := build(t, "v1.2.3", "amd64", "default.wxs", exe)
	b := build(t, "v1.3.0", "amd64", "default.wxs", exe)
	if a.property(t, "UpgradeCode") != b.property(t, "UpgradeCode") {
		t.Error("UpgradeCode differs across versions")
	}
	if a.property(t, "ProductCode") == b.property(t, "ProductCode") {
		t.Error("ProductCode is the same for two versions")
	}
	if a.vars.PackageCode == b.vars.PackageCode {
		t.Error("PackageCode is the same for two packages")
	}
}

func TestBuildArchitectures(t *testing.T) {
	x64 := build(t, "v1.2.3", "amd64", "default.wxs", wintest.Exe(t, "amd64"))
	arm := build(t, "v1.2.3", "arm64", "default.wxs", wintest.Exe(t, "arm64"))
	if s := x64.summary(t); !strings.Contains(s, "Template: x64;1033") {
		t.Errorf("x64 package summary:\n%s", s)
	}
	if s := arm.summary(t); !strings.Contains(s, "Template: Arm64;1033") {
		t.Errorf("arm64 package summary:\n%s", s)
	}
	// Both install 64-bit components (msidbComponentAttributes64bit).
	comps := arm.table(t, "Component")
	if row := comps.Find("Component", "Executable"); row == nil || comps.Get(row, "Attributes") != "256" {
		t.Errorf("arm64 Executable component is not 64-bit: %v", comps.Rows)
	}
	if x64.property(t, "ProductCode") == arm.property(t, "ProductCode") {
		t.Error("x64 and arm64 packages share a ProductCode")
	}
}

func TestBuildService(t *testing.T) {
	b := build(t, "v1.2.3", "amd64", "service.wxs", wintest.Exe(t, "amd64"))
	contains(t, "ServiceInstall", b.rows(t, "ServiceInstall"),
		`Service|baton-okta|baton-okta|16|2|1|||LocalSystem||service run --config "[INSTALLFOLDER]config.yaml"|Executable|baton-okta service`)
	// 163 = start on install (1), stop on install (2) and uninstall (32), delete on uninstall (128).
	contains(t, "ServiceControl", b.rows(t, "ServiceControl"), "ServiceControl|baton-okta|163||1|Executable")
	// The service's component has the executable as its KeyPath.
	comps := b.table(t, "Component")
	if row := comps.Find("Component", "Executable"); row == nil || comps.Get(row, "KeyPath") != "ExecutableFile" {
		t.Errorf("Executable component KeyPath: %v", comps.Rows)
	}
	contains(t, "Environment", b.rows(t, "Environment"), "PATH|=-*PATH|[~];[INSTALLFOLDER]|PathEntry")
}

func TestBuildBadInput(t *testing.T) {
	requireTools(t)
	exe := wintest.Exe(t, "amd64")
	dir := t.TempDir()
	v := testVars(t, "v1.2.3", "amd64")
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"missing binary", Options{Binary: filepath.Join(dir, "nope.exe"), Template: builtin(t, "default.wxs")},
			"nope.exe does not exist; build the windows/amd64 executable first"},
		{"wrong arch", Options{Binary: wintest.Exe(t, "arm64"), Template: builtin(t, "default.wxs")},
			"is built for windows/arm64, not windows/amd64"},
		{"not an executable", Options{Binary: filepath.Join(dir, "app.wxs"), Template: builtin(t, "default.wxs")},
			"is not a Windows executable"},
		{"unknown variable", Options{Binary: exe, Template: []byte(`<Wix>{{.UpgradeGUID}}</Wix>`)},
			"unknown variable .UpgradeGUID"},
		{"unsupported element", Options{Binary: exe, Template: []byte(`<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><Product><Environment/></Product></Wix>`)},
			"<Environment> is not supported by wixl"},
		{"old epoch", Options{Binary: exe, Template: builtin(t, "default.wxs"), Epoch: 1}, "epoch 1: want a time from 1980 to 2107"},
		{"wixl failure", Options{Binary: exe, Template: []byte(`<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><Product Id="{{.ProductCode}}" Name="a" Version="1.0.0.0" Manufacturer="x" UpgradeCode="{{.UpgradeCode}}"><Package/>` +
			`<Directory Id="TARGETDIR" Name="SourceDir"><Component Id="C" Guid="*"><File Source="icon.ico"/></Component></Directory></Product></Wix>`)},
			"wixl could not build template custom.wxs: wixl: exit status 1: Couldn't find file icon.ico"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "app.wxs"), []byte("<Wix/>"), 0o644)
			c.opts.Vars, c.opts.TemplateName = v, "custom.wxs"
			if c.opts.Epoch == 0 {
				c.opts.Epoch = testEpoch
			}
			out := filepath.Join(dir, "out.msi")
			_, err := Build(context.Background(), out, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Build = %v, want an error containing %q", err, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a failed build left an output file")
			}
		})
	}
}

func extract(t *testing.T, b built) []byte {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("msiextract", "-C", dir, b.path).CombinedOutput(); err != nil {
		t.Fatalf("msiextract: %v\n%s", err, out)
	}
	var found []byte
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "baton-okta.exe" {
			found = readFile(t, p)
		}
		return nil
	})
	if found == nil {
		t.Fatal("msiextract produced no baton-okta.exe")
	}
	return found
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBuildEmulatesMajorUpgradeAttributes(t *testing.T) {
	tools := requireTools(t)
	src := strings.Replace(string(builtin(t, "default.wxs")), `Schedule="afterInstallInitialize"`,
		`Schedule="afterInstallFinalize" AllowSameVersionUpgrades="yes"`, 1)
	out := filepath.Join(t.TempDir(), "same.msi")
	v, err := Build(context.Background(), out, Options{Vars: testVars(t, "v1.2.3", "amd64"), Binary: wintest.Exe(t, "amd64"), Template: []byte(src), Epoch: testEpoch})
	if err != nil {
		t.Fatal(err)
	}
	b := built{out, v, tools}
	// 513 = migrate features (1) + maximum version inclusive (512).
	contains(t, "Upgrade", b.rows(t, "Upgrade"), "{"+v.UpgradeCode+"}||1.2.3.0||513||WIX_UPGRADE_DETECTED")
	contains(t, "InstallExecuteSequence", b.rows(t, "InstallExecuteSequence"), "InstallFinalize||6600", "RemoveExistingProducts||6601")
}
