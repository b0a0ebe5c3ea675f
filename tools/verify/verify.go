// Package verify checks a published release the way a user receives it:
// over HTTP(S) from its public URL, trusting nothing but the signer's
// identity.
//
// For the manifest it checks the tag, org and repo, and the manifest's own
// Sigstore signature. For every asset (installers and the checksums file
// included) it downloads the file and checks its sha256 and size against
// the manifest and the checksums file, its signature bundle and
// signature/certificate files, and every attestation bundle the manifest
// lists (bundleHref), with the subject digest bound to the download. Every
// asset must carry SLSA provenance. The checksums file must list exactly
// the assets other than itself.
//
// For every container image it checks that the registry has the image's
// digest, and that SLSA provenance, an SPDX SBOM and a cosign signature
// are attached to it (OCI referrers, or the sha256-<hex> tag on registries
// without the referrers API), each a bundle that verifies for the same
// signer with the image digest as its only subject, and that the image's
// tag in the manifest (VER, VER-arm64 for the Lambda image) still names
// that digest.
//
// With Options.Builder, every SLSA provenance must name the expected
// builder.id: the release workflow, not a local build.
//
// Downloads run in parallel.
package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"golang.org/x/sync/errgroup"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sign"
)

// Options configure Release.
type Options struct {
	// ManifestURL is where manifest.json was published.
	ManifestURL    string
	Org, Repo, Tag string
	// Verifier checks signatures and attestations against the expected
	// signer.
	Verifier *sign.Verifier
	HTTP     *http.Client // nil means a client with a 5 minute timeout
	Jobs     int          // parallel downloads; 0 means 8
	// MaxSize bounds one download; 0 means 2 GiB.
	MaxSize int64
	// Keychain finds image registry credentials; nil means
	// authn.DefaultKeychain (the Docker config).
	Keychain authn.Keychain
	// Builder is the builder.id every SLSA provenance must record; nil
	// accepts any.
	Builder *Builder
}

// Check is the outcome of one check.
type Check struct {
	Asset  string `json:"asset"` // manifest assets or images key, or "manifest"
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// Report lists every check, sorted by asset, in the order they ran.
type Report struct {
	ManifestURL string   `json:"manifestUrl"`
	Passed      int      `json:"passed"`
	Failed      int      `json:"failed"`
	Warnings    []string `json:"warnings,omitempty"`
	Checks      []Check  `json:"checks"`
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return r.Failed == 0 }

type checker struct {
	Options
	mu     sync.Mutex
	report Report
}

func (c *checker) add(asset, check string, err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := Check{Asset: asset, Check: check, OK: err == nil}
	if err != nil {
		ch.Reason = err.Error()
		c.report.Failed++
	} else {
		c.report.Passed++
	}
	c.report.Checks = append(c.report.Checks, ch)
	return err == nil
}

// Release runs every check and returns the report; the error is for
// problems that stop checking before it starts (a bad option).
func Release(ctx context.Context, o Options) (*Report, error) {
	if o.Verifier == nil {
		return nil, fmt.Errorf("verify: no signer policy")
	}
	if _, err := release.ParseTag(o.Tag); err != nil {
		return nil, err
	}
	c := &checker{Options: o}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 5 * time.Minute}
	}
	if c.Jobs <= 0 {
		c.Jobs = 8
	}
	if c.MaxSize <= 0 {
		c.MaxSize = 2 << 30
	}
	c.report.ManifestURL = o.ManifestURL
	c.run(ctx)
	slices.SortStableFunc(c.report.Checks, func(a, b Check) int { return strings.Compare(a.Asset, b.Asset) })
	return &c.report, nil
}

func (c *checker) run(ctx context.Context) {
	raw, err := c.fetch(ctx, c.ManifestURL)
	if !c.add("manifest", "download", err) {
		return
	}
	m, err := manifest.Read(bytes.NewReader(raw))
	if !c.add("manifest", "parse", err) {
		return
	}
	var idErr error
	if m.Semver != c.Tag || m.Org != c.Org || m.Name != c.Repo {
		idErr = fmt.Errorf("manifest is of %s/%s %s, want %s/%s %s", m.Org, m.Name, m.Semver, c.Org, c.Repo, c.Tag)
	}
	c.add("manifest", "release identity", idErr)
	c.add("manifest", "has assets", cond(len(m.Assets) > 0, "manifest lists no assets"))

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.Jobs)
	g.Go(func() error {
		c.signature(gctx, "manifest", c.ManifestURL, raw, m.SignatureHref, m.CertificateHref)
		return nil
	})
	for _, key := range slices.Sorted(maps.Keys(m.Images)) {
		g.Go(func() error {
			c.image(gctx, key, m.Images[key])
			return nil
		})
	}
	var listed []checksum.Line
	var listedOK bool
	if cs, ok := m.Assets[release.ChecksumsKey]; ok {
		data, err := c.fetch(ctx, cs.Href)
		if c.add(release.ChecksumsKey, "download", err) {
			c.add(release.ChecksumsKey, "sha256 and size", matches(data, cs))
			listed, err = checksum.Parse(bytes.NewReader(data))
			listedOK = c.add(release.ChecksumsKey, "parse", err)
			c.assetSignatures(gctx, release.ChecksumsKey, cs, data)
		}
	} else {
		c.add(release.ChecksumsKey, "present", fmt.Errorf("manifest has no %q asset", release.ChecksumsKey))
	}
	if listedOK {
		c.add(release.ChecksumsKey, "lists exactly the other assets", sameFiles(listed, m))
	}
	for _, key := range slices.Sorted(maps.Keys(m.Assets)) {
		if key == release.ChecksumsKey {
			continue
		}
		a := m.Assets[key]
		g.Go(func() error {
			data, err := c.fetch(gctx, a.Href)
			if !c.add(key, "download", err) {
				return nil
			}
			c.add(key, "sha256 and size", matches(data, a))
			if listedOK {
				sum, ok := checksum.Lookup(listed, a.Filename)
				c.add(key, "checksums file", cond(ok && sum == a.SHA256, "checksums file lists %s with sha256 %q, manifest says %s", a.Filename, sum, a.SHA256))
			}
			c.assetSignatures(gctx, key, a, data)
			return nil
		})
	}
	_ = g.Wait()
}

