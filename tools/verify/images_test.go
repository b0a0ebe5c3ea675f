package verify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/sign"
	"github.com/relkit/relkit/tools/verify"
)

const (
	provenanceCheck = "attestation " + manifest.SLSAPredicate
	sbomCheck       = "attestation " + manifest.SPDXPredicate
)

// imageRelease says how newImageRelease attaches bundles to the images.
type imageRelease struct {
	referrersAPI bool
	// omit is a predicate type not attached to the index.
	omit string
	// other signs the index's bundles of this predicate type with another key.
	other string
}

// newImageRelease serves a signed release whose manifest lists an index
// and a Lambda image, pushed to an in-process registry with a provenance,
// an SBOM and a signature bundle each.
func newImageRelease(t *testing.T, ir imageRelease) *release {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(ir.referrersAPI), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sign.NewKeySigner(key, sign.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tree := func(url string) string { return publishtest.ImageTree(t, org, repo, tag, url, "archive") }
	return newReleaseWith(t, tree, func(dir string, s sign.Signer) {
		ctx := context.Background()
		frag := &manifest.Manifest{Images: map[string]manifest.Image{}}
		for _, im := range []struct{ key, layout, repo, tag string }{
			{"ecrPublic", "image", host + "/acme/" + repo, "1.2.3"},
			{"lambda-arm64", "lambda", host + "/lambda/" + repo, "1.2.3-arm64"},
		} {
			a, err := oci.ReadLayout(filepath.Join(dir, "images", im.layout))
			if err != nil {
				t.Fatal(err)
			}
			d, err := a.Digest()
			if err != nil {
				t.Fatal(err)
			}
			var atts []oci.Attestation
			for _, pt := range []string{manifest.SLSAPredicate, manifest.SPDXPredicate, oci.SignPredicate} {
				signer := s
				if im.key == "ecrPublic" {
					if pt == ir.omit {
						continue
					}
					if pt == ir.other {
						signer = other
					}
				}
				atts = append(atts, attest(t, signer, pt, d.Hex))
			}
			if _, err := oci.Push(ctx, a, im.repo, im.tag, atts); err != nil {
				t.Fatal(err)
			}
			frag.Images[im.key] = manifest.Image{Ref: im.repo + ":" + im.tag, Digest: d.String(), Tag: im.tag, URI: im.repo + "@" + d.String(), IsIndex: a.Index != nil}
		}
		p := filepath.Join(dir, "manifest.json")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Read(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		merged, err := manifest.Merge(manifest.Input{Source: p, Manifest: m}, manifest.Input{Source: "images", Manifest: frag})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := manifest.Write(&buf, merged); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	})
}

// attest signs a statement of predicateType about the digest.
func attest(t *testing.T, s sign.Signer, predicateType, hexDigest string) oci.Attestation {
	t.Helper()
	predicate := map[string]any{}
	if predicateType == manifest.SLSAPredicate {
		predicate["runDetails"] = map[string]any{"builder": map[string]string{"id": provenance.LocalBuilderID}}
	}
	st, err := json.Marshal(map[string]any{
		"_type":         manifest.StatementType,
		"subject":       []any{map[string]any{"digest": map[string]string{"sha256": hexDigest}}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := sign.SignAttestations(context.Background(), dir, s, []sign.Attestation{{File: "b.json", SHA256: hexDigest, PredicateType: predicateType, Statement: st}}, sign.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := oci.ParseAttestation(data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestImagesPass(t *testing.T) {
	for _, api := range []bool{true, false} {
		r := newImageRelease(t, imageRelease{referrersAPI: api})
		rep := r.verify(t, r.verifier)
		if !rep.OK() {
			t.Fatalf("referrers API %v: a good release:\n%s", api, text(rep))
		}
		for _, key := range []string{"ecrPublic", "lambda-arm64"} {
			for _, check := range []string{"in registry", "tag", provenanceCheck, sbomCheck, "signature"} {
				found := false
				for _, c := range rep.Checks {
					found = found || (c.Asset == key && c.Check == check && c.OK)
				}
				if !found {
					t.Errorf("referrers API %v: %s: %s did not pass:\n%s", api, key, check, text(rep))
				}
			}
		}
	}
}

func TestImageMissingAttestation(t *testing.T) {
	r := newImageRelease(t, imageRelease{omit: manifest.SPDXPredicate})
	rep := r.verify(t, r.verifier)
	if why := failed(t, rep, "ecrPublic", sbomCheck); !strings.Contains(why, "no "+manifest.SPDXPredicate+" bundle is attached") {
		t.Errorf("reason %q does not say the SBOM is missing", why)
	}
	if rep.Failed != 1 {
		t.Errorf("%d failures, want only the SBOM's:\n%s", rep.Failed, text(rep))
	}
}

func TestImageSignedByAnotherIdentity(t *testing.T) {
	for _, pt := range []string{manifest.SLSAPredicate, oci.SignPredicate} {
		r := newImageRelease(t, imageRelease{other: pt})
		rep := r.verify(t, r.verifier)
		check := map[string]string{manifest.SLSAPredicate: provenanceCheck, oci.SignPredicate: "signature"}[pt]
		if why := failed(t, rep, "ecrPublic", check); !strings.Contains(why, "verification failed") {
			t.Errorf("%s: reason %q is not a verification failure", check, why)
		}
		if rep.Failed != 1 {
			t.Errorf("%d failures, want one:\n%s", rep.Failed, text(rep))
		}
	}
}

func TestImageNotInRegistry(t *testing.T) {
	r := newImageRelease(t, imageRelease{referrersAPI: true})
	m := r.manifest(t)
	im := m.Images["lambda-arm64"]
	im.Digest = "sha256:" + strings.Repeat("0", 64)
	im.URI = strings.Split(im.URI, "@")[0] + "@" + im.Digest
	m.Images["lambda-arm64"] = im
	r.serveManifest(t, m)
	rep := r.verify(t, r.verifier)
	if why := failed(t, rep, "lambda-arm64", "in registry"); !strings.Contains(why, "is not in the registry") {
		t.Errorf("reason %q", why)
	}
	for _, c := range rep.Checks {
		if c.Asset == "lambda-arm64" && c.Check == "signature" {
			t.Errorf("bundles were checked for an image that is not there: %+v", c)
		}
	}
}

func TestImageTagMoved(t *testing.T) {
	r := newImageRelease(t, imageRelease{referrersAPI: true})
	im := r.manifest(t).Images["lambda-arm64"]
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(im.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	rep := r.verify(t, r.verifier)
	why := failed(t, rep, "lambda-arm64", "tag")
	if !strings.Contains(why, im.Ref+" has moved") || !strings.Contains(why, im.Digest) {
		t.Errorf("reason %q does not name the moved tag %s and the manifest's digest", why, im.Ref)
	}
	if rep.Failed != 1 {
		t.Errorf("%d failures, want only the tag's:\n%s", rep.Failed, text(rep))
	}
}

func TestImageTagOfAnotherVersion(t *testing.T) {
	r := newImageRelease(t, imageRelease{referrersAPI: true})
	m := r.manifest(t)
	im := m.Images["ecrPublic"]
	repo, _, _ := strings.Cut(im.URI, "@")
	im.Tag, im.Ref = "1.2.2", repo+":1.2.2"
	m.Images["ecrPublic"] = im
	r.serveManifest(t, m)
	rep := r.verify(t, r.verifier)
	if why := failed(t, rep, "ecrPublic", "tag"); !strings.Contains(why, `tag "1.2.2", want "1.2.3"`) {
		t.Errorf("reason %q", why)
	}
}

func TestImageProvenanceBuilder(t *testing.T) {
	r := newImageRelease(t, imageRelease{})
	rep := r.verifyWith(t, &verify.Builder{ID: provenance.LocalBuilderID})
	if !rep.OK() {
		t.Fatalf("the local builder, accepted by ID:\n%s", text(rep))
	}
	rep = r.verifyWith(t, &verify.Builder{Workflow: "relkit/relkit/.github/workflows/release.yaml", Ref: "refs/tags/v1.0.0"})
	for _, key := range []string{"ecrPublic", "lambda-arm64"} {
		if why := failed(t, rep, key, provenanceCheck); !strings.Contains(why, "built outside the release workflow") {
			t.Errorf("%s: reason %q does not say the image was built locally", key, why)
		}
	}
}
