package oci

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types and annotations of attestations stored as OCI referrers, as
// cosign writes and reads them.
const (
	BundleMediaType       = "application/vnd.dev.sigstore.bundle.v0.3+json"
	EmptyMediaType        = "application/vnd.oci.empty.v1+json"
	AnnotationContent     = "dev.sigstore.bundle.content"
	AnnotationPredicate   = "dev.sigstore.bundle.predicateType"
	inTotoPayloadType     = "application/vnd.in-toto+json"
	bundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle"
)

// emptyJSON is the OCI empty descriptor's content.
var emptyJSON = []byte("{}")

// Attestation is a Sigstore bundle holding a DSSE envelope whose payload is
// an in-toto statement about images.
type Attestation struct {
	Bundle        []byte
	MediaType     string    // the bundle's media type
	PredicateType string    // the statement's predicate type
	Subjects      []v1.Hash // the statement's sha256 subject digests
}

// ParseAttestation reads a Sigstore bundle and its statement.
func ParseAttestation(data []byte) (Attestation, error) {
	var b struct {
		MediaType    string `json:"mediaType"`
		DSSEEnvelope *struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return Attestation{}, fmt.Errorf("not a Sigstore bundle: %w", err)
	}
	if !strings.HasPrefix(b.MediaType, bundleMediaTypePrefix) {
		return Attestation{}, fmt.Errorf("mediaType %q: want a Sigstore bundle type like %s", b.MediaType, BundleMediaType)
	}
	if b.DSSEEnvelope == nil {
		return Attestation{}, errors.New("bundle has no dsseEnvelope: want an attestation, not a signature")
	}
	if b.DSSEEnvelope.PayloadType != inTotoPayloadType {
		return Attestation{}, fmt.Errorf("payloadType %q: want %s", b.DSSEEnvelope.PayloadType, inTotoPayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		return Attestation{}, fmt.Errorf("payload: %w", err)
	}
	var st struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return Attestation{}, fmt.Errorf("payload is not an in-toto statement: %w", err)
	}
	if st.PredicateType == "" {
		return Attestation{}, errors.New("statement has no predicateType")
	}
	a := Attestation{Bundle: data, MediaType: b.MediaType, PredicateType: st.PredicateType}
	for _, s := range st.Subject {
		if hex, ok := s.Digest["sha256"]; ok {
			h, err := parseDigest("sha256:" + hex)
			if err != nil {
				return Attestation{}, fmt.Errorf("statement subject: %w", err)
			}
			a.Subjects = append(a.Subjects, h)
		}
	}
	if len(a.Subjects) == 0 {
		return Attestation{}, errors.New("statement has no sha256 subject")
	}
	return a, nil
}

// About reports whether the statement's subjects include d.
func (a Attestation) About(d v1.Hash) bool {
	for _, s := range a.Subjects {
		if s == d {
			return true
		}
	}
	return false
}

// referrer returns the OCI 1.1 manifest that stores a as a referrer of
// subject: artifactType the bundle's media type, the empty config, one
// layer holding the bundle, and the predicate type as an annotation. It has
// no creation time, so pushing it again gives the same digest.
func (a Attestation) referrer(subject v1.Descriptor) (*rawManifest, error) {
	emptyDigest, _, err := v1.SHA256(bytes.NewReader(emptyJSON))
	if err != nil {
		return nil, err
	}
	bundleDigest, _, err := v1.SHA256(bytes.NewReader(a.Bundle))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  a.MediaType,
		Config:        v1.Descriptor{MediaType: EmptyMediaType, Digest: emptyDigest, Size: int64(len(emptyJSON))},
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(a.MediaType), Digest: bundleDigest, Size: int64(len(a.Bundle))}},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			AnnotationContent:   "dsse-envelope",
			AnnotationPredicate: a.PredicateType,
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}, nil
}

// rawManifest is a manifest to put as is.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (r *rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r *rawManifest) MediaType() (types.MediaType, error) { return r.mediaType, nil }
func (r *rawManifest) Size() (int64, error)                { return int64(len(r.raw)), nil }
func (r *rawManifest) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(r.raw))
	return h, err
}
