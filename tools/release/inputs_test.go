package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateAcceptsPlainRelease(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "build"), 0o755)
	os.WriteFile(filepath.Join(root, "build", "app.wxs"), []byte("<Wix/>"), 0o644)
	in := Inputs{Tag: "v1.2.3-rc.1", MSI: true, Lambda: true, Docker: true, MSIWXSPath: "build/app.wxs", RepoRoot: root}
	if err := in.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	in := Inputs{
		Tag:                "v1.2.3+build.1",
		Lambda:             true,
		DockerfileTemplate: "../Dockerfile",
		DockerExtraFiles:   "ok.txt,,/abs",
		MSIWXSPath:         "a..b/app.wxs",
		RepoRoot:           t.TempDir(),
	}
	err := in.Validate()
	if err == nil {
		t.Fatal("Validate() accepted bad inputs")
	}
	msg := err.Error()
	for _, want := range []string{
		"build metadata",
		"dockerfile-template: path \"../Dockerfile\" contains \"..\"",
		"only usable when lambda is false",
		"without a Docker engine",
		"docker-extra-files entry 1: \"ok.txt\" does not exist",
		"docker-extra-files entry 2: path is empty",
		"docker-extra-files entry 3: path \"/abs\" is absolute",
		"msi-wxs-path: path \"a..b/app.wxs\" contains \"..\"",
		"msi is off",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q; got:\n%s", want, msg)
		}
	}
}

func TestValidateSourceRef(t *testing.T) {
	if err := (Inputs{Tag: "v1.2.3", SourceRef: "refs/tags/v1.2.3"}).Validate(); err != nil {
		t.Fatalf("the tag's own ref is refused: %v", err)
	}
	for _, ref := range []string{"refs/heads/main", "refs/tags/v1.2.4", "refs/tags/v1.2.3-rc.1", "v1.2.3", "refs/pull/7/merge"} {
		err := Inputs{Tag: "v1.2.3", SourceRef: ref}.Validate()
		if err == nil {
			t.Errorf("source ref %q accepted for tag v1.2.3", ref)
			continue
		}
		for _, want := range []string{"source-ref: the run started from " + ref, "must name refs/tags/v1.2.3", "start the release from the tag"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("source ref %q: error lacks %q: %v", ref, want, err)
			}
		}
	}
	// A bad tag is reported once, not again as a ref mismatch.
	err := Inputs{Tag: "1.2.3", SourceRef: "refs/tags/1.2.3"}.Validate()
	if err == nil || strings.Contains(err.Error(), "source-ref") {
		t.Errorf("Validate() = %v, want only the tag's error", err)
	}
}

func TestValidateMSIRange(t *testing.T) {
	err := Inputs{Tag: "v1.300.0", MSI: true}.Validate()
	if err == nil || !strings.Contains(err.Error(), "minor 300 exceeds 255") {
		t.Fatalf("Validate() = %v, want an MSI range error", err)
	}
	if err := (Inputs{Tag: "v1.300.0"}).Validate(); err != nil {
		t.Fatalf("without --msi the MSI range does not apply: %v", err)
	}
}

func TestCheckRelPath(t *testing.T) {
	for _, p := range []string{"Dockerfile", "build/app.wxs", "a-b_c.d/e"} {
		if err := CheckRelPath(p); err != nil {
			t.Errorf("CheckRelPath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "/etc/passwd", "../x", "a/../b", "a..b", "a b", "a\\b", "a;b", "ä"} {
		if err := CheckRelPath(p); err == nil {
			t.Errorf("CheckRelPath(%q) accepted", p)
		}
	}
}

func FuzzCheckRelPath(f *testing.F) {
	for _, s := range []string{"a/b", "../a", "/x", "a..b", "ok.txt", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckRelPath(p) != nil {
			return
		}
		// Whatever is accepted stays inside the root once joined and cleaned.
		if strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
			t.Fatalf("accepted %q", p)
		}
		rel, err := filepath.Rel("/root", filepath.Join("/root", p))
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("%q escapes the root: %q", p, rel)
		}
	})
}
