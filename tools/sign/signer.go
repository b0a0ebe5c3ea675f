package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	sigsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Signer makes Sigstore bundles. All bundles of one Signer are signed by
// the same key and, keyless, carry the same certificate. Implementations
// are safe for concurrent use.
type Signer interface {
	// Sign returns a bundle over content: a message signature for
	// sigsign.PlainData, a DSSE envelope for sigsign.DSSEData.
	Sign(ctx context.Context, content sigsign.Content) (*protobundle.Bundle, error)
	// Verifier accepts exactly the bundles this signer makes: same trusted
	// root, same identity or key. SignTree uses it to keep valid bundles.
	Verifier() (*Verifier, error)
}

// signer is the Signer of both modes: sigstore-go's Bundle with a fixed
// keypair and, keyless, a certificate obtained once.
type signer struct {
	keypair sigsign.Keypair
	opts    sigsign.BundleOptions
	trusted root.TrustedMaterial
	policy  Policy
}

var _ Signer = (*signer)(nil)

func (s *signer) Sign(ctx context.Context, content sigsign.Content) (*protobundle.Bundle, error) {
	opts := s.opts
	opts.Context = ctx
	return sigsign.Bundle(content, s.keypair, opts)
}

func (s *signer) Verifier() (*Verifier, error) { return NewVerifier(s.trusted, s.policy) }

// NewKeyless returns a signer for an ephemeral key certified by the
// instance's Fulcio for the identity in token. The certificate is requested
// here, once: a refused token or an unreachable Fulcio fails before anything
// is signed. The token is not kept. Bundles get an entry in each Rekor and a
// timestamp from each TSA the signing config selects; keyless signing needs
// at least one TSA, because a Rekor v2 entry carries no trusted time and the
// certificate expires minutes after signing.
func NewKeyless(ctx context.Context, inst *Instance, token string) (Signer, error) {
	claims, err := ParseToken(token)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if err := claims.Check(now); err != nil {
		return nil, err
	}
	fulcioURL, err := inst.fulcioURL(now)
	if err != nil {
		return nil, err
	}
	opts, err := inst.serviceOptions(now)
	if err != nil {
		return nil, err
	}
	keypair, err := sigsign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, fmt.Errorf("generate ephemeral key: %w", err)
	}
	fulcio := sigsign.NewFulcio(&sigsign.FulcioOptions{
		BaseURL: fulcioURL, Timeout: fulcioTimeout, Retries: retries, Transport: inst.Transport,
	})
	der, err := fulcio.GetCertificate(ctx, keypair, &sigsign.CertificateProviderOptions{IDToken: token})
	if err != nil {
		return nil, fmt.Errorf("fulcio %s: get signing certificate for %s: %w", fulcioURL, claims.Issuer, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("fulcio %s: certificate: %w", fulcioURL, err)
	}
	summary, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("fulcio %s: certificate: %w", fulcioURL, err)
	}
	opts.CertificateProvider = fixedCertificate(der)
	opts.CertificateProviderOptions = &sigsign.CertificateProviderOptions{}
	opts.TrustedRoot = inst.TrustedRoot
	// Bundles a re-run keeps must name this certificate's source too: one
	// made with a token for another ref carries the same workflow identity
	// but fails verification bound to the release's repository and tag.
	policy := Policy{Issuer: summary.Issuer, Identity: summary.SubjectAlternativeName,
		Repository: summary.Extensions.GithubWorkflowRepository, Ref: summary.Extensions.GithubWorkflowRef}
	return &signer{keypair: keypair, opts: opts, trusted: inst.TrustedRoot, policy: policy}, nil
}

// serviceOptions selects the Rekor logs and timestamp authorities to use.
func (in *Instance) serviceOptions(now time.Time) (sigsign.BundleOptions, error) {
	var opts sigsign.BundleOptions
	var err error
	if opts.TransparencyLogs, err = in.logs(now); err != nil {
		return opts, err
	}
	if opts.TimestampAuthorities, err = in.timestampAuthorities(now); err != nil {
		return opts, err
	}
	return opts, nil
}

