// Package registryapi records releases in the connector registry: the
// request of POST /api/v1/ingest/release built from a manifest, a client
// that sends it with retries, and a server that stores releases in SQL
// (SQLite by default, Postgres by URL) for local use and tests.
package registryapi

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/release"
)

// IngestPath is the path of the ingest endpoint under the registry URL.
const IngestPath = "/api/v1/ingest/release"

// Audience is the audience of the OIDC tokens the registry accepts.
const Audience = "connector-registry"

// Release is the ingest request body. Optional documents are sent as
// opaque strings, exactly as read.
type Release struct {
	Org            string           `json:"org"`
	Name           string           `json:"name"`
	Version        string           `json:"version"`
	RepositoryURL  string           `json:"repositoryUrl"`
	CommitSHA      string           `json:"commitSha"`
	WorkflowRunID  string           `json:"workflowRunId"`
	Documentation  string           `json:"documentation,omitempty"`
	Changelog      string           `json:"changelog,omitempty"`
	ConfigSchema   string           `json:"configSchema,omitempty"`
	Capabilities   string           `json:"capabilities,omitempty"`
	SignatureURL   string           `json:"signatureUrl,omitempty"`
	CertificateURL string           `json:"certificateUrl,omitempty"`
	Assets         map[string]Asset `json:"assets,omitempty"`
	Images         map[string]Image `json:"images,omitempty"`
	// ReleasedAt is omitted when zero: the registry then uses its own time.
	ReleasedAt time.Time `json:"releasedAt,omitzero"`
}

// Asset is a downloadable file of the release.
type Asset struct {
	Platform       string        `json:"platform"` // the manifest key
	Filename       string        `json:"filename"`
	MediaType      string        `json:"mediaType"`
	SizeBytes      int64         `json:"sizeBytes"`
	SHA256         string        `json:"sha256"`
	DownloadURL    string        `json:"downloadUrl"`
	SignatureURL   string        `json:"signatureUrl,omitempty"`
	CertificateURL string        `json:"certificateUrl,omitempty"`
	SBOMURL        string        `json:"sbomUrl,omitempty"`
	Attestations   []Attestation `json:"attestations,omitempty"`
}

// Image is a container image of the release.
type Image struct {
	Ref          string        `json:"ref"`
	Digest       string        `json:"digest"`
	Platform     string        `json:"platform"` // the manifest key
	Attestations []Attestation `json:"attestations,omitempty"`
}

// Attestation points at a Sigstore bundle (assets) or names an attestation
// kept in the image registry (images, no URL).
type Attestation struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

// Metadata is what the manifest does not say about a release.
type Metadata struct {
	RepositoryURL string // default https://github.com/ORG/R
	CommitSHA     string // the verified tag commit
	WorkflowRunID string
	Documentation string
	Changelog     string
	ConfigSchema  string
	Capabilities  string
	ReleasedAt    time.Time
}

// FromManifest builds the request for a published manifest: asset
// attestations keep their order and drop entries without a type or bundle
// URL; an index image gets the manifest's image attestation type without a
// URL; other images get none.
func FromManifest(m *manifest.Manifest, md Metadata) (*Release, error) {
	r := &Release{
		Org: m.Org, Name: m.Name, Version: m.Semver,
		RepositoryURL:  md.RepositoryURL,
		CommitSHA:      md.CommitSHA,
		WorkflowRunID:  md.WorkflowRunID,
		Documentation:  md.Documentation,
		Changelog:      md.Changelog,
		ConfigSchema:   md.ConfigSchema,
		Capabilities:   md.Capabilities,
		SignatureURL:   m.SignatureHref,
		CertificateURL: m.CertificateHref,
		ReleasedAt:     md.ReleasedAt.UTC(),
	}
	if r.RepositoryURL == "" {
		r.RepositoryURL = "https://github.com/" + m.Org + "/" + m.Name
	}
	for _, key := range slices.Sorted(maps.Keys(m.Assets)) {
		a := m.Assets[key]
		out := Asset{
			Platform: key, Filename: a.Filename, MediaType: a.MediaType, SizeBytes: a.SizeBytes,
			SHA256: a.SHA256, DownloadURL: a.Href, SignatureURL: a.SignatureHref,
			CertificateURL: a.CertificateHref, SBOMURL: a.SBOMHref,
		}
		for _, at := range a.Attestations {
			if at.PredicateType != "" && at.BundleHref != "" {
				out.Attestations = append(out.Attestations, Attestation{Type: at.PredicateType, URL: at.BundleHref})
			}
		}
		if r.Assets == nil {
			r.Assets = map[string]Asset{}
		}
		r.Assets[key] = out
	}
	for _, key := range slices.Sorted(maps.Keys(m.Images)) {
		im := m.Images[key]
		out := Image{Ref: im.Ref, Digest: im.Digest, Platform: key}
		if im.IsIndex && m.ImageAttestation != nil && m.ImageAttestation.PredicateType != "" {
			out.Attestations = []Attestation{{Type: m.ImageAttestation.PredicateType}}
		}
		if r.Images == nil {
			r.Images = map[string]Image{}
		}
		r.Images[key] = out
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

var (
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	runIDRE  = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Validate checks the fields the registry relies on and reports every
// problem at once, naming the field.
func (r *Release) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := release.CheckName("org", r.Org); err != nil {
		errs = append(errs, err)
	}
	if err := release.CheckName("name", r.Name); err != nil {
		errs = append(errs, err)
	}
	if _, err := release.ParseTag(r.Version); err != nil {
		bad("version: %v", err)
	}
	if r.RepositoryURL == "" {
		bad("repositoryUrl: missing")
	}
	if !commitRE.MatchString(r.CommitSHA) {
		bad("commitSha: want 40 lower-case hex digits, got %q", r.CommitSHA)
	}
	if !runIDRE.MatchString(r.WorkflowRunID) {
		bad("workflowRunId: want a number, got %q", r.WorkflowRunID)
	}
	if len(r.Assets) == 0 {
		bad("assets: none; a release has at least its checksums file")
	}
	for _, key := range slices.Sorted(maps.Keys(r.Assets)) {
		a := r.Assets[key]
		if a.Platform != key {
			bad("assets[%q].platform: %q, want the key", key, a.Platform)
		}
		if a.Filename == "" || a.DownloadURL == "" {
			bad("assets[%q]: filename and downloadUrl are required", key)
		}
		if !sha256RE.MatchString(a.SHA256) {
			bad("assets[%q].sha256: want 64 lower-case hex digits, got %q", key, a.SHA256)
		}
		if a.SizeBytes < 0 {
			bad("assets[%q].sizeBytes: %d is negative", key, a.SizeBytes)
		}
		for i, at := range a.Attestations {
			if at.Type == "" || at.URL == "" {
				bad("assets[%q].attestations[%d]: type and url are required", key, i)
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(r.Images)) {
		im := r.Images[key]
		if im.Platform != key || im.Ref == "" || !digestRE.MatchString(im.Digest) {
			bad("images[%q]: want platform = key, a ref and a sha256:<hex> digest", key)
		}
	}
	return errors.Join(errs...)
}
