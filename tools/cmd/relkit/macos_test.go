package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/macos/macostest"
)

func TestMacOSSignStripCmd(t *testing.T) {
	dir := t.TempDir()
	pki := macostest.NewPKI(t)
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(root, pki.RootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{
		"MACOS_P12":          base64.StdEncoding.EncodeToString(pki.PKCS12),
		"MACOS_P12_PASSWORD": pki.Password,
	}
	bin := macostest.Build(t, "arm64", t.TempDir())
	signed := filepath.Join(dir, "baton-okta")
	code, stdout, stderr := relkitWithEnv(environ, "macos", "sign", "--pkcs12-env", "MACOS_P12", "--org", "ConductorOne",
		"--trust-root", root, "--timestamp-url", "", "--in", bin, "--out", signed)
	if code != 0 {
		t.Fatalf("macos sign: exit %d: %s", code, stderr)
	}
	if stdout != signed+": signed\n" || strings.Contains(stdout+stderr, pki.Password) || strings.Contains(stdout+stderr, environ["MACOS_P12"][:40]) {
		t.Fatalf("macos sign output: %q %q", stdout, stderr)
	}
	b, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	// Without --name the identifier ends with the base name of --in.
	if sig, err := macos.Verify(b, pki.Roots); err != nil || sig.Identifier != "com.conductorone.hello-arm64" {
		t.Fatalf("Verify: %v, %+v", err, sig)
	}

	stripped := filepath.Join(dir, "stripped")
	if code, _, stderr := relkit("macos", "strip-signature", "--as-built", "--in", signed, "--out", stripped); code != 0 {
		t.Fatalf("macos strip-signature: exit %d: %s", code, stderr)
	}
	want, _ := os.ReadFile(bin)
	got, _ := os.ReadFile(stripped)
	if !bytes.Equal(got, want) {
		t.Fatal("strip-signature --as-built did not give back the go build output")
	}

	// Wrong password: a clear error that does not show it.
	environ["MACOS_P12_PASSWORD"] = "wrong secret"
	code, _, stderr = relkitWithEnv(environ, "macos", "sign", "--pkcs12-env", "MACOS_P12", "--org", "acme",
		"--trust-root", root, "--in", bin, "--out", signed)
	if code != 1 || !strings.Contains(stderr, "wrong password in environment variable MACOS_P12_PASSWORD (--password-env)") || strings.Contains(stderr, "wrong secret") {
		t.Fatalf("wrong password: exit %d: %s", code, stderr)
	}
	// Apple's roots refuse the test chain.
	environ["MACOS_P12_PASSWORD"] = pki.Password
	code, _, stderr = relkitWithEnv(environ, "macos", "sign", "--pkcs12-env", "MACOS_P12", "--org", "acme", "--in", bin, "--out", signed)
	if code != 1 || !strings.Contains(stderr, "not a Developer ID Application certificate") {
		t.Fatalf("test chain against Apple's roots: exit %d: %s", code, stderr)
	}
}

func TestMacOSSignWithoutIdentity(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, []byte("any bytes"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := relkit("macos", "sign", "--pkcs12-env", "MACOS_P12", "--org", "acme", "--in", in, "--out", out)
	if code != 0 || stdout != out+": not signed\n" || !strings.Contains(stderr, "MACOS_P12 is empty") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "any bytes" {
		t.Fatal("binary not copied unchanged")
	}
	if code, _, stderr := relkit("macos", "sign", "--required", "--pkcs12-env", "MACOS_P12", "--org", "acme", "--in", in, "--out", out); code != 1 || !strings.Contains(stderr, "--required") {
		t.Fatalf("--required: exit %d: %s", code, stderr)
	}
}

func TestMacOSNotarizeCmd(t *testing.T) {
	code, stdout, _ := relkit("macos", "notarize", "--in", "baton_darwin_arm64.zip", "--key-env", "APPLE_API_KEY")
	if code != 0 || stdout != "baton_darwin_arm64.zip: not notarized\n" {
		t.Fatalf("without credentials: exit %d, stdout %q", code, stdout)
	}
	code, stdout, _ = relkit("macos", "notarize", "--json", "--in", "x.zip")
	if code != 0 || stdout != `{"file":"x.zip","id":"","status":"not notarized"}`+"\n" {
		t.Fatalf("--json without credentials: exit %d, stdout %q", code, stdout)
	}
	code, _, stderr := relkit("macos", "notarize", "--in", "x.zip", "--issuer", "i")
	if code != 2 || !strings.Contains(stderr, "needs all of --issuer, --key-id") {
		t.Fatalf("partial credentials: exit %d: %s", code, stderr)
	}
	code, _, stderr = relkitWithEnv(map[string]string{"K": "x"}, "macos", "notarize", "--in", "hello", "--issuer", "i", "--key-id", "k", "--key-env", "K")
	if code != 2 || !strings.Contains(stderr, "put the binary in a zip first") {
		t.Fatalf("bare binary: exit %d: %s", code, stderr)
	}
}