// fixedCertificate is a CertificateProvider holding the run's one certificate.
type fixedCertificate []byte

func (c fixedCertificate) GetCertificate(context.Context, sigsign.Keypair, *sigsign.CertificateProviderOptions) ([]byte, error) {
	return c, nil
}

// KeyOptions configure NewKeySigner.
type KeyOptions struct {
	// Instance supplies Rekor and the TSA; nil signs offline: bundles then
	// hold only the signature and verify only with Policy.Unlogged.
	Instance *Instance
}

// NewKeySigner returns a signer for a long-lived ECDSA P-256 key: one from
// ParseKey, or any crypto.Signer such as a KMS key. Bundles name the public
// key by its hint (the base64 SHA-256 of its PKIX form) instead of carrying
// a certificate.
func NewKeySigner(key crypto.Signer, o KeyOptions) (Signer, error) {
	kp, err := newKeypair(key)
	if err != nil {
		return nil, err
	}
	s := &signer{keypair: kp, policy: Policy{PublicKey: key.Public()}}
	if o.Instance == nil {
		s.policy.Unlogged = true
	} else {
		s.trusted = o.Instance.TrustedRoot
		if s.opts, err = o.Instance.serviceOptions(time.Now()); err != nil {
			return nil, err
		}
	}
	s.opts.TrustedRoot = withPublicKey(s.trusted, key.Public())
	return s, nil
}

// ParseKey reads an ECDSA P-256 private key from PEM: PKCS#8 ("PRIVATE
// KEY"), SEC 1 ("EC PRIVATE KEY"), or cosign's password-encrypted form
// ("ENCRYPTED SIGSTORE PRIVATE KEY", as 'cosign generate-key-pair' writes).
// The error never contains key material or the password.
func ParseKey(pemBytes, password []byte) (*ecdsa.PrivateKey, error) {
	k, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w: want an ECDSA P-256 private key in PEM; if it is encrypted, check the password", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key: %T is not an ECDSA P-256 key", k)
	}
	return ec, nil
}

// keypair adapts a crypto.Signer holding an ECDSA P-256 key to sigstore-go.
type keypair struct {
	key  crypto.Signer
	hint []byte
	pem  string
}

func newKeypair(key crypto.Signer) (*keypair, error) {
	pub, ok := key.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key: want ECDSA P-256, got %T", key.Public())
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	sum := sha256.Sum256(der)
	pemBytes, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &keypair{key: key, hint: []byte(base64.StdEncoding.EncodeToString(sum[:])), pem: string(pemBytes)}, nil
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k *keypair) GetHint() []byte                  { return k.hint }
func (k *keypair) GetKeyAlgorithm() string          { return "ECDSA" }
func (k *keypair) GetPublicKey() crypto.PublicKey   { return k.key.Public() }
func (k *keypair) GetPublicKeyPem() (string, error) { return k.pem, nil }

func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	digest := sha256.Sum256(data)
	sig, err := k.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("sign with key: %w", err)
	}
	return sig, digest[:], nil
}

// withPublicKey adds a public key to trusted material: Rekor and TSA keys
// come from trusted (which may be nil), the signing key is pub.
func withPublicKey(trusted root.TrustedMaterial, pub crypto.PublicKey) root.TrustedMaterial {
	if trusted == nil {
		trusted = &root.BaseTrustedMaterial{}
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	key := root.NewExpiringKey(v, time.Time{}, time.Time{})
	return &withKey{TrustedMaterial: trusted, key: root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		if err != nil {
			return nil, err
		}
		return key, nil
	})}
}

type withKey struct {
	root.TrustedMaterial
	key root.TrustedMaterial
}

func (w *withKey) PublicKeyVerifier(hint string) (root.TimeConstrainedVerifier, error) {
	return w.key.PublicKeyVerifier(hint)
}
