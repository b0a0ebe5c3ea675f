// Package msi_test runs the Windows release path end to end with the real
// tools: sign the executable, build the MSI around it, sign the MSI, and
// verify both, including the executable extracted from the signed MSI.
package msi_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	msitemplates "github.com/relkit/relkit/templates/msi"
	"github.com/relkit/relkit/tools/authenticode"
	"github.com/relkit/relkit/tools/msi"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/testutil/wintest"
)

const epoch = 1700000000

func TestSignedInstaller(t *testing.T) {
	for _, tool := range []string{"wixl", "msibuild", "msiinfo", "msiextract", "faketime", "osslsigncode"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found on PATH; run scripts/install-msi-tools.sh", tool)
		}
	}
	ctx := context.Background()
	pki := wintest.NewPKI(t)
	der, err := os.ReadFile(pki.PKCS12)
	if err != nil {
		t.Fatal(err)
	}
	signer := &authenticode.OSSLSigncode{PKCS12: der, Password: pki.Password, Description: "baton-example", Time: time.Unix(epoch, 0)}
	ca := authenticode.VerifyOptions{CAFile: pki.CA}
	tmpl, err := msitemplates.FS.ReadFile("default.wxs")
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := release.ParseTag("v0.4.1")

	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			dir := t.TempDir()
			exe := filepath.Join(dir, "baton-example.exe")
			if err := signer.Sign(ctx, wintest.Exe(t, arch), exe); err != nil {
				t.Fatal(err)
			}
			vars, err := msi.NewVars("baton-example", "", "Example Corp", tag, arch)
			if err != nil {
				t.Fatal(err)
			}
			unsigned := filepath.Join(dir, "unsigned.msi")
			if _, err := msi.Build(ctx, unsigned, msi.Options{Vars: vars, Binary: exe, Template: tmpl, TemplateName: "default.wxs", Epoch: epoch}); err != nil {
				t.Fatal(err)
			}
			signed := filepath.Join(dir, release.MSIName("baton-example", tag, arch))
			if err := signer.Sign(ctx, unsigned, signed); err != nil {
				t.Fatal(err)
			}
			if err := authenticode.Verify(ctx, signed, ca); err != nil {
				t.Fatalf("signed MSI: %v", err)
			}

			out := filepath.Join(dir, "extracted")
			if b, err := exec.Command("msiextract", "-C", out, signed).CombinedOutput(); err != nil {
				t.Fatalf("msiextract: %v\n%s", err, b)
			}
			// msiextract drops the Program Files root.
			inner := filepath.Join(out, "Example Corp", "baton-example", "baton-example.exe")
			got, err := os.ReadFile(inner)
			if err != nil {
				t.Fatalf("the MSI does not hold the executable where expected: %v", err)
			}
			want, _ := os.ReadFile(exe)
			if !bytes.Equal(got, want) {
				t.Fatal("the executable in the MSI differs from the signed input")
			}
			if err := authenticode.Verify(ctx, inner, ca); err != nil {
				t.Fatalf("executable inside the MSI: %v", err)
			}

			data, _ := os.ReadFile(signed)
			data[len(data)/3] ^= 0x01
			tampered := filepath.Join(dir, "tampered.msi")
			os.WriteFile(tampered, data, 0o644)
			if err := authenticode.Verify(ctx, tampered, ca); err == nil || !strings.Contains(err.Error(), "tampered.msi") {
				t.Fatalf("Verify(tampered MSI) = %v, want a failure naming it", err)
			}
		})
	}
}
