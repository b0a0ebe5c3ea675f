// Package manifest reads, writes, builds and merges manifest.json, the
// document that describes one release: its assets (archives, installers,
// the checksums file) with hashes, sizes, URLs and attestation bundles, and
// its container images. The schema is version "2" of the format consumers of
// the previous pipeline read (protobuf package artifacts.v1 in JSON form),
// with its quirks fixed: sizeBytes is always written as a JSON string, unset
// fields are omitted rather than null, and keys come out in a fixed order.
//
// # Build tree and published manifest
//
// Build runs in the hermetic half of a release, before anything is signed,
// so the release directory holds no Sigstore bundles yet. With
// ExpectAttestations it declares the bundles publishing will create: a SLSA
// provenance bundle (<file>.provenance.sigstore.json) for every asset, and an
// SPDX SBOM bundle (<file>.sbom.sigstore.json) for every asset whose SBOM
// (<file>.sbom.json) is in the directory. Bundles already present are listed
// either way, so building again from the signed tree without
// ExpectAttestations gives the same assets exactly when publishing produced
// every declared bundle; publishing can use that as its completeness check.
// The build manifest has no releasedAt (no clock in the build half) and no
// images (they are pushed by publishing); publishing adds both, with Merge
// for the images, and signs the result; every other field of the published
// manifest.json is as the build wrote it.
package manifest

import (
	"time"

	"github.com/relkit/relkit/tools/provenance"
)

// Version is the schema version this package writes.
const Version = "2"

// Attestation types advertised in descriptors. They are the types of the
// statements relkit itself generates.
const (
	StatementType = provenance.StatementType
	SLSAPredicate = provenance.PredicateType
	SPDXPredicate = "https://spdx.dev/Document"
)

// Media types of assets.
const (
	MediaZip   = "application/zip"
	MediaGzip  = "application/gzip"
	MediaMSI   = "application/x-msi"
	MediaPlain = "text/plain"
)

// Manifest is manifest.json. Field order is the output order.
type Manifest struct {
	Version string `json:"version"`
	Name    string `json:"name,omitempty"`
	Org     string `json:"org,omitempty"`
	Semver  string `json:"semver,omitempty"`
	// ReleasedAt is written in UTC when not zero.
	ReleasedAt       time.Time              `json:"releasedAt,omitzero"`
	Assets           map[string]Asset       `json:"assets,omitempty"`
	Images           map[string]Image       `json:"images,omitempty"`
	SignatureHref    string                 `json:"signatureHref,omitempty"`
	CertificateHref  string                 `json:"certificateHref,omitempty"`
	ImageAttestation *AttestationDescriptor `json:"imageAttestation,omitempty"`
	AssetAttestation *AttestationDescriptor `json:"assetAttestation,omitempty"`
}

// Asset is a downloadable file of the release.
type Asset struct {
	Filename  string `json:"filename,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	// SizeBytes is written as a JSON string, as protobuf JSON writes int64.
	SizeBytes       int64  `json:"sizeBytes,string"`
	SHA256          string `json:"sha256,omitempty"`
	Href            string `json:"href,omitempty"`
	SignatureHref   string `json:"signatureHref,omitempty"`
	CertificateHref string `json:"certificateHref,omitempty"`
	// SBOMHref is deprecated since version 2 (SBOMs are attestations now);
	// it is kept so older manifests read and merge without loss.
	SBOMHref     string                  `json:"sbomHref,omitempty"`
	Attestations []AttestationDescriptor `json:"attestations,omitempty"`
}

// Image is a container image, identified by digest first.
type Image struct {
	Ref     string `json:"ref,omitempty"`    // tag reference, e.g. public.ecr.aws/o/r:1.2.3
	Digest  string `json:"digest,omitempty"` // sha256:<64 hex>
	Tag     string `json:"tag,omitempty"`    // the tag part of Ref
	URI     string `json:"uri,omitempty"`    // Ref without its tag, then "@" Digest
	IsIndex bool   `json:"isIndex"`          // a multi-platform index
}

// AttestationDescriptor names an attestation of an asset or image.
type AttestationDescriptor struct {
	AttestationType string `json:"attestationType,omitempty"`
	PredicateType   string `json:"predicateType,omitempty"`
	// BundleHref is the Sigstore bundle's URL; empty for attestations stored
	// in the image registry.
	BundleHref string `json:"bundleHref,omitempty"`
}

// summarize sets the manifest-level attestation summaries from the content:
// imageAttestation when an image is an index (those are attested in the
// registry), assetAttestation when an asset has an attestation.
func (m *Manifest) summarize() {
	m.ImageAttestation, m.AssetAttestation = nil, nil
	for _, im := range m.Images {
		if im.IsIndex {
			m.ImageAttestation = &AttestationDescriptor{AttestationType: StatementType, PredicateType: SLSAPredicate}
		}
	}
	for _, a := range m.Assets {
		if len(a.Attestations) > 0 {
			m.AssetAttestation = &AttestationDescriptor{AttestationType: StatementType, PredicateType: SLSAPredicate}
		}
	}
}