// assetSignatures checks an asset's signature and attestations.
func (c *checker) assetSignatures(ctx context.Context, key string, a manifest.Asset, data []byte) {
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	c.signature(ctx, key, a.Href, data, a.SignatureHref, a.CertificateHref)
	hasSLSA := false
	for i, at := range a.Attestations {
		if at.PredicateType == manifest.SLSAPredicate && at.BundleHref != "" {
			hasSLSA = true
		}
		check := fmt.Sprintf("attestation %s", at.PredicateType)
		if at.BundleHref == "" {
			c.add(key, check, fmt.Errorf("attestations[%d] has no bundleHref", i))
			continue
		}
		b, err := c.fetch(ctx, at.BundleHref)
		if err == nil {
			err = c.attestation(b, digest, at.PredicateType)
		}
		c.add(key, check, err)
	}
	c.add(key, "has SLSA provenance", cond(hasSLSA, "no %s attestation in the manifest", manifest.SLSAPredicate))
}

func (c *checker) attestation(bundleJSON []byte, digest, predicateType string) error {
	b, err := sign.ReadBundle(bundleJSON)
	if err != nil {
		return err
	}
	return c.verifyAttestation(b, digest, predicateType)
}

// verifyAttestation verifies the bundle b of an attestation about the
// sha256 digest and, for provenance, its builder.
func (c *checker) verifyAttestation(b *bundle.Bundle, digest, predicateType string) error {
	st, err := c.Verifier.VerifyAttestation(b, digest, predicateType)
	if err != nil {
		return err
	}
	if predicateType == manifest.SLSAPredicate && c.Builder != nil {
		return c.Builder.check(st.Payload, b)
	}
	return nil
}

// signature verifies the Sigstore bundle of data at url+".sigstore.json",
// and that the published .sig (and .cert, when the bundle has one) are the
// bundle's.
func (c *checker) signature(ctx context.Context, key, url string, data []byte, sigHref, certHref string) {
	raw, err := c.fetch(ctx, url+".sigstore.json")
	if err != nil {
		c.add(key, "signature", err)
		return
	}
	b, err := sign.ReadBundle(raw)
	if err == nil {
		err = c.Verifier.VerifyBlob(b, data)
	}
	if !c.add(key, "signature", err) {
		return
	}
	if sigHref == "" {
		sigHref = url + release.SigSuffix
	}
	sig, err := c.fetch(ctx, sigHref)
	if err == nil {
		want := base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())
		err = cond(strings.TrimSpace(string(sig)) == want, "%s is not the signature in the bundle", sigHref)
	}
	c.add(key, "signature file", err)
	vc, verr := b.VerificationContent()
	if verr != nil || vc.Certificate() == nil {
		return // key-signed: no certificate
	}
	if certHref == "" {
		certHref = url + release.CertSuffix
	}
	pemData, err := c.fetch(ctx, certHref)
	if err == nil {
		blk, _ := pem.Decode(pemData)
		err = cond(blk != nil && bytes.Equal(blk.Bytes, vc.Certificate().Raw), "%s is not the certificate in the bundle", certHref)
	}
	c.add(key, "certificate file", err)
}

func (c *checker) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", url, err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(data)) > c.MaxSize {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", url, c.MaxSize)
	}
	return data, nil
}

func matches(data []byte, a manifest.Asset) error {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if got != a.SHA256 || int64(len(data)) != a.SizeBytes {
		return fmt.Errorf("%s: sha256 %s and %d bytes, manifest says %s and %d", a.Filename, got, len(data), a.SHA256, a.SizeBytes)
	}
	return nil
}

// sameFiles checks that the checksums file lists exactly the manifest's
// other assets.
func sameFiles(lines []checksum.Line, m *manifest.Manifest) error {
	want := map[string]bool{}
	for key, a := range m.Assets {
		if key != release.ChecksumsKey {
			want[a.Filename] = true
		}
	}
	var extra, missing []string
	got := map[string]bool{}
	for _, l := range lines {
		got[l.Name] = true
		if !want[l.Name] {
			extra = append(extra, l.Name)
		}
	}
	for name := range want {
		if !got[name] {
			missing = append(missing, name)
		}
	}
	slices.Sort(extra)
	slices.Sort(missing)
	switch {
	case len(extra) > 0 && len(missing) > 0:
		return fmt.Errorf("lists %s not in the manifest, and lacks %s", strings.Join(extra, ", "), strings.Join(missing, ", "))
	case len(extra) > 0:
		return fmt.Errorf("lists %s not in the manifest", strings.Join(extra, ", "))
	case len(missing) > 0:
		return fmt.Errorf("lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

func cond(ok bool, format string, a ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, a...)
}

// WriteText writes the human report: one line per check, failures with
// their reason, then the totals.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "verify %s\n", r.ManifestURL)
	for _, ch := range r.Checks {
		if ch.OK {
			fmt.Fprintf(&b, "  PASS  %-18s %s\n", ch.Asset, ch.Check)
		} else {
			fmt.Fprintf(&b, "  FAIL  %-18s %s: %s\n", ch.Asset, ch.Check, ch.Reason)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "  WARN  %s\n", warn)
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", r.Passed, r.Failed)
	_, err := io.WriteString(w, b.String())
	return err
}
