package macos

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	qmacho "github.com/anchore/quill/quill/macho"
	"github.com/anchore/quill/quill/pki"
	"github.com/anchore/quill/quill/pki/apple"
	qsign "github.com/anchore/quill/quill/sign"
	"software.sslmate.com/src/go-pkcs12"
)

// Identity is a code signing key with its certificate chain, validated
// against a set of roots.
type Identity struct {
	signer crypto.Signer
	chain  []*x509.Certificate // leaf first, root last
	roots  *x509.CertPool
}

// Leaf returns the signing certificate.
func (id *Identity) Leaf() *x509.Certificate { return id.chain[0] }

// Apple's extension marking a Developer ID Application certificate; macOS
// treats it as critical, Go's verifier does not know it.
var oidDeveloperIDApplication = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}

// AppleRoots returns Apple's root certificates, as shipped inside quill.
func AppleRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, p := range apple.GetEmbeddedCertStore().RootPEMs() {
		pool.AppendCertsFromPEM(p)
	}
	return pool
}

func appleIntermediates() []*x509.Certificate {
	var certs []*x509.Certificate
	for _, p := range apple.GetEmbeddedCertStore().IntermediatePEMs() {
		if b, _ := pem.Decode(p); b != nil {
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				certs = append(certs, c)
			}
		}
	}
	return certs
}

// verifyChain verifies leaf for code signing at time when and returns its
// chain, leaf first. Apple's Developer ID extension, which Go's verifier
// does not know, is ignored even though it is marked critical.
func verifyChain(leaf *x509.Certificate, others []*x509.Certificate, roots *x509.CertPool, when time.Time) ([]*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range others {
		inter.AddCert(c)
	}
	check := *leaf
	check.UnhandledCriticalExtensions = nil
	for _, e := range leaf.UnhandledCriticalExtensions {
		if !e.Equal(oidDeveloperIDApplication) {
			check.UnhandledCriticalExtensions = append(check.UnhandledCriticalExtensions, e)
		}
	}
	chains, err := check.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   when,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil {
		return nil, err
	}
	chain := chains[0]
	chain[0] = leaf
	return chain, nil
}

// LoadIdentity decodes a PKCS#12 file and validates its certificate for code
// signing at time now. With roots nil the chain must lead to one of Apple's
// roots (missing Apple intermediates are filled in from quill's copies) and
// the certificate must be a Developer ID Application one; pass other roots
// only for test chains.
func LoadIdentity(p12 []byte, password string, roots *x509.CertPool, now time.Time) (*Identity, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(p12, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, errors.New("pkcs12: wrong password")
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs12: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pkcs12: private key of type %T cannot sign", key)
	}
	apple := roots == nil
	if apple {
		roots = AppleRoots()
		cas = append(cas, appleIntermediates()...)
		if !hasExtension(leaf, oidDeveloperIDApplication) {
			return nil, fmt.Errorf("certificate %q is not a Developer ID Application certificate; notarization accepts only those", leaf.Subject.CommonName)
		}
	}
	chain, err := verifyChain(leaf, cas, roots, now)
	if err != nil {
		which := "the given roots"
		if apple {
			which = "Apple's roots"
		}
		return nil, fmt.Errorf("certificate %q does not chain to %s for code signing: %w", leaf.Subject.CommonName, which, err)
	}
	return &Identity{signer: signer, chain: chain, roots: roots}, nil
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

// SignOptions configures Sign.
type SignOptions struct {
	// Identifier is the code signing identifier, e.g. "com.acme.baton-okta".
	Identifier string
	// TimestampURL is an RFC 3161 server (Apple's: http://timestamp.apple.com/ts01).
	// Notarization requires a timestamp; empty means none.
	TimestampURL string
	// Time is the signing time recorded when there is no TimestampURL,
	// e.g. the commit time; zero means now. With an RSA key (as Developer
	// ID keys are) a fixed time makes signing reproducible.
	Time time.Time
}

// DefaultTimestampURL is Apple's timestamp server.
const DefaultTimestampURL = "http://timestamp.apple.com/ts01"

var identifierRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)

// Identifier builds the conventional identifier com.<org>.<name>.
func Identifier(org, name string) string {
	return "com." + strings.ToLower(org) + "." + name
}

// Sign returns bin signed with id: the code directory carries the
// identifier and the hardened runtime flag, and a CMS signature over it
// carries the certificate chain. Any existing signature (such as the Go
// linker's ad-hoc one) is stripped first, so Strip of the result equals
// Strip of the input. The result is verified before it is returned.
// The CMS signature records the signing time: signing is reproducible only
// with opts.Time, no timestamp server and an RSA key.
func Sign(bin []byte, id *Identity, opts SignOptions) ([]byte, error) {
	if !identifierRE.MatchString(opts.Identifier) {
		return nil, fmt.Errorf("identifier %q: want letters, digits, '.' and '-', like com.acme.baton-okta", opts.Identifier)
	}
	unsigned, err := Strip(bin)
	if err != nil {
		return nil, err
	}
	// quill signs a file in place.
	dir, err := os.MkdirTemp("", "relkit-macos-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bin")
	if err := os.WriteFile(path, unsigned, 0o600); err != nil {
		return nil, err
	}
	if err := signFile(path, opts, id); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	signed, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !opts.Time.IsZero() && opts.TimestampURL == "" {
		if err := setSigningTime(signed, id, opts.Time); err != nil {
			return nil, fmt.Errorf("set the signing time: %w", err)
		}
	}
	sig, err := Verify(signed, id.roots)
	if err != nil {
		return nil, fmt.Errorf("signed binary does not verify: %w", err)
	}
	if sig.Identifier != opts.Identifier || !sig.HardenedRuntime {
		return nil, fmt.Errorf("signed binary has identifier %q, hardened runtime %v; want %q, true", sig.Identifier, sig.HardenedRuntime, opts.Identifier)
	}
	return signed, nil
}

// signFile signs an unsigned binary in place, as quill.Sign does. quill's
// top-level package is not used: it pulls in its progress UI, which does not
// build against the go-progress version this module selects.
func signFile(path string, opts SignOptions, id *Identity) error {
	// quill reads the chain root first, leaf last.
	certs := make([]*x509.Certificate, len(id.chain))
	for i, c := range id.chain {
		certs[len(certs)-1-i] = c
	}
	material := pki.SigningMaterial{Signer: id.signer, Certs: certs, TimestampServer: opts.TimestampURL}
	m, err := qmacho.NewFile(path)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.AddEmptyCodeSigningCmd(); err != nil {
		return err
	}
	// First pass sizes the signature, the second fills it in.
	size, blob, err := qsign.GenerateSigningSuperBlob(opts.Identifier, m, material, "", 0)
	if err != nil {
		return err
	}
	if err := qsign.UpdateSuperBlobOffsetReferences(m, uint64(len(blob))); err != nil {
		return err
	}
	if _, blob, err = qsign.GenerateSigningSuperBlob(opts.Identifier, m, material, "", size); err != nil {
		return err
	}
	cmd, _, err := m.CodeSigningCmd()
	if err != nil {
		return err
	}
	return m.Patch(blob, len(blob), uint64(cmd.DataOffset))
}
