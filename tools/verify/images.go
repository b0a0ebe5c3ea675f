package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/sign"
)

// imageChecks are the Sigstore bundles every image must have attached, by
// check name: its SLSA provenance, its SPDX SBOM and its cosign signature.
var imageChecks = []struct{ check, predicateType string }{
	{"attestation " + manifest.SLSAPredicate, manifest.SLSAPredicate},
	{"attestation " + manifest.SPDXPredicate, manifest.SPDXPredicate},
	{"signature", oci.SignPredicate},
}

// image checks that the registry has the image and that its attestations
// and signature are attached, verify for the expected signer, and are
// about the image's digest alone.
func (c *checker) image(ctx context.Context, key string, im manifest.Image) {
	repo, _, ok := strings.Cut(im.URI, "@")
	if !ok {
		repo = im.Ref[:strings.LastIndexByte(im.Ref, ':')] // Read checked the ref has a tag
	}
	kc := c.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithUserAgent("relkit")}
	found, err := oci.Exists(ctx, repo, im.Digest, opts...)
	if err == nil && !found {
		err = fmt.Errorf("%s@%s is not in the registry", repo, im.Digest)
	}
	if !c.add(key, "in registry", err) {
		return
	}
	atts, err := oci.Attached(ctx, repo, im.Digest, opts...)
	if err != nil {
		for _, ic := range imageChecks {
			c.add(key, ic.check, err)
		}
		return
	}
	hexDigest := strings.TrimPrefix(im.Digest, "sha256:")
	for _, ic := range imageChecks {
		var n int
		var last error
		for _, a := range atts {
			if a.PredicateType != ic.predicateType {
				continue
			}
			n++
			if last = c.imageBundle(a, im.Digest, hexDigest); last == nil {
				break
			}
		}
		switch {
		case n == 0:
			c.add(key, ic.check, fmt.Errorf("no %s bundle is attached to %s@%s (%d referrers)", ic.predicateType, repo, im.Digest, len(atts)))
		case last != nil && n == 1:
			c.add(key, ic.check, last)
		case last != nil:
			c.add(key, ic.check, fmt.Errorf("none of %d attached bundles verifies; the last: %w", n, last))
		default:
			c.add(key, ic.check, nil)
		}
	}
}

// imageBundle verifies one attached bundle for the image digest.
func (c *checker) imageBundle(a oci.Attestation, digest, hexDigest string) error {
	for _, s := range a.Subjects {
		if s.String() != digest {
			return fmt.Errorf("the statement is also about %s, not only the image %s", s, digest)
		}
	}
	b, err := sign.ReadBundle(a.Bundle)
	if err != nil {
		return err
	}
	_, err = c.Verifier.VerifyAttestation(b, hexDigest, a.PredicateType)
	return err
}
