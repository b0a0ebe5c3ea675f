package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sign"
)

// imageChecks are the Sigstore bundles every image must have attached, by
// check name: its SLSA provenance, its SPDX SBOM and its cosign signature.
var imageChecks = []struct{ check, predicateType string }{
	{"attestation " + manifest.SLSAPredicate, manifest.SLSAPredicate},
	{"attestation " + manifest.SPDXPredicate, manifest.SPDXPredicate},
	{"signature", oci.SignPredicate},
}

// imageTagSuffix is what follows VER in the tag of each image the release
// workflow pushes, by manifest images key.
var imageTagSuffix = map[string]string{"ecrPublic": "", "lambda-arm64": "-arm64"}

// imageTag checks that the image's tag is the release's and still names
// the image: a tag moved after publishing would hand users other bytes.
func (c *checker) imageTag(ctx context.Context, key, repo string, im manifest.Image, opts []remote.Option) error {
	if suffix, ok := imageTagSuffix[key]; ok {
		t, err := release.ParseTag(c.Tag)
		if err != nil {
			return err
		}
		if want := t.Version() + suffix; im.Tag != want {
			return fmt.Errorf("the manifest gives %s the tag %q, want %q", repo, im.Tag, want)
		}
	}
	if im.Tag == "" {
		return fmt.Errorf("the manifest gives %s no tag", repo)
	}
	got, found, err := oci.Resolve(ctx, repo, im.Tag, opts...)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("%s:%s is not in the registry", repo, im.Tag)
	case got != im.Digest:
		return fmt.Errorf("%s:%s has moved: it names %s, not the manifest's %s", repo, im.Tag, got, im.Digest)
	}
	return nil
}

// image checks that the registry has the image and that its attestations
// and signature are attached, verify for the expected signer, and are
// about the image's digest alone, and that its tag still names it.
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
	c.add(key, "tag", c.imageTag(ctx, key, repo, im, opts))
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
	return c.verifyAttestation(b, hexDigest, a.PredicateType)
}
