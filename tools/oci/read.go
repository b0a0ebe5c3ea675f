package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// SignPredicate is the predicate type of an image signature as cosign v3
// makes it ('cosign sign' with the bundle format): an in-toto statement
// about the image digest with an empty predicate, in a DSSE envelope,
// attached like an attestation.
const SignPredicate = "https://sigstore.dev/cosign/sign/v1"

// maxBundleSize bounds a bundle read from a registry; real ones are a few KiB.
const maxBundleSize = 16 << 20

// Attached returns the attestations attached to the image d (sha256:<hex>)
// in repo: the Sigstore bundles among its OCI 1.1 referrers, or under the
// sha256-<hex> tag on registries without the referrers API, in the
// registry's order. Referrers that are not bundles of in-toto statements
// are skipped. An image with none, or not in the registry, has none.
func Attached(ctx context.Context, repo, d string, opts ...remote.Option) ([]Attestation, error) {
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	if _, err := parseDigest(d); err != nil {
		return nil, err
	}
	opts = append(opts, remote.WithContext(ctx))
	subject := r.Digest(d)
	idx, err := remote.Referrers(subject, opts...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, registryError("list referrers of "+subject.String(), err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, registryError("list referrers of "+subject.String(), err)
	}
	var out []Attestation
	for _, desc := range im.Manifests {
		data, err := bundleOf(r, desc, opts)
		if err != nil {
			return nil, err
		}
		if data == nil {
			continue
		}
		if a, err := ParseAttestation(data); err == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// bundleOf returns the bundle a referrer manifest holds, or nil when it
// holds none (some other kind of referrer).
func bundleOf(r name.Repository, desc v1.Descriptor, opts []remote.Option) ([]byte, error) {
	if !desc.MediaType.IsImage() {
		return nil, nil
	}
	ref := r.Digest(desc.Digest.String())
	got, err := remote.Get(ref, opts...)
	if isNotFound(err) {
		return nil, nil // listed under the fallback tag, but deleted
	}
	if err != nil {
		return nil, registryError("read referrer "+ref.String(), err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(got.Manifest, &m); err != nil {
		return nil, fmt.Errorf("read referrer %s: %w", ref, err)
	}
	if len(m.Layers) != 1 || !strings.HasPrefix(string(m.Layers[0].MediaType), bundleMediaTypePrefix) || m.Layers[0].Size > maxBundleSize {
		return nil, nil
	}
	l, err := remote.Layer(r.Digest(m.Layers[0].Digest.String()), opts...)
	if err != nil {
		return nil, registryError("read bundle of "+ref.String(), err)
	}
	rc, err := l.Compressed() // the blob as stored, checked against its digest
	if err != nil {
		return nil, registryError("read bundle of "+ref.String(), err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, maxBundleSize)); err != nil {
		return nil, registryError("read bundle of "+ref.String(), err)
	}
	return buf.Bytes(), nil
}

// Exists reports whether the registry has the image or index d in repo.
func Exists(ctx context.Context, repo, d string, opts ...remote.Option) (bool, error) {
	if _, err := parseDigest(d); err != nil {
		return false, err
	}
	got, found, err := Resolve(ctx, repo, d, opts...)
	return found && got == d, err
}

// Resolve returns the digest that ref (a tag or digest) names in repo, and
// whether the registry has it.
func Resolve(ctx context.Context, repo, ref string, opts ...remote.Option) (string, bool, error) {
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return "", false, fmt.Errorf("repository %q: %w", repo, err)
	}
	var nr name.Reference = r.Tag(ref)
	if strings.HasPrefix(ref, "sha256:") {
		nr = r.Digest(ref)
	}
	desc, err := remote.Head(nr, append(opts, remote.WithContext(ctx))...)
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, registryError("read "+nr.String(), err)
	}
	return desc.Digest.String(), true, nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}
