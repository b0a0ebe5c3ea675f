package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sbom"
	"github.com/relkit/relkit/tools/sign"
)

// The container images of a release tree, as 'relkit image build' and the
// oci_image_attested rule write them: OCI layouts under images/.
const (
	imagesDir       = "images"
	imageLayout     = "image"  // the multi-platform index
	lambdaLayout    = "lambda" // the single-platform Lambda image
	imageSummary    = "images.json"
	imageKey        = "ecrPublic"    // manifest images key of the index
	lambdaKey       = "lambda-arm64" // manifest images key of the Lambda image
	lambdaTagSuffix = "-arm64"
)

// Bundle suffixes of an image's attestations in the work directory's
// images/, after the layout name (e.g. image.provenance.sigstore.json).
const (
	imageProvenanceSuffix = release.ProvenanceSuffix
	imageSBOMSuffix       = release.SBOMBundleSuffix
	imageSignatureSuffix  = ".signature" + bundleSuffix
)

// ImageOptions configure pushing the tree's container images. Images are
// pushed only when a repository is set; then the tree's every image needs
// one.
type ImageOptions struct {
	// Repository is REGISTRY/REPOSITORY of the multi-platform index, e.g.
	// public.ecr.aws/conductorone/baton-foo. It is tagged VER, and latest
	// when VER is the newest final release.
	Repository string
	// LambdaRepository is REGISTRY/REPOSITORY of the Lambda image, e.g.
	// 123456789012.dkr.ecr.us-west-2.amazonaws.com/baton-foo. It is tagged
	// VER-arm64.
	LambdaRepository string
	// Keychain finds registry credentials; nil means authn.DefaultKeychain
	// (the Docker config). Loopback registries are spoken to over HTTP.
	Keychain authn.Keychain
}

// AttestationSigner is a Signer that also signs in-toto statements, as the
// release's container images need (see sign.SignAttestations).
type AttestationSigner interface {
	Signer
	SignAttestations(ctx context.Context, dir string, atts []sign.Attestation) error
}

// treeImage is one image of the tree and where it goes.
type treeImage struct {
	key, layout string
	repo, tag   string
	artifact    oci.Artifact
	digest      string // sha256:<hex>
	platforms   []string
	atts        []sign.Attestation
}

func (im *treeImage) manifestImage() manifest.Image {
	return manifest.Image{
		Ref: im.repo + ":" + im.tag, Digest: im.digest, Tag: im.tag,
		URI: im.repo + "@" + im.digest, IsIndex: im.artifact.Index != nil,
	}
}

func (r *run) registryOptions() []remote.Option {
	kc := r.Images.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithUserAgent("relkit")}
}

// prepareImages reads the tree's images, adds them to the staged
// manifest.json (so that the manifest is signed with them) and prepares
// the statements the sign step signs: SLSA provenance, the SPDX SBOM and the
// cosign signature of each image. Bundles an earlier attempt attached in
// the registry are offered for reuse.
func (r *run) prepareImages(ctx context.Context) error {
	r.images = nil
	src := filepath.Join(r.Dir, imagesDir)
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		if r.Images.Repository != "" || r.Images.LambdaRepository != "" {
			r.logf("warning: the tree has no %s/: no image to push", imagesDir)
		}
		return nil
	}
	if r.Images.Repository == "" && r.Images.LambdaRepository == "" {
		r.logf("warning: not publishing the tree's container images: no image repository is configured")
		return nil
	}
	images, err := r.readImages(src)
	if err != nil {
		return err
	}
	work := filepath.Join(r.stage, imagesDir)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if err := r.addImages(images); err != nil {
		return err
	}
	for _, im := range images {
		// Like the files, a published image is never replaced.
		got, found, err := oci.Resolve(ctx, im.repo, im.tag, r.registryOptions()...)
		if err != nil {
			return err
		}
		if found && got != im.digest {
			return fmt.Errorf("%s:%s is %s, not this release's %s: a published image is never replaced; rebuild from the tag's commit, or remove the tag by hand if it is wrong", im.repo, im.tag, got, im.digest)
		}
		if im.atts, err = r.imageStatements(ctx, im); err != nil {
			return fmt.Errorf("images[%q] (%s): %w", im.key, im.digest, err)
		}
		if r.Signer == nil {
			// A tree used as signed carries its bundles in images/.
			for _, a := range im.atts {
				if data, err := os.ReadFile(filepath.Join(src, a.File)); err == nil {
					if err := writeFile(filepath.Join(work, a.File), data); err != nil {
						return err
					}
				}
			}
		}
		r.logf("image %s: %s@%s", im.key, im.repo, im.digest)
	}
	r.images = images
	return nil
}

