package authenticode

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/testutil/wintest"
)

func TestCheckSigned(t *testing.T) {
	requireTool(t)
	ctx := context.Background()
	pki, other := wintest.NewPKI(t), wintest.NewPKI(t)
	exe := wintest.Exe(t, "amd64")
	dir := t.TempDir()
	signed, foreign := filepath.Join(dir, "signed.exe"), filepath.Join(dir, "foreign.exe")
	if err := signer(t, pki).Sign(ctx, exe, signed); err != nil {
		t.Fatal(err)
	}
	if err := signer(t, other).Sign(ctx, exe, foreign); err != nil {
		t.Fatal(err)
	}
	leaf := leafOf(t, pki)
	if err := CheckSigned(ctx, signed, exe, leaf, VerifyOptions{CAFile: pki.CA}); err != nil {
		t.Fatalf("CheckSigned of a signed copy: %v", err)
	}
	// Another program under the signature, another key, another root.
	changed := filepath.Join(dir, "changed.exe")
	b := read(t, exe)
	b[len(b)-1] ^= 1
	if err := os.WriteFile(changed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"other program": CheckSigned(ctx, signed, changed, leaf, VerifyOptions{CAFile: pki.CA}),
		"other key":     CheckSigned(ctx, foreign, exe, leaf, VerifyOptions{CAFile: other.CA}),
		"other root":    CheckSigned(ctx, foreign, exe, nil, VerifyOptions{CAFile: pki.CA}),
		"unsigned":      CheckSigned(ctx, exe, exe, nil, VerifyOptions{CAFile: pki.CA}),
	} {
		if err == nil {
			t.Errorf("%s: CheckSigned accepted it", name)
		} else if !strings.Contains(err.Error(), "osslsigncode") && !strings.Contains(err.Error(), "differs") {
			t.Errorf("%s: unclear error %v", name, err)
		}
	}
}

// leafOf reads the signing certificate of a test PKI.
func leafOf(t *testing.T, p wintest.PKI) *x509.Certificate {
	t.Helper()
	pemBytes := read(t, filepath.Join(filepath.Dir(p.PKCS12), "sign.pem"))
	block, _ := pem.Decode(pemBytes)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
