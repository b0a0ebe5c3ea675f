package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/cli"
)

// relkit runs the CLI in-process and returns exit code, stdout and stderr.
func relkit(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := app().Main(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

func TestVersionForms(t *testing.T) {
	code, out, _ := relkit("version-forms", "v1.2.3-rc.1")
	if code != 0 || out != `{"tag":"v1.2.3-rc.1","version":"1.2.3-rc.1","msiVersion":"1.2.3.0"}`+"\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	code, _, errOut := relkit("version-forms", "1.2.3")
	if code != 1 || !strings.Contains(errOut, `tag "1.2.3"`) {
		t.Fatalf("bad tag: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := relkit("version-forms"); code != 2 {
		t.Fatalf("missing TAG: exit %d, want 2", code)
	}
}

func TestUpgradeCode(t *testing.T) {
	code, out, _ := relkit("upgrade-code", "baton-okta")
	if code != 0 || out != "5A97CB0C-9F4A-5E8A-8A12-CB498C89A6AF\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if code, _, errOut := relkit("upgrade-code", "ConductorOne/baton-okta"); code != 1 || !strings.Contains(errOut, "name") {
		t.Fatalf("org/repo: exit %d, stderr %q", code, errOut)
	}
}

func TestValidateInputsReportsAll(t *testing.T) {
	code, _, errOut := relkit("validate-inputs", "--tag", "v1.2.3+b", "--msi-wxs-path", "../x.wxs")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"build metadata", `msi-wxs-path: path "../x.wxs" contains ".."`, "msi is off"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code, _, _ := relkit("validate-inputs", "--tag", "v1.0.0", "--msi", "--source-ref", "refs/tags/v1.0.0"); code != 0 {
		t.Fatalf("valid inputs: exit %d", code)
	}
	if code, _, errOut := relkit("validate-inputs", "--tag", "v1.0.0", "--source-ref", "refs/heads/main"); code != 1 ||
		!strings.Contains(errOut, "source-ref: the run started from refs/heads/main") {
		t.Fatalf("branch source ref: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := relkit("validate-inputs"); code != 2 {
		t.Fatalf("no --tag: exit %d, want 2", code)
	}
	if code, _, _ := relkit("validate-inputs", "--bogus"); code != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", code)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range app().Commands {
		args := append(strings.Fields(c.Name), "--help")
		code, out, _ := relkit(args...)
		if code != 0 || !strings.Contains(out, "Usage: relkit "+c.Name) || c.Summary == "" {
			t.Errorf("%s --help: exit %d, output %q", c.Name, code, out)
		}
	}
	if code, out, _ := relkit("--help"); code != 0 || !strings.Contains(out, "validate-inputs") {
		t.Fatalf("relkit --help: exit %d", code)
	}
	if code, _, errOut := relkit("nope"); code != 2 || !strings.Contains(errOut, `unknown command "nope"`) {
		t.Fatalf("unknown command: exit %d, stderr %q", code, errOut)
	}
}

func TestGitHubAnnotation(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
		if k == "GITHUB_ACTIONS" {
			return "true"
		}
		return ""
	}}
	app().Main(context.Background(), env, []string{"version-forms", "v1"})
	if !strings.Contains(stderr.String(), "::error title=relkit version-forms::tag \"v1\"") {
		t.Fatalf("no annotation in %q", stderr.String())
	}
}

func TestGoSDKUnpackErrors(t *testing.T) {
	if code, _, errOut := relkit("go-sdk", "unpack", "sdk.zip"); code != 2 || !strings.Contains(errOut, "want ZIP DIR") {
		t.Fatalf("one argument: exit %d, stderr %q", code, errOut)
	}
	dir := t.TempDir()
	code, _, errOut := relkit("go-sdk", "unpack", dir+"/missing.zip", dir+"/goroot")
	if code != 1 || !strings.Contains(errOut, "missing.zip") {
		t.Fatalf("missing zip: exit %d, stderr %q", code, errOut)
	}
}