// readImages reads the OCI layouts under src and checks them against
// images.json.
func (r *run) readImages(src string) ([]*treeImage, error) {
	var summary map[string]oci.Summary
	if data, err := os.ReadFile(filepath.Join(src, imageSummary)); err != nil {
		return nil, fmt.Errorf("%s: %w (is %s the tree 'bazel build //:release' wrote?)", imagesDir, err, r.Dir)
	} else if err := json.Unmarshal(data, &summary); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(src, imageSummary), err)
	}
	var images []*treeImage
	for _, im := range []*treeImage{
		{key: imageKey, layout: imageLayout, repo: r.Images.Repository, tag: r.tag.Version()},
		{key: lambdaKey, layout: lambdaLayout, repo: r.Images.LambdaRepository, tag: r.tag.Version() + lambdaTagSuffix},
	} {
		dir := filepath.Join(src, im.layout)
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if im.repo == "" {
			flag := map[string]string{imageLayout: "image repository", lambdaLayout: "Lambda image repository"}[im.layout]
			return nil, fmt.Errorf("the tree has the %s image %s but no %s is configured: give one, or publish without images", im.layout, dir, flag)
		}
		a, err := oci.ReadLayout(dir)
		if err != nil {
			return nil, err
		}
		s, err := oci.Summarize(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if want := summary[im.layout].Digest; want != s.Digest {
			return nil, fmt.Errorf("%s holds %s, %s says %q: the tree changed after it was built; rebuild it", dir, s.Digest, imageSummary, want)
		}
		im.artifact, im.digest = a, s.Digest
		for p := range s.Platforms {
			im.platforms = append(im.platforms, p)
		}
		slices.Sort(im.platforms)
		images = append(images, im)
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("%s holds neither %s/ nor %s/", src, imageLayout, lambdaLayout)
	}
	return images, nil
}

// addImages adds the images to the staged manifest.json. A manifest that
// already lists them (a re-run, or a tree signed before) is left as is.
func (r *run) addImages(images []*treeImage) error {
	p := filepath.Join(r.stage, ManifestFile)
	m, err := readManifest(p)
	if err != nil {
		return err
	}
	frag := &manifest.Manifest{Images: map[string]manifest.Image{}}
	same := true
	for _, im := range images {
		frag.Images[im.key] = im.manifestImage()
		same = same && m.Images[im.key] == frag.Images[im.key]
	}
	if same {
		return nil
	}
	if r.Signer == nil {
		return fmt.Errorf("%s does not list the images as they are pushed, and the tree is used as signed: sign it while publishing (keyless or key)", ManifestFile)
	}
	merged, err := manifest.Merge(manifest.Input{Source: p, Manifest: m}, manifest.Input{Source: "the images to push", Manifest: frag})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := manifest.Write(&buf, merged); err != nil {
		return err
	}
	return writeFile(p, buf.Bytes())
}

// imageStatements returns the statements about im to sign, with the bundles
// already attached to it in the registry offered for reuse.
func (r *run) imageStatements(ctx context.Context, im *treeImage) ([]sign.Attestation, error) {
	prov, err := os.ReadFile(filepath.Join(r.stage, sign.StatementFile))
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	sbomName, sbomDoc, err := r.imageSBOM(im)
	if err != nil {
		return nil, err
	}
	atts, err := imageAttestations(im.layout, im.repo, im.digest, prov, sbomName, sbomDoc)
	if err != nil {
		return nil, err
	}
	attached, err := oci.Attached(ctx, im.repo, im.digest, r.registryOptions()...)
	if err != nil {
		return nil, err
	}
	for i := range atts {
		for _, a := range attached {
			if a.PredicateType == atts[i].PredicateType {
				atts[i].Reuse = append(atts[i].Reuse, a.Bundle)
			}
		}
	}
	return atts, nil
}

// imageAttestations returns the statements to sign about the image digest
// in repo, with bundle files named after layout: SLSA provenance with the
// predicate of the tree's statement (the same build made the image), the
// SPDX document sbomDoc (from sbomName) renamed after the image, and the
// signature as cosign makes it.
func imageAttestations(layout, repo, digest string, provenance []byte, sbomName string, sbomDoc []byte) ([]sign.Attestation, error) {
	hexDigest := strings.TrimPrefix(digest, "sha256:")
	var prov struct {
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(provenance, &prov); err != nil || prov.PredicateType != manifest.SLSAPredicate || len(prov.Predicate) == 0 || prov.Predicate[0] != '{' {
		return nil, fmt.Errorf("%s: want an in-toto statement with a %s predicate", sign.StatementFile, manifest.SLSAPredicate)
	}
	doc, err := renameSBOM(sbomDoc, repo+"@"+digest, sbom.NamespacePrefix+url.PathEscape(repo)+"-sha256-"+hexDigest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sbomName, err)
	}
	named := subjectJSON{Name: repo, Digest: map[string]string{"sha256": hexDigest}}
	return []sign.Attestation{
		{File: layout + imageProvenanceSuffix, SHA256: hexDigest, PredicateType: manifest.SLSAPredicate, Statement: statementJSON(named, manifest.SLSAPredicate, prov.Predicate)},
		{File: layout + imageSBOMSuffix, SHA256: hexDigest, PredicateType: manifest.SPDXPredicate, Statement: statementJSON(named, manifest.SPDXPredicate, doc)},
		// As cosign signs an image: the subject is the digest alone.
		{File: layout + imageSignatureSuffix, SHA256: hexDigest, PredicateType: oci.SignPredicate, Statement: statementJSON(subjectJSON{Digest: named.Digest}, oci.SignPredicate, json.RawMessage("{}"))},
	}, nil
}

