package wintest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a throwaway code-signing CA, a signing certificate in a PKCS#12
// file and a timestamping authority, all as files in a test directory.
type PKI struct {
	CA       string // PEM root certificate
	PKCS12   string // signing key and chain
	Password string
	TSACerts string // PEM TSA certificate chain
	TSAKey   string // PEM TSA private key
	NotAfter time.Time
}

// Valid is the validity the certificates share.
var (
	NotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	NotAfter  = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
)

// NewPKI creates the PKI; openssl makes the PKCS#12, which the standard
// library cannot write.
func NewPKI(t testing.TB) PKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "relkit test root"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, nil)
	signKey, signCert := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "relkit test code signing", Organization: []string{"relkit test"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, caCert, caKey)
	// RFC 3161 wants the timeStamping key usage alone and critical.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		t.Fatal(err)
	}
	tsaKey, tsaCert := issue(t, &x509.Certificate{
		Subject:         pkix.Name{CommonName: "relkit test timestamping"},
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}, caCert, caKey)

	p := PKI{
		CA: filepath.Join(dir, "ca.pem"), PKCS12: filepath.Join(dir, "sign.p12"), Password: "test password",
		TSACerts: filepath.Join(dir, "tsa.pem"), TSAKey: filepath.Join(dir, "tsa-key.pem"), NotAfter: NotAfter,
	}
	writePEM(t, p.CA, "CERTIFICATE", caCert.Raw)
	writePEM(t, p.TSACerts, "CERTIFICATE", tsaCert.Raw, caCert.Raw)
	writePEM(t, p.TSAKey, "PRIVATE KEY", pkcs8(t, tsaKey))
	signPEM, keyPEM := filepath.Join(dir, "sign.pem"), filepath.Join(dir, "sign-key.pem")
	writePEM(t, signPEM, "CERTIFICATE", signCert.Raw)
	writePEM(t, keyPEM, "PRIVATE KEY", pkcs8(t, signKey))
	cmd := exec.Command("openssl", "pkcs12", "-export", "-in", signPEM, "-inkey", keyPEM, "-certfile", p.CA,
		"-passout", "pass:"+p.Password, "-out", p.PKCS12)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12 -export: %v\n%s", err, out)
	}
	return p
}

var serial int64

// issue makes an RSA key and its certificate: RSA (PKCS#1 v1.5) signatures
// are deterministic, ECDSA ones are not, and tests check reproducibility.
func issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey crypto.Signer) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = NotBefore, NotAfter
	if parent == nil {
		parent = tmpl
		parentKey = key
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

func pkcs8(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t testing.TB, path, typ string, ders ...[]byte) {
	t.Helper()
	var out []byte
	for _, der := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})...)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}
