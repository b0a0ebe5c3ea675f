package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/verify"
)

func TestImageAuthFlagsInEveryImageCommand(t *testing.T) {
	for _, cmd := range []string{"image push", "publish", "verify"} {
		code, out, _ := relkit(append(strings.Fields(cmd), "--help")...)
		if code != 0 {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		for _, want := range []string{"-image-auth-file FILE", "-image-username USER", "-image-password-env VAR", `(default "RELKIT_IMAGE_PASSWORD")`, "-ecr-endpoint URL", "-ecr-public-endpoint URL"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s --help lacks %q", cmd, want)
			}
		}
	}
}

func TestImageAuthFlagErrors(t *testing.T) {
	publish := []string{"publish", "--dir", t.TempDir(), "--org", "ConductorOne", "--repo", "baton-x", "--tag", "v1.0.0",
		"--bucket", "b", "--base-url", "http://127.0.0.1:1", "--s3-endpoint", "http://127.0.0.1:1", "--sign", "none", "--verify=false"}
	config := filepath.Join(t.TempDir(), "publish.conf")
	if err := os.WriteFile(config, []byte("image-username = from-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"publish flag", nil, append(publish, "--image-username", "ci"), "--image-username ci: $RELKIT_IMAGE_PASSWORD is empty"},
		{"publish environment", map[string]string{"RELKIT_IMAGE_USERNAME": "ci", "RELKIT_IMAGE_PASSWORD_ENV": "PUSH_PW"}, publish, "--image-username ci: $PUSH_PW is empty"},
		{"publish config file", nil, append(publish, "--config", config), "--image-username from-file: $RELKIT_IMAGE_PASSWORD is empty"},
		{"publish both", map[string]string{"RELKIT_IMAGE_PASSWORD": "pw"}, append(publish, "--image-username", "ci", "--image-auth-file", config), "give --image-username or --image-auth-file, not both"},
		{"verify", nil, []string{"verify", "ConductorOne/baton-x", "v1.0.0", "--base-url", "http://127.0.0.1:1", "--image-username", "ci"}, "$RELKIT_IMAGE_PASSWORD is empty"},
		{"image push", nil, []string{"image", "push", "--from", t.TempDir(), "--tag", "v1.0.0", "--image-username", "ci"}, "$RELKIT_IMAGE_PASSWORD is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := relkitEnv(tc.vars, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 2; stderr %q lacks %q", code, errOut, tc.want)
			}
		})
	}
}

func TestVerifyBuilderPolicy(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want *verify.Builder
	}{
		{nil, &verify.Builder{Workflow: defaultWorkflow, Ref: "refs/heads/main"}},
		{[]string{"--workflow", "acme/wf/.github/workflows/r.yaml", "--workflow-ref", "refs/tags/v2"}, &verify.Builder{Workflow: "acme/wf/.github/workflows/r.yaml", Ref: "refs/tags/v2"}},
		{[]string{"--builder-id", provenance.LocalBuilderID}, &verify.Builder{ID: provenance.LocalBuilderID}},
		{[]string{"--key", "pub.pem"}, nil},
		{[]string{"--key", "pub.pem", "--builder-id", "https://example.com/b"}, &verify.Builder{ID: "https://example.com/b"}},
	} {
		var s signerFlags
		fs := flag.NewFlagSet("verify", flag.ContinueOnError)
		s.register(fs, false)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		got := s.builder()
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%q: builder %+v, want %+v", tc.args, got, tc.want)
		}
	}
}
