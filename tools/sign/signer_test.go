package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sigsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func TestParseKey(t *testing.T) {
	k := testKey(t)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	sec1der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1der})
	const password = "hunter2-password"
	encrypted, _, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der384, _ := x509.MarshalPKCS8PrivateKey(p384)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	derEd, _ := x509.MarshalPKCS8PrivateKey(edKey)

	for _, tc := range []struct {
		name     string
		pem      []byte
		password string
		want     string // empty: accepted
	}{
		{"pkcs8", pkcs8, "", ""},
		{"sec1", sec1, "", ""},
		{"cosign encrypted", encrypted, password, ""},
		{"wrong password", encrypted, "wrong", "check the password"},
		{"p384", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der384}), "", "not an ECDSA P-256 key"},
		{"ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: derEd}), "", "not an ECDSA P-256 key"},
		{"not pem", []byte("not a key"), "", "PEM decoding failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKey(tc.pem, []byte(tc.password))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseKey() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseKey() = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error %q reveals the key or password", err)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), []byte(""))
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), []byte("pw"))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		key, err := ParseKey(data, password)
		if err == nil && key.Curve != elliptic.P256() {
			t.Errorf("accepted a key on %v", key.Curve.Params().Name)
		}
	})
}

// fakeFulcio issues certificates from a test CA and counts requests.
type fakeFulcio struct {
	srv      *httptest.Server
	requests atomic.Int64
	rootCert *x509.Certificate
}

func newFakeFulcio(t *testing.T, status int) *fakeFulcio {
	t.Helper()
	f := &fakeFulcio{}
	caKey := testKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: bigOne(), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	f.rootCert, _ = x509.ParseCertificate(der)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if status != http.StatusOK {
			http.Error(w, `{"message":"There was an error processing the identity token"}`, status)
			return
		}
		var req struct {
			PublicKeyRequest struct {
				PublicKey struct{ Content string } `json:"publicKey"`
			} `json:"publicKeyRequest"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PublicKeyRequest.PublicKey.Content))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		leaf := &x509.Certificate{
			SerialNumber: bigOne(), NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			EmailAddresses: []string{"releaser@example.com"},
		}
		der, err := x509.CreateCertificate(rand.Reader, leaf, f.rootCert, pub, caKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": []string{certPEM}}}})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// instance lists fulcioURL and unreachable Rekor and TSA services.
func testInstance(t *testing.T, fulcioURL string) *Instance {
	t.Helper()
	svc := func(url string, version uint32) root.Service {
		return root.Service{URL: url, MajorAPIVersion: version, ValidityPeriodStart: time.Now().Add(-time.Hour)}
	}
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02,
		[]root.Service{svc(fulcioURL, 1)}, nil,
		[]root.Service{svc("http://127.0.0.1:1", 2)}, root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY},
		[]root.Service{svc("http://127.0.0.1:1/api/v1/timestamp", 1)}, root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY})
	if err != nil {
		t.Fatal(err)
	}
	return &Instance{TrustedRoot: &root.TrustedRoot{}, SigningConfig: sc}
}

func validToken(t *testing.T) string {
	return jwt(t, map[string]any{"iss": "https://issuer", "sub": "s", "aud": "sigstore", "exp": time.Now().Unix() + 300})
}

func TestNewKeylessRefusesBadTokensBeforeFulcio(t *testing.T) {
	fulcio := newFakeFulcio(t, http.StatusOK)
	inst := testInstance(t, fulcio.srv.URL)
	for name, tok := range map[string]string{
		"expired":        jwt(t, map[string]any{"iss": "https://issuer", "aud": "sigstore", "exp": time.Now().Unix() - 10}),
		"wrong audience": jwt(t, map[string]any{"iss": "https://issuer", "aud": "connector-registry", "exp": time.Now().Unix() + 60}),
	} {
		if _, err := NewKeyless(context.Background(), inst, tok); err == nil {
			t.Errorf("%s token accepted", name)
		}
	}
	if n := fulcio.requests.Load(); n != 0 {
		t.Errorf("Fulcio was asked %d times for refused tokens", n)
	}
}

func TestNewKeylessFulcioErrors(t *testing.T) {
	refusing := newFakeFulcio(t, http.StatusUnauthorized)
	tok := validToken(t)
	_, err := NewKeyless(context.Background(), testInstance(t, refusing.srv.URL), tok)
	if err == nil || !strings.Contains(err.Error(), "fulcio "+refusing.srv.URL) || strings.Contains(err.Error(), tok) {
		t.Errorf("refused by Fulcio: %v; want an error naming Fulcio, without the token", err)
	}
	_, err = NewKeyless(context.Background(), testInstance(t, "http://127.0.0.1:1"), tok)
	if err == nil || !strings.Contains(err.Error(), "fulcio http://127.0.0.1:1") {
		t.Errorf("unreachable Fulcio: %v; want an error naming it", err)
	}
}

// One certificate serves every signature of a run; an unreachable TSA
// fails the signature with an error naming the service.
func TestKeylessOneCertificatePerRun(t *testing.T) {
	fulcio := newFakeFulcio(t, http.StatusOK)
	s, err := NewKeyless(context.Background(), testInstance(t, fulcio.srv.URL), validToken(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := s.Sign(context.Background(), &sigsign.PlainData{Data: []byte("x")})
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("Sign() with an unreachable TSA = %v, want an error naming it", err)
		}
	}
	if n := fulcio.requests.Load(); n != 1 {
		t.Errorf("Fulcio was asked %d times, want once per run", n)
	}
}

func bigOne() *big.Int { return big.NewInt(1) }
