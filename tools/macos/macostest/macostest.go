// Package macostest builds darwin test binaries and a throwaway code signing
// PKI for tests of macOS signing.
package macostest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Build cross-compiles a tiny standard-library program for darwin/arch into
// dir and returns the binary's path. The flags are those of a reproducible
// release build, so two builds in different directories are identical.
func Build(t testing.TB, arch, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from darwin\") }\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "hello-"+arch)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-buildid=", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH="+arch, "CGO_ENABLED=0",
		"GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build darwin/%s: %v\n%s", arch, err, b)
	}
	return out
}

// PKI is a test root, an intermediate and a code signing certificate whose
// key and chain (without the root) are in a PKCS#12.
type PKI struct {
	Root     *x509.Certificate
	Roots    *x509.CertPool // just Root
	RootPEM  []byte
	Leaf     *x509.Certificate
	PKCS12   []byte
	Password string
}

// Validity shared by the test certificates.
var (
	NotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	NotAfter  = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
)

// NewPKI creates a PKI. The leaf has an RSA key, like Developer ID ones.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	rootKey, root := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "relkit test root CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, nil, ecKey(t))
	interKey, inter := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "relkit test code signing CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, root, rootKey, ecKey(t))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, leaf := issue(t, &x509.Certificate{
		Subject: pkix.Name{
			CommonName:         "Developer ID Application: Relkit Test (TEAMID1234)",
			OrganizationalUnit: []string{"TEAMID1234"},
			Organization:       []string{"Relkit Test"},
		},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, inter, interKey, rsaKey)
	p := &PKI{Root: root, Roots: x509.NewCertPool(), Leaf: leaf, Password: "test p12 password"}
	p.Roots.AddCert(root)
	p.RootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})
	p.PKCS12, err = pkcs12.LegacyDES.Encode(leafKey, leaf, []*x509.Certificate{inter}, p.Password)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ecKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial int64

func issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey, key crypto.Signer) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = NotBefore, NotAfter
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}
