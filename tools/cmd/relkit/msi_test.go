package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/testutil/wintest"
)

// The rendered WiX source is what a user builds with WiX on Windows: it
// must carry the same codes as the package relkit built.
func TestMSIBuildWritesRenderedSource(t *testing.T) {
	if _, err := exec.LookPath("wixl"); err != nil {
		t.Skip("wixl not installed (scripts/install-msi-tools.sh)")
	}
	dir := t.TempDir()
	out, wxs := filepath.Join(dir, "app.msi"), filepath.Join(dir, "app.wxs")
	code, stdout, stderr := relkit("msi", "build", "--binary", wintest.Exe(t, "amd64"), "--name", "baton-foo",
		"--vendor", "ConductorOne", "--tag", "v1.2.3", "--epoch", "1700000000", "--out", out, "--wxs-out", wxs, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var built map[string]string
	if err := json.Unmarshal([]byte(stdout), &built); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	src, err := os.ReadFile(wxs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{built["productCode"], built["packageCode"], built["upgradeCode"], `Version="1.2.3.0"`, `Manufacturer="ConductorOne"`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("rendered source lacks %q", want)
		}
	}
	if strings.Contains(string(src), "{{") {
		t.Errorf("rendered source still holds template actions")
	}
}
