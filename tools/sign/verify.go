package sign

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Policy names the signer a Verifier accepts: a certificate identity
// (keyless) or a public key (key mode).
type Policy struct {
	// Issuer is the exact OIDC issuer, e.g.
	// https://token.actions.githubusercontent.com.
	Issuer string
	// Identity is the exact certificate subject; for GitHub Actions the
	// workflow that signed, e.g.
	// https://github.com/relkit/relkit/.github/workflows/release.yaml@refs/tags/v1.0.0.
	Identity string
	// IdentityRegexp matches the subject instead of Identity. Prefer an
	// exact Identity with Repository and Ref.
	IdentityRegexp string
	// Repository and Ref, when set, must equal the certificate's GitHub
	// workflow repository (ORG/R) and ref (refs/tags/TAG): the source that
	// was released, not only the workflow that signed.
	Repository, Ref string

	// PublicKey selects key mode: bundles must be signed by this key.
	PublicKey crypto.PublicKey
	// Unlogged accepts key-mode bundles without a transparency log entry or
	// signed timestamp (signed offline). Unsafe for published releases: the
	// signing time is unproven.
	Unlogged bool
}

// Verifier checks bundles against a trusted root and a Policy.
type Verifier struct {
	v      *verify.Verifier
	policy verify.PolicyOption
}

// ErrVerification marks a bundle that was read but does not verify, as
// opposed to one that could not be read.
var ErrVerification = errors.New("verification failed")

// NewVerifier returns a verifier for p. Keyless bundles must carry a
// certificate chaining to the trusted root with an embedded certificate
// transparency timestamp, a Rekor entry and an RFC 3161 timestamp; key-mode
// bundles a Rekor entry and a timestamp unless p.Unlogged.
func NewVerifier(trusted root.TrustedMaterial, p Policy) (*Verifier, error) {
	var opts []verify.VerifierOption
	var policy verify.PolicyOption
	switch {
	case p.PublicKey != nil:
		if p.Issuer != "" || p.Identity != "" || p.IdentityRegexp != "" {
			return nil, errors.New("verify policy: give a public key or a certificate identity, not both")
		}
		policy = verify.WithKey()
		trusted = withPublicKey(trusted, p.PublicKey)
		if p.Unlogged {
			opts = append(opts, verify.WithNoObserverTimestamps())
		} else {
			opts = append(opts, verify.WithTransparencyLog(1), verify.WithSignedTimestamps(1))
		}
	default:
		if p.Issuer == "" || (p.Identity == "") == (p.IdentityRegexp == "") {
			return nil, errors.New("verify policy: give the OIDC issuer and exactly one of identity or identity regexp")
		}
		if p.IdentityRegexp != "" {
			if _, err := regexp.Compile(p.IdentityRegexp); err != nil {
				return nil, fmt.Errorf("verify policy: identity regexp: %w", err)
			}
		}
		san, err := verify.NewSANMatcher(p.Identity, p.IdentityRegexp)
		if err != nil {
			return nil, fmt.Errorf("verify policy: %w", err)
		}
		iss, err := verify.NewIssuerMatcher(p.Issuer, "")
		if err != nil {
			return nil, fmt.Errorf("verify policy: %w", err)
		}
		id, err := verify.NewCertificateIdentity(san, iss, certificate.Extensions{
			GithubWorkflowRepository: p.Repository,
			GithubWorkflowRef:        p.Ref,
		})
		if err != nil {
			return nil, fmt.Errorf("verify policy: %w", err)
		}
		policy = verify.WithCertificateIdentity(id)
		opts = append(opts, verify.WithSignedCertificateTimestamps(1), verify.WithTransparencyLog(1), verify.WithSignedTimestamps(1))
	}
	v, err := verify.NewVerifier(trusted, opts...)
	if err != nil {
		return nil, fmt.Errorf("verify policy: %w", err)
	}
	return &Verifier{v: v, policy: policy}, nil
}

// ReadBundle parses a Sigstore bundle (v0.1 to v0.3 JSON).
func ReadBundle(data []byte) (*bundle.Bundle, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("not a Sigstore bundle: %w", err)
	}
	return &b, nil
}

// VerifyBlob checks that b is a message signature over artifact by the
// policy's signer.
func (v *Verifier) VerifyBlob(b *bundle.Bundle, artifact []byte) error {
	if b.GetMessageSignature() == nil {
		return fmt.Errorf("%w: bundle holds no message signature", ErrVerification)
	}
	_, err := v.v.Verify(b, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), v.policy))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrVerification, err)
	}
	return nil
}

// Statement is the verified in-toto statement of an attestation bundle.
type Statement struct {
	PredicateType string
	// Payload is the statement exactly as signed.
	Payload []byte
}

// VerifyAttestation checks that b is a DSSE-signed in-toto statement of
// predicateType, by the policy's signer, with a subject whose sha256 is
// sha256hex.
func (v *Verifier) VerifyAttestation(b *bundle.Bundle, sha256hex, predicateType string) (*Statement, error) {
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, fmt.Errorf("%w: bundle holds no DSSE envelope", ErrVerification)
	}
	digest, err := hex.DecodeString(sha256hex)
	if err != nil || len(digest) != 32 {
		return nil, fmt.Errorf("artifact digest %q: want 64 hex digits", sha256hex)
	}
	res, err := v.v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", digest), v.policy))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVerification, err)
	}
	if res.Statement == nil || res.Statement.GetPredicateType() != predicateType {
		got := ""
		if res.Statement != nil {
			got = res.Statement.GetPredicateType()
		}
		return nil, fmt.Errorf("%w: predicate type is %q, want %q", ErrVerification, got, predicateType)
	}
	var st struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil || st.Type != StatementType {
		return nil, fmt.Errorf("%w: payload is not an in-toto %s", ErrVerification, StatementType)
	}
	return &Statement{PredicateType: predicateType, Payload: env.GetPayload()}, nil
}
