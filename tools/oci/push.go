package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/relkit/relkit/tools/release"
)

// LatestTag is the tag that names the newest final release.
const LatestTag = "latest"

// Pushed describes an image pushed under a tag.
type Pushed struct {
	Ref     string // repository:tag
	Tag     string
	Digest  string // sha256:<hex>
	URI     string // repository@digest
	IsIndex bool
	// Referrers are the digests of the attestation manifests attached.
	Referrers []string
}

// Push pushes a to repo (registry/repository) under tag, then attaches
// each attestation as an OCI 1.1 referrer of it (registries without the
// referrers API get the sha256-<hex> tag scheme instead). Every attestation
// must be about a. Pushing the same content again changes nothing.
func Push(ctx context.Context, a Artifact, repo, tag string, atts []Attestation, opts ...remote.Option) (Pushed, error) {
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return Pushed{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	ref := r.Tag(tag)
	desc, err := a.descriptor()
	if err != nil {
		return Pushed{}, err
	}
	for _, at := range atts {
		if !at.About(desc.Digest) {
			return Pushed{}, fmt.Errorf("attestation (%s) is about %s, not the image %s: attest the image digest 'relkit image build' printed", at.PredicateType, subjects(at), desc.Digest)
		}
	}
	opts = append(opts, remote.WithContext(ctx))
	var t remote.Taggable = a.Image
	if a.Index != nil {
		t = a.Index
	}
	if err := remote.Push(ref, t, opts...); err != nil {
		return Pushed{}, registryError("push "+ref.String(), err)
	}
	p := Pushed{
		Ref:     ref.String(),
		Tag:     tag,
		Digest:  desc.Digest.String(),
		URI:     r.Digest(desc.Digest.String()).String(),
		IsIndex: a.Index != nil,
	}
	for _, at := range atts {
		d, err := attach(r, desc, at, opts)
		if err != nil {
			return Pushed{}, err
		}
		p.Referrers = append(p.Referrers, d.String())
	}
	return p, nil
}

func subjects(a Attestation) string {
	s := ""
	for i, h := range a.Subjects {
		if i > 0 {
			s += ", "
		}
		s += h.String()
	}
	return s
}

// attach stores one attestation as a referrer of subject.
func attach(r name.Repository, subject v1.Descriptor, a Attestation, opts []remote.Option) (v1.Hash, error) {
	m, err := a.referrer(subject)
	if err != nil {
		return v1.Hash{}, err
	}
	for _, blob := range []v1.Layer{
		static.NewLayer(emptyJSON, EmptyMediaType),
		static.NewLayer(a.Bundle, types.MediaType(a.MediaType)),
	} {
		if err := remote.WriteLayer(r, blob, opts...); err != nil {
			return v1.Hash{}, registryError("upload attestation to "+r.String(), err)
		}
	}
	d, err := m.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(r.Digest(d.String()), m, opts...); err != nil {
		return v1.Hash{}, registryError(fmt.Sprintf("attach %s attestation to %s", a.PredicateType, r.Digest(subject.Digest.String())), err)
	}
	return d, nil
}

// LatestVersion returns the version label of the image tagged latest in
// repo, and whether there is such an image. For an index, the label of its
// first image is read.
func LatestVersion(ctx context.Context, repo string, opts ...remote.Option) (string, bool, error) {
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return "", false, fmt.Errorf("repository %q: %w", repo, err)
	}
	opts = append(opts, remote.WithContext(ctx))
	ref := r.Tag(LatestTag)
	desc, err := remote.Get(ref, opts...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, registryError("read "+ref.String(), err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return "", false, registryError("read "+ref.String(), err)
		}
		im, err := idx.IndexManifest()
		if err != nil || len(im.Manifests) == 0 {
			return "", true, fmt.Errorf("read %s: index has no images", ref)
		}
		img, err = idx.Image(im.Manifests[0].Digest)
		if err != nil {
			return "", false, registryError("read "+ref.String(), err)
		}
	} else if img, err = desc.Image(); err != nil {
		return "", false, registryError("read "+ref.String(), err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", false, registryError("read "+ref.String()+" config", err)
	}
	return cf.Config.Labels[LabelVersion], true, nil
}

// MoveLatest reports whether a release of version v should take the latest
// tag from the image currently there (current is its version label; found
// is false when there is no latest yet). Pre-releases never move it; a
// release moves it only when newer, so back-ports leave it alone. A latest
// image without a readable version label is left alone too, with the
// reason.
func MoveLatest(v release.Tag, current string, found bool) (bool, string) {
	if v.IsPrerelease() {
		return false, fmt.Sprintf("%s is a pre-release", v.Version())
	}
	if !found {
		return true, "there is no latest yet"
	}
	cur, err := release.ParseTag("v" + current)
	if err != nil {
		return false, fmt.Sprintf("the current latest has version label %q, which is not a release version; move it by hand if intended", current)
	}
	switch c := v.Compare(cur); {
	case c > 0:
		return true, fmt.Sprintf("%s is newer than %s", v.Version(), current)
	case c == 0:
		return true, fmt.Sprintf("%s is the current latest", current)
	}
	return false, fmt.Sprintf("%s is older than the current latest %s", v.Version(), current)
}

// Tag adds tag to the image digest d already in repo.
func Tag(ctx context.Context, repo string, d string, tag string, opts ...remote.Option) error {
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("repository %q: %w", repo, err)
	}
	opts = append(opts, remote.WithContext(ctx))
	desc, err := remote.Get(r.Digest(d), opts...)
	if err != nil {
		return registryError("read "+r.Digest(d).String(), err)
	}
	if err := remote.Tag(r.Tag(tag), desc, opts...); err != nil {
		return registryError("tag "+r.Tag(tag).String(), err)
	}
	return nil
}

// registryError adds what to check to an error from a registry.
func registryError(what string, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s: access denied (HTTP %d): check the registry credentials (Docker config, username and password, or AWS credentials for ECR): %w", what, terr.StatusCode, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
