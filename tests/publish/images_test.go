package publish_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/verify"
)

// The release the stack's test issuer mints tokens for, and the workflow
// identity Fulcio certifies (see testing/oidc-issuer).
const (
	e2eOrg      = "ConductorOne"
	e2eRepo     = "baton-example"
	e2eTag      = "v0.1.0"
	workflowRef = "refs/tags/v1.0.0"
	identity    = "https://github.com/relkit/relkit/.github/workflows/release.yaml@" + workflowRef
	// The test trees are built outside the release workflow: their
	// provenance names relkit's local builder, which verify accepts only
	// when told to.
	localBuilder = "--builder-id=" + provenance.LocalBuilderID
)

// stackEnv is what testing/stack exports: Sigstore, cosign, the S3 server
// and the OCI registries: distribution (no referrers API) and, when the
// stack has it, one with the referrers API.
type stackEnv map[string]string

func newStackEnv(t *testing.T) stackEnv {
	t.Helper()
	e := stackEnv{}
	for _, k := range []string{"SIGSTORE_TRUSTED_ROOT", "SIGSTORE_SIGNING_CONFIG", "SIGSTORE_OIDC_ISSUER", "COSIGN",
		"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "OCI_REGISTRY",
		"RELKIT_S3_ENDPOINT", "RELKIT_S3_REGION", "RELKIT_BUCKET", "RELKIT_BASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if e[k] = os.Getenv(k); e[k] == "" {
			t.Skipf("%s is not set: run tests/publish/images.sh (inside testing/stack)", k)
		}
	}
	return e
}

