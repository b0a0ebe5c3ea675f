package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func testP12(t *testing.T, password string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(key, cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	return p12
}

func TestPKCS12Load(t *testing.T) {
	p12 := testP12(t, "secret")
	file := filepath.Join(t.TempDir(), "key.p12")
	if err := os.WriteFile(file, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"P12": base64.StdEncoding.EncodeToString(p12), "PASS": "secret", "WRONG": "nope", "GARBAGE": "!!"}
	env := &Env{Getenv: func(k string) string { return vars[k] }}
	for _, tc := range []struct {
		name string
		args []string
		want string // error substring; empty for success
	}{
		{"file", []string{"--x-pkcs12", file, "--x-password-env", "PASS"}, ""},
		{"env", []string{"--x-pkcs12-env", "P12", "--x-password-env", "PASS"}, ""},
		{"both", []string{"--x-pkcs12", file, "--x-pkcs12-env", "P12"}, "give --x-pkcs12 FILE or --x-pkcs12-env NAME, not both"},
		{"neither", nil, "give --x-pkcs12 FILE or --x-pkcs12-env NAME"},
		{"missing file", []string{"--x-pkcs12", file + ".missing"}, "--x-pkcs12: open " + file + ".missing: no such file"},
		{"empty variable", []string{"--x-pkcs12-env", "UNSET"}, "--x-pkcs12-env: environment variable UNSET is empty"},
		{"not base64", []string{"--x-pkcs12-env", "GARBAGE"}, "environment variable GARBAGE is not base64"},
		{"wrong password", []string{"--x-pkcs12", file, "--x-password-env", "WRONG"}, "--x-pkcs12 " + file + ": wrong password in environment variable WRONG (--x-password-env)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p PKCS12
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			p.Register(fs, "x-", "PASS", "key")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			der, pw, err := p.Load(env)
			if tc.want == "" {
				if err != nil || string(der) != string(p12) || pw != "secret" {
					t.Fatalf("Load = %d bytes, %q, %v", len(der), pw, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "nope") {
				t.Errorf("error shows the password: %v", err)
			}
			var ue *UsageError
			if usage := errors.As(err, &ue); usage != (tc.name == "both" || tc.name == "neither") {
				t.Errorf("usage error: %v", usage)
			}
		})
	}
}

func TestPKCS12EnvEmpty(t *testing.T) {
	env := &Env{Getenv: func(string) string { return " " }}
	if !(&PKCS12{Env: "P12"}).EnvEmpty(env) || (&PKCS12{File: "f", Env: "P12"}).EnvEmpty(env) || (&PKCS12{}).EnvEmpty(env) {
		t.Error("EnvEmpty")
	}
}