// imageSBOM returns the SPDX document of the binary in im, and where it
// came from. The index holds the Linux archives' binaries (one build), so
// the SBOM of the archive of its first platform serves; the Lambda image's
// binary is a build of its own (with the baton_lambda_support tag), so the
// build writes its SBOM beside its layout (images/lambda.sbom.json). The
// images add no other software, only the base's files.
func (r *run) imageSBOM(im *treeImage) (name string, doc []byte, err error) {
	if im.layout == lambdaLayout {
		name = lambdaLayout + release.SBOMSuffix
		doc, err = os.ReadFile(filepath.Join(r.Dir, imagesDir, name))
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("the tree has no %s/%s, the SBOM of the Lambda image's binary: rebuild the tree with this relkit (relkit image build writes it)", imagesDir, name)
		}
		return name, doc, err
	}
	var tried []string
	for _, p := range im.platforms {
		goos, arch, _ := strings.Cut(p, "/")
		name = release.ArchiveName(r.Repo, r.tag, release.Platform{OS: goos, Arch: arch}) + release.SBOMSuffix
		doc, err = os.ReadFile(filepath.Join(r.stage, name))
		if errors.Is(err, os.ErrNotExist) {
			tried = append(tried, name)
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return name, doc, nil
	}
	return "", nil, fmt.Errorf("no SBOM of the image's binary: the tree has none of %s", strings.Join(tried, ", "))
}

// renameSBOM sets an SPDX JSON document's name and namespace.
func renameSBOM(doc []byte, name, namespace string) ([]byte, error) {
	var d map[string]json.RawMessage
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("not an SPDX JSON document: %w", err)
	}
	var version string
	if err := json.Unmarshal(d["spdxVersion"], &version); err != nil || !strings.HasPrefix(version, "SPDX-") {
		return nil, errors.New("not an SPDX JSON document: no spdxVersion")
	}
	// JSON would replace invalid bytes silently; image refs are ASCII.
	if !utf8.ValidString(name) || !utf8.ValidString(namespace) {
		return nil, fmt.Errorf("SBOM name %q or namespace %q is not valid UTF-8", name, namespace)
	}
	d["name"], _ = json.Marshal(name)
	d["documentNamespace"], _ = json.Marshal(namespace)
	return encodeJSON(d), nil
}

type subjectJSON struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// statementJSON is an in-toto Statement v1 with one subject, compact.
func statementJSON(s subjectJSON, predicateType string, predicate json.RawMessage) []byte {
	return encodeJSON(struct {
		Type          string          `json:"_type"`
		Subject       []subjectJSON   `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}{manifest.StatementType, []subjectJSON{s}, predicateType, predicate})
}

// encodeJSON writes v compactly without HTML escaping. The values encoded
// here always encode.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// signImages signs the images' statements into the work directory's
// images/, as part of the sign step.
func (r *run) signImages(ctx context.Context) error {
	var atts []sign.Attestation
	for _, im := range r.images {
		atts = append(atts, im.atts...)
	}
	if len(atts) == 0 {
		return nil
	}
	s, ok := r.Signer.(AttestationSigner)
	if !ok {
		return errors.New("the signer cannot sign image attestations")
	}
	return s.SignAttestations(ctx, filepath.Join(r.stage, imagesDir), atts)
}

// pushImages pushes each image under its tag with its attestations and
// signature as referrers, then moves latest when this release is the
// newest. Pushing what is already there changes nothing.
func (r *run) pushImages(ctx context.Context) error {
	opts := r.registryOptions()
	work := filepath.Join(r.stage, imagesDir)
	for _, im := range r.images {
		want := im.manifestImage()
		if got, ok := r.manifest.Images[im.key]; !ok || got != want {
			return fmt.Errorf("%s lists images[%q] as %+v, pushing %+v", ManifestFile, im.key, got, want)
		}
		var atts []oci.Attestation
		for _, a := range im.atts {
			data, err := os.ReadFile(filepath.Join(work, a.File))
			if err != nil {
				return fmt.Errorf("%w: was the tree signed?", err)
			}
			at, err := oci.ParseAttestation(data)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(work, a.File), err)
			}
			atts = append(atts, at)
		}
		p, err := oci.Push(ctx, im.artifact, im.repo, im.tag, atts, opts...)
		if err != nil {
			return err
		}
		r.report.Images = append(r.report.Images, p)
		r.logf("pushed %s (%s) with %d attestations", p.Ref, p.Digest, len(p.Referrers))
		if im.artifact.Index == nil {
			continue
		}
		current, found, err := oci.LatestVersion(ctx, im.repo, opts...)
		if err != nil {
			return err
		}
		move, why := oci.MoveLatest(r.tag, current, found)
		if !move {
			r.logf("left %s:%s alone: %s", im.repo, oci.LatestTag, why)
			continue
		}
		if err := oci.Tag(ctx, im.repo, p.Digest, oci.LatestTag, opts...); err != nil {
			return err
		}
		r.logf("tagged %s:%s: %s", im.repo, oci.LatestTag, why)
	}
	return nil
}
