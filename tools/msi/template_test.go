package msi

import (
	"github.com/relkit/relkit/tools/testutil/golden"
	"strings"
	"testing"

	msitemplates "github.com/relkit/relkit/templates/msi"
	"github.com/relkit/relkit/tools/release"
)

func testVars(t *testing.T, tag, arch string) Vars {
	t.Helper()
	tg, err := release.ParseTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVars("baton-okta", "", "ConductorOne", tg, arch)
	if err != nil {
		t.Fatal(err)
	}
	v.PackageCode = "00000000-0000-5000-8000-000000000000"
	return v
}

func builtin(t *testing.T, name string) []byte {
	t.Helper()
	b, err := msitemplates.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRenderBuiltinTemplates(t *testing.T) {
	for _, name := range []string{"default.wxs", "service.wxs"} {
		v := testVars(t, "v1.2.3-rc.1", "amd64")
		v.ServiceArguments = `service run --config "[INSTALLFOLDER]config.yaml"`
		out, err := Render(name, builtin(t, name), v)
		if err != nil {
			t.Fatalf("Render(%s) = %v", name, err)
		}
		if err := Check(name, out); err != nil {
			t.Fatalf("Check(%s) = %v", name, err)
		}
		golden.Check(t, name, out)
	}
}

func TestVarsFollowTheFacts(t *testing.T) {
	v := testVars(t, "v1.2.3-rc.1", "amd64")
	if v.UpgradeCode != "5A97CB0C-9F4A-5E8A-8A12-CB498C89A6AF" {
		t.Errorf("UpgradeCode = %s, want the UUIDv5 of baton-okta", v.UpgradeCode)
	}
	if v.ProductVersion != "1.2.3.0" || v.Version != "1.2.3-rc.1" || v.MsiArch != "x64" || v.Binary != "baton-okta" {
		t.Errorf("vars = %+v", v)
	}
	final := testVars(t, "v1.2.3", "amd64")
	arm := testVars(t, "v1.2.3", "arm64")
	if final.ProductCode == v.ProductCode || final.ProductCode == arm.ProductCode {
		t.Errorf("ProductCode must differ per release and per architecture: %s %s %s", v.ProductCode, final.ProductCode, arm.ProductCode)
	}
	if again := testVars(t, "v1.2.3", "amd64"); again.ProductCode != final.ProductCode {
		t.Errorf("ProductCode is not stable: %s then %s", final.ProductCode, again.ProductCode)
	}
}

func TestRenderSubstitutesCustomTemplates(t *testing.T) {
	src := `<Wix><P U="${UPGRADE_CODE}" N="{{.ProjectName}}" V="{{ .Vendor }}" A="{{.ServiceArguments}}" M="{{.Major}}.{{.Minor}}.{{.Patch}}"/></Wix>`
	v := testVars(t, "v1.2.3", "amd64")
	v.Vendor = "A&B"
	v.ServiceArguments = `run -c "x" <y>`
	out, err := Render("custom.wxs", []byte(src), v)
	if err != nil {
		t.Fatal(err)
	}
	want := `<Wix><P U="5A97CB0C-9F4A-5E8A-8A12-CB498C89A6AF" N="baton-okta" V="A&amp;B" A="run -c &#34;x&#34; &lt;y&gt;" M="1.2.3"/></Wix>`
	if string(out) != want {
		t.Errorf("Render =\n%s\nwant\n%s", out, want)
	}
}

func TestRenderRejectsUnknownVariables(t *testing.T) {
	src := "<Wix>\n  <Product Name=\"{{.ProductName}}\" Version=\"{{.MsiVersion}}\"/>\n  {{if .Foo}}x{{end}}\n</Wix>"
	_, err := Render("custom.wxs", []byte(src), testVars(t, "v1.2.3", "amd64"))
	if err == nil {
		t.Fatal("Render accepted unknown variables")
	}
	for _, want := range []string{".MsiVersion (custom.wxs:2:", ".Foo (custom.wxs:3:", "valid variables: .Arch, .Binary,", ".ProductVersion"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := Render("bad.wxs", []byte("{{.ProductName"), testVars(t, "v1.2.3", "amd64")); err == nil || !strings.Contains(err.Error(), "bad.wxs") {
		t.Errorf("a malformed template gave %v", err)
	}
}

func TestCheckRejectsWhatWixlCannotBuild(t *testing.T) {
	wrap := func(inner string) string {
		return `<?xml version="1.0"?>` + "\n" + `<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi" xmlns:util="http://schemas.microsoft.com/wix/UtilExtension">` + "\n" + inner + "\n</Wix>"
	}
	for _, c := range []struct{ doc, want string }{
		{wrap(`<Environment Id="PATH" Name="PATH" Value="[INSTALLFOLDER]"/>`), `custom.wxs:3: <Environment> is not supported by wixl, which builds relkit's installers: remove it: relkit adds the install folder to the system PATH itself, for the component with Id "PathEntry"`},
		{wrap(`<UIRef Id="WixUI_Minimal"/>`), "<UIRef> is not supported by wixl"},
		{wrap(`<util:XmlFile Id="x"/>`), `<XmlFile> in namespace "http://schemas.microsoft.com/wix/UtilExtension" is a WiX extension element`},
		{wrap(`<MajorUpgrade Schedule="afterInstallExecute"/>`), `Schedule="afterInstallExecute" is not supported; use one of afterInstallFinalize, afterInstallInitialize, afterInstallValidate`},
		{`<Wix xmlns="http://wixtoolset.org/schemas/v4/wxs"/>`, "WiX v4 schema"},
		{`<Product/>`, "root element must be <Wix"},
		{wrap(`<Product>`), "not well-formed XML"},
		{"", "empty document"},
	} {
		err := Check("custom.wxs", []byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q) = %v, want an error containing %q", c.doc, err, c.want)
		}
	}
}

func TestNewVarsRejectsBadInput(t *testing.T) {
	ok, _ := release.ParseTag("v1.2.3")
	big, _ := release.ParseTag("v1.256.0")
	for _, c := range []struct {
		name, vendor, arch string
		tag                release.Tag
		want               string
	}{
		{"baton-okta", "Acme", "amd64", big, "minor 256 exceeds 255"},
		{"baton-okta", "Acme", "386", ok, `arch "386": want amd64 or arm64`},
		{"baton okta", "Acme", "amd64", ok, `name "baton okta"`},
		{"baton-okta", "", "amd64", ok, "vendor is empty"},
		{"baton-okta", `Acme\Corp`, "amd64", ok, `not allowed in a Windows folder name`},
	} {
		_, err := NewVars(c.name, "", c.vendor, c.tag, c.arch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewVars(%q, %q, %v, %q) = %v, want %q", c.name, c.vendor, c.tag, c.arch, err, c.want)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add([]byte(`<Wix>{{.ProductName}}</Wix>`))
	f.Add([]byte(`{{if .Foo}}{{range .Bar}}{{.X}}{{end}}{{end}}`))
	f.Add([]byte(`{{template "x" .}}{{define "x"}}{{$.Vendor}}{{end}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		tag, _ := release.ParseTag("v1.2.3")
		v, _ := NewVars("baton-okta", "", "Acme", tag, "amd64")
		Render("fuzz.wxs", src, v) // must not panic
	})
}

func FuzzCheck(f *testing.F) {
	if def, err := msitemplates.FS.ReadFile("default.wxs"); err == nil {
		f.Add(def)
	}
	f.Add([]byte(`<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><MajorUpgrade Schedule="x"/></Wix>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if err := Check("fuzz.wxs", doc); err == nil && len(doc) == 0 {
			t.Fatal("accepted an empty document")
		}
	})
}