// publish runs 'relkit publish' of dir under prefix with keyless signing,
// pushing the images to registry, with only the environment it needs.
func (e stackEnv) publish(t *testing.T, dir, work, prefix, registry string) (string, error) {
	t.Helper()
	cmd := exec.Command(relkit, "publish", "--dir", dir, "--org", e2eOrg, "--repo", e2eRepo, "--tag", e2eTag,
		"--bucket", e["RELKIT_BUCKET"], "--base-url", e["RELKIT_BASE_URL"], "--prefix", prefix, "--s3-endpoint", e["RELKIT_S3_ENDPOINT"],
		"--s3-region", e["RELKIT_S3_REGION"], "--s3-path-style", "--work-dir", work,
		"--trusted-root", e["SIGSTORE_TRUSTED_ROOT"], "--signing-config", e["SIGSTORE_SIGNING_CONFIG"],
		"--certificate-oidc-issuer", e["SIGSTORE_OIDC_ISSUER"], "--workflow-ref", workflowRef, localBuilder,
		"--image-repository", registry+"/conductorone/"+e2eRepo, "--lambda-repository", registry+"/lambda/"+e2eRepo)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + e["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY=" + e["AWS_SECRET_ACCESS_KEY"],
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + e["ACTIONS_ID_TOKEN_REQUEST_URL"], "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + e["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// verify runs 'relkit verify --json' of the release under prefix with the
// identity flags given.
func (e stackEnv) verify(t *testing.T, prefix string, flags ...string) (*verify.Report, error) {
	t.Helper()
	args := append([]string{"verify", e2eOrg + "/" + e2eRepo, e2eTag, "--base-url", e["RELKIT_BASE_URL"], "--prefix", prefix, "--json",
		"--trusted-root", e["SIGSTORE_TRUSTED_ROOT"], "--certificate-oidc-issuer", e["SIGSTORE_OIDC_ISSUER"], localBuilder}, flags...)
	cmd := exec.Command(relkit, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var rep verify.Report
	if jerr := json.Unmarshal(stdout.Bytes(), &rep); jerr != nil {
		t.Fatalf("relkit verify: %v: %s%s", jerr, stdout.String(), stderr.String())
	}
	return &rep, err
}

// cosign runs the stack's cosign against an image with the exact identity.
func (e stackEnv) cosign(t *testing.T, args ...string) error {
	t.Helper()
	args = append(args, "--trusted-root", e["SIGSTORE_TRUSTED_ROOT"], "--allow-http-registry",
		"--certificate-identity", identity, "--certificate-oidc-issuer", e["SIGSTORE_OIDC_ISSUER"],
		"--certificate-github-workflow-repository", e2eOrg+"/"+e2eRepo, "--certificate-github-workflow-ref", "refs/tags/"+e2eTag)
	out, err := exec.Command(e["COSIGN"], args...).CombinedOutput()
	if err != nil {
		t.Logf("cosign %s:\n%s", strings.Join(args, " "), out)
	}
	return err
}

// imageChecks returns the image checks of a report, failed ones first.
func imageChecks(rep *verify.Report) (failed, passed []verify.Check) {
	for _, c := range rep.Checks {
		if c.Asset != "ecrPublic" && c.Asset != "lambda-arm64" {
			continue
		}
		if c.OK {
			passed = append(passed, c)
		} else {
			failed = append(failed, c)
		}
	}
	return failed, passed
}

// TestPublishImagesWithCosign publishes a release with an index and a
// Lambda image through the real stack (keyless signing, S3, each registry:
// the distribution registry with its referrers tag fallback, and one with
// the referrers API), then checks the images with cosign as the
// independent verifier and with relkit verify.
func TestPublishImagesWithCosign(t *testing.T) {
	e := newStackEnv(t)
	registries := map[string]string{"tag-fallback": e["OCI_REGISTRY"], "referrers-api": os.Getenv("OCI_REFERRERS_REGISTRY")}
	for prefix, registry := range registries {
		t.Run(prefix, func(t *testing.T) {
			if registry == "" {
				t.Skip("OCI_REFERRERS_REGISTRY is not set")
			}
			e.publishImages(t, prefix, registry)
		})
	}
}

// publishImages is TestPublishImagesWithCosign with one registry; the
// release goes under its own bucket prefix.
func (e stackEnv) publishImages(t *testing.T, prefix, registry string) {
	ctx := context.Background()
	base := e["RELKIT_BASE_URL"] + "/" + prefix
	dir := publishtest.ImageTree(t, e2eOrg, e2eRepo, e2eTag, base, "e2e images")
	work := filepath.Join(t.TempDir(), "work")
	if out, err := e.publish(t, dir, work, prefix, registry); err != nil {
		t.Fatalf("relkit publish: %v\n%s", err, out)
	}

	data, err := os.ReadFile(filepath.Join(work, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	index, lambda := m.Images["ecrPublic"], m.Images["lambda-arm64"]
	if !index.IsIndex || lambda.IsIndex || index.Tag != "0.1.0" || lambda.Tag != "0.1.0-arm64" {
		t.Fatalf("manifest images: %+v", m.Images)
	}

	t.Run("cosign verifies the attestations and the signature", func(t *testing.T) {
		for _, im := range []manifest.Image{index, lambda} {
			for _, args := range [][]string{
				{"verify-attestation", "--type", "slsaprovenance1"},
				{"verify-attestation", "--type", "spdxjson"},
				{"verify"},
			} {
				if err := e.cosign(t, append(args, im.URI)...); err != nil {
					t.Errorf("cosign %s %s: %v", strings.Join(args, " "), im.URI, err)
				}
			}
		}
		// The wrong identity is refused.
		err := exec.Command(e["COSIGN"], "verify", "--trusted-root", e["SIGSTORE_TRUSTED_ROOT"], "--allow-http-registry",
			"--certificate-identity", "https://github.com/relkit/relkit/.github/workflows/release.yaml@refs/heads/main",
			"--certificate-oidc-issuer", e["SIGSTORE_OIDC_ISSUER"], index.URI).Run()
		if err == nil {
			t.Error("cosign verify accepted another workflow identity")
		}
	})

	t.Run("relkit verify checks the images", func(t *testing.T) {
		rep, err := e.verify(t, prefix, "--workflow-ref", workflowRef)
		failed, passed := imageChecks(rep)
		if err != nil || len(failed) > 0 || len(passed) != 10 {
			t.Fatalf("relkit verify: %v; failed %+v; %d image checks passed, want 10", err, failed, len(passed))
		}
		rep, err = e.verify(t, prefix, "--workflow-ref", "refs/heads/main")
		failed, _ = imageChecks(rep)
		if err == nil || len(failed) != 6 {
			t.Errorf("another identity: %v; image checks failed: %+v, want the 6 bundle checks", err, failed)
		}
		// By default the provenance must name the release workflow.
		rep, err = e.verify(t, prefix, "--workflow-ref", workflowRef, "--builder-id=")
		failed, _ = imageChecks(rep)
		if err == nil || len(failed) != 2 {
			t.Fatalf("a local build: %v; image checks failed: %+v, want the 2 provenance checks", err, failed)
		}
		for _, c := range failed {
			if c.Check != "attestation "+manifest.SLSAPredicate || !strings.Contains(c.Reason, "built outside the release workflow") {
				t.Errorf("a local build: %+v", c)
			}
		}
	})

	t.Run("publishing again changes nothing", func(t *testing.T) {
		before := referrers(t, index.URI)
		out, err := e.publish(t, dir, filepath.Join(t.TempDir(), "work"), prefix, registry)
		if err != nil || !strings.Contains(out, "already published") {
			t.Fatalf("second publish: %v\n%s", err, out)
		}
		if after := referrers(t, index.URI); after != before {
			t.Errorf("referrers changed: %s, was %s", after, before)
		}
	})

	t.Run("a resumed publish reuses the attached bundles", func(t *testing.T) {
		before := referrers(t, index.URI) + " " + referrers(t, lambda.URI)
		c := s3.New(s3.Options{
			BaseEndpoint: aws.String(e["RELKIT_S3_ENDPOINT"]), UsePathStyle: true, Region: e["RELKIT_S3_REGION"],
			Credentials: credentials.NewStaticCredentialsProvider(e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], ""),
		})
		key := prefix + "/releases/" + e2eOrg + "/" + e2eRepo + "/" + e2eTag + "/manifest.json"
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e["RELKIT_BUCKET"]), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		out, err := e.publish(t, dir, filepath.Join(t.TempDir(), "work"), prefix, registry)
		if err != nil || !strings.Contains(out, "restored") {
			t.Fatalf("resumed publish: %v (want image bundles restored from the registry)\n%s", err, out)
		}
		if after := referrers(t, index.URI) + " " + referrers(t, lambda.URI); after != before {
			t.Errorf("referrers changed: %s, was %s", after, before)
		}
	})

	t.Run("relkit verify fails without the SBOM", func(t *testing.T) {
		repo, _, _ := strings.Cut(lambda.URI, "@")
		atts, err := oci.Attached(ctx, repo, lambda.Digest)
		if err != nil {
			t.Fatal(err)
		}
		deleted := false
		for _, d := range referrerDigests(t, lambda.URI) {
			for _, a := range atts {
				if a.PredicateType == manifest.SPDXPredicate && isReferrer(t, repo, d, a.Bundle) {
					ref, _ := name.NewDigest(repo + "@" + d)
					if err := remote.Delete(ref); err != nil {
						t.Fatal(err)
					}
					deleted = true
				}
			}
		}
		if !deleted {
			t.Fatal("no SBOM referrer to delete")
		}
		rep, err := e.verify(t, prefix, "--workflow-ref", workflowRef)
		failed, _ := imageChecks(rep)
		if err == nil || len(failed) != 1 || failed[0].Asset != "lambda-arm64" || !strings.Contains(failed[0].Reason, "no "+manifest.SPDXPredicate) {
			t.Errorf("verify after deleting the Lambda image's SBOM: %v; failed %+v", err, failed)
		}
	})
}

// referrers lists the referrer digests of an image, as one string.
func referrers(t *testing.T, uri string) string {
	t.Helper()
	return strings.Join(referrerDigests(t, uri), " ")
}

func referrerDigests(t *testing.T, uri string) []string {
	t.Helper()
	d, err := name.NewDigest(uri)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range im.Manifests {
		out = append(out, m.Digest.String())
	}
	return out
}

// isReferrer reports whether the referrer manifest d holds bundle.
func isReferrer(t *testing.T, repo, d string, bundle []byte) bool {
	t.Helper()
	ref, err := name.NewDigest(repo + "@" + d)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		return false
	}
	sum := sha256.Sum256(bundle)
	got, err := layers[0].Digest()
	return err == nil && got.Hex == hex.EncodeToString(sum[:])
}
