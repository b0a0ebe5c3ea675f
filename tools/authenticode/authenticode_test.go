package authenticode

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/testutil/wintest"
)

var signingTime = time.Unix(1700000000, 0)

func requireTool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		t.Fatal("osslsigncode not found on PATH; run scripts/install-msi-tools.sh")
	}
}

func signer(t *testing.T, p wintest.PKI) *OSSLSigncode {
	t.Helper()
	der, err := os.ReadFile(p.PKCS12)
	if err != nil {
		t.Fatal(err)
	}
	return &OSSLSigncode{PKCS12: der, Password: p.Password, Description: "baton-example", URL: "https://example.com", Time: signingTime}
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignVerifyExe(t *testing.T) {
	requireTool(t)
	pki := wintest.NewPKI(t)
	exe := wintest.Exe(t, "amd64")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.exe"), filepath.Join(dir, "b.exe")
	ctx := context.Background()
	s := signer(t, pki)
	if err := s.Sign(ctx, exe, a); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, a, VerifyOptions{CAFile: pki.CA}); err != nil {
		t.Fatalf("Verify(signed) = %v", err)
	}
	// A fixed signing time makes signing reproducible.
	if err := s.Sign(ctx, exe, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(t, a), read(t, b)) {
		t.Error("two signatures with the same key and time differ")
	}
	if err := Verify(ctx, exe, VerifyOptions{CAFile: pki.CA}); err == nil {
		t.Error("an unsigned file verified")
	}
	other := wintest.NewPKI(t)
	if err := Verify(ctx, a, VerifyOptions{CAFile: other.CA}); err == nil {
		t.Error("a signature verified against an unrelated CA")
	}
}

func TestVerifyRejectsTamperedFile(t *testing.T) {
	requireTool(t)
	pki := wintest.NewPKI(t)
	signed := filepath.Join(t.TempDir(), "signed.exe")
	ctx := context.Background()
	if err := signer(t, pki).Sign(ctx, wintest.Exe(t, "arm64"), signed); err != nil {
		t.Fatal(err)
	}
	data := read(t, signed)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(signed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Verify(ctx, signed, VerifyOptions{CAFile: pki.CA})
	if err == nil || !strings.Contains(err.Error(), "verify "+signed) || !strings.Contains(strings.ToLower(err.Error()), "mismatch") {
		t.Fatalf("Verify(tampered) = %v, want a digest mismatch", err)
	}
}

func TestSignWithLocalTimestamp(t *testing.T) {
	requireTool(t)
	pki := wintest.NewPKI(t)
	s := signer(t, pki)
	s.LocalTSA = &LocalTSA{Certs: pki.TSACerts, Key: pki.TSAKey, Time: signingTime.Add(time.Minute)}
	out := filepath.Join(t.TempDir(), "ts.exe")
	ctx := context.Background()
	if err := s.Sign(ctx, wintest.Exe(t, "amd64"), out); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, out, VerifyOptions{CAFile: pki.CA, TSACAFile: pki.CA}); err != nil {
		t.Fatalf("Verify(timestamped) = %v", err)
	}
	s.TimestampURLs = []string{"http://127.0.0.1:1"}
	if err := s.Sign(ctx, out, out); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("Sign with a URL and a local TSA = %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	requireTool(t)
	pki := wintest.NewPKI(t)
	ctx := context.Background()
	dir := t.TempDir()
	s := signer(t, pki)
	s.Password = "wrong"
	if err := s.Sign(ctx, wintest.Exe(t, "amd64"), filepath.Join(dir, "x.exe")); err == nil || !strings.Contains(err.Error(), "osslsigncode sign") {
		t.Errorf("Sign with a wrong password = %v", err)
	}
	if err := signer(t, pki).Sign(ctx, filepath.Join(dir, "missing.exe"), filepath.Join(dir, "y.exe")); err == nil || !strings.Contains(err.Error(), "missing.exe") {
		t.Errorf("Sign of a missing file = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.exe")); err == nil {
		t.Error("a failed signing left an output file")
	}
}

func TestPKCS12FromEnv(t *testing.T) {
	env := map[string]string{"GOOD": base64.StdEncoding.EncodeToString([]byte("p12 bytes")), "BAD": "not base64!"}
	der, err := PKCS12FromEnv(func(k string) string { return env[k] }, "GOOD")
	if err != nil || string(der) != "p12 bytes" {
		t.Errorf("PKCS12FromEnv(GOOD) = %q, %v", der, err)
	}
	for name, want := range map[string]string{"BAD": "BAD: not base64", "UNSET": "UNSET is empty"} {
		if _, err := PKCS12FromEnv(func(k string) string { return env[k] }, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("PKCS12FromEnv(%s) = %v, want %q", name, err, want)
		}
	}
}
