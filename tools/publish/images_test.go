package publish_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-containerregistry/pkg/name"
	ociregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/publish"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/sign"
	"github.com/relkit/relkit/tools/verify"
)

func (k keySigner) SignAttestations(ctx context.Context, dir string, atts []sign.Attestation) error {
	_, err := sign.SignAttestations(ctx, dir, k.s, atts, sign.TreeOptions{})
	return err
}

// newRegistry starts an in-process registry on loopback and returns its
// host:port.
func newRegistry(t *testing.T, referrersAPI bool) string {
	t.Helper()
	srv := httptest.NewServer(ociregistry.New(ociregistry.WithReferrersSupport(referrersAPI), ociregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// attached lists the predicate types of the bundles attached to an image.
func attached(t *testing.T, repo, digest string) []string {
	t.Helper()
	atts, err := oci.Attached(context.Background(), repo, digest)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, a := range atts {
		types = append(types, a.PredicateType)
	}
	return types
}

func digestOf(t *testing.T, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	return d.Digest.String()
}

// TestPublishImages publishes a tree with images to a registry with and
// without the referrers API: the manifest lists the images as pushed, each
// image has its provenance, SBOM and signature attached, the release
// verifies, and a resumed publish reuses the attached bundles.
func TestPublishImages(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "referrers API", false: "tag fallback"}[api], func(t *testing.T) {
			e := newEnv(t)
			host := newRegistry(t, api)
			ctx := context.Background()
			dir := publishtest.ImageTree(t, org, repo, tag, e.base, "archive")
			signer, v := newKeySigner(t)
			var logs strings.Builder
			opts := func() publish.Options {
				o := e.options(t, dir)
				o.Signer, o.Log = signer, &logs
				o.Images = imageRepositories(host)
				o.Verify = func(ctx context.Context, url string) error {
					rep, err := verify.Release(ctx, verify.Options{ManifestURL: url, Org: org, Repo: repo, Tag: tag, Verifier: v})
					if err == nil && !rep.OK() {
						var b strings.Builder
						rep.WriteText(&b)
						t.Errorf("verify:\n%s", b.String())
					}
					return err
				}
				return o
			}
			first := opts()
			rep, err := publish.Run(ctx, first)
			if err != nil {
				t.Fatalf("%v\nlog:\n%s", err, logs.String())
			}
			if len(rep.Images) != 2 {
				t.Fatalf("pushed %d images, want 2: %+v", len(rep.Images), rep.Images)
			}

			_, body := get(t, rep.ManifestURL)
			m, err := manifest.Read(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			index, lambda := m.Images["ecrPublic"], m.Images["lambda-arm64"]
			if !index.IsIndex || index.Ref != host+"/acme/"+repo+":1.2.3" || index.Tag != "1.2.3" || index.URI != host+"/acme/"+repo+"@"+index.Digest {
				t.Errorf("images.ecrPublic = %+v", index)
			}
			if lambda.IsIndex || lambda.Ref != host+"/lambda/"+repo+":1.2.3-arm64" || lambda.Tag != "1.2.3-arm64" {
				t.Errorf("images.lambda-arm64 = %+v", lambda)
			}
			if m.ImageAttestation == nil || m.ImageAttestation.PredicateType != manifest.SLSAPredicate {
				t.Errorf("imageAttestation = %+v, want the SLSA summary", m.ImageAttestation)
			}
			for _, ref := range []string{index.Ref, host + "/acme/" + repo + ":latest"} {
				if got := digestOf(t, ref); got != index.Digest {
					t.Errorf("%s is %s, want %s", ref, got, index.Digest)
				}
			}
			if got := digestOf(t, lambda.Ref); got != lambda.Digest {
				t.Errorf("%s is %s, want %s", lambda.Ref, got, lambda.Digest)
			}
			// The Lambda image's SBOM is made from its own binary.
			sbom := statement(t, filepath.Join(first.WorkDir, "images", "lambda.sbom.sigstore.json"))
			if !strings.Contains(sbom, `"example.com/`+repo+`"`) || !strings.Contains(sbom, `"name":"`+host+"/lambda/"+repo+"@"+lambda.Digest+`"`) {
				t.Errorf("the Lambda image's SBOM does not describe its binary, named after the image:\n%s", sbom)
			}

			want := strings.Join([]string{manifest.SLSAPredicate, manifest.SPDXPredicate, oci.SignPredicate}, " ")
			before := map[string][]string{}
			for _, im := range []manifest.Image{index, lambda} {
				repo, _, _ := strings.Cut(im.URI, "@")
				got := attached(t, repo, im.Digest)
				if strings.Join(sorted(got), " ") != strings.Join(sorted(strings.Fields(want)), " ") {
					t.Errorf("%s: attached %v, want one each of %s", im.URI, got, want)
				}
				before[im.URI] = got
			}

			// A run killed before the manifest, on another machine: the
			// bundles attached in the registry are reused, not signed
			// again, so nothing new is attached.
			client := e.srv.Client(t)
			d := "releases/" + org + "/" + repo + "/" + tag + "/"
			for _, name := range []string{"manifest.json", "manifest.json.sig", "manifest.json.sigstore.json"} {
				if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(d + name)}); err != nil {
					t.Fatal(err)
				}
			}
			logs.Reset()
			if _, err := publish.Run(ctx, opts()); err != nil {
				t.Fatalf("resume: %v\nlog:\n%s", err, logs.String())
			}
			for _, im := range []manifest.Image{index, lambda} {
				repo, _, _ := strings.Cut(im.URI, "@")
				if got := attached(t, repo, im.Digest); len(got) != len(before[im.URI]) {
					t.Errorf("%s: %d bundles attached after resuming, %d before", im.URI, len(got), len(before[im.URI]))
				}
			}
			_, again := get(t, rep.ManifestURL)
			if again != body {
				t.Errorf("the resumed manifest differs:\n%s\nwas:\n%s", again, body)
			}
		})
	}
}

// imageRepositories are the index and Lambda repositories in host.
func imageRepositories(host string) publish.ImageOptions {
	return publish.ImageOptions{Repository: host + "/acme/" + repo, LambdaRepository: host + "/lambda/" + repo}
}

// imageOptions publish dir with a key signer and both image repositories.
func imageOptions(t *testing.T, e env, dir, host string) publish.Options {
	t.Helper()
	signer, _ := newKeySigner(t)
	o := e.options(t, dir)
	o.Signer = signer
	o.Images = imageRepositories(host)
	return o
}

// statement returns the in-toto statement of a DSSE bundle file.
func statement(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSEEnvelope struct{ Payload []byte } `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b.DSSEEnvelope.Payload)
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestPublishImagesNeedsEveryRepository refuses a tree whose Lambda image
// has nowhere to go, before anything is uploaded.
func TestPublishImagesNeedsEveryRepository(t *testing.T) {
	e := newEnv(t)
	host := newRegistry(t, true)
	dir := publishtest.ImageTree(t, org, repo, tag, e.base, "archive")
	signer, _ := newKeySigner(t)
	o := e.options(t, dir)
	o.Signer = signer
	o.Images = publish.ImageOptions{Repository: host + "/acme/" + repo}
	rep, err := publish.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "prepare images") || !strings.Contains(err.Error(), "Lambda image repository") {
		t.Fatalf("err = %v, want a prepare images error naming the Lambda image repository", err)
	}
	if len(rep.Uploaded) > 0 {
		t.Errorf("uploaded %v", rep.Uploaded)
	}
}

// TestPublishImagesRefusesAChangedLayout refuses images whose layout no
// longer matches images.json.
func TestPublishImagesRefusesAChangedLayout(t *testing.T) {
	e := newEnv(t)
	host := newRegistry(t, true)
	dir := publishtest.ImageTree(t, org, repo, tag, e.base, "archive")
	other := publishtest.ImageTree(t, org, repo, tag, e.base, "other")
	p := filepath.Join(dir, "images", "images.json")
	data, err := os.ReadFile(filepath.Join(other, "images", "images.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	o := imageOptions(t, e, dir, host)
	_, err = publish.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "rebuild it") {
		t.Fatalf("err = %v, want the layout mismatch", err)
	}
}

// TestPublishImagesNeedsTheLambdaSBOM refuses a tree whose Lambda image has
// no SBOM (one built before relkit image build wrote it), before uploading.
func TestPublishImagesNeedsTheLambdaSBOM(t *testing.T) {
	e := newEnv(t)
	host := newRegistry(t, true)
	dir := publishtest.ImageTree(t, org, repo, tag, e.base, "archive")
	if err := os.Remove(filepath.Join(dir, "images", "lambda.sbom.json")); err != nil {
		t.Fatal(err)
	}
	o := imageOptions(t, e, dir, host)
	rep, err := publish.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "the tree has no images/lambda.sbom.json") {
		t.Fatalf("err = %v, want the missing Lambda SBOM named", err)
	}
	if len(rep.Uploaded) > 0 {
		t.Errorf("uploaded %v", rep.Uploaded)
	}
}

// TestPublishImagesNeverReplacesATag refuses to move VER to other images,
// before anything is uploaded.
func TestPublishImagesNeverReplacesATag(t *testing.T) {
	e := newEnv(t)
	host := newRegistry(t, false)
	dir := publishtest.ImageTree(t, org, repo, tag, e.base, "archive")
	other, err := oci.ReadLayout(filepath.Join(publishtest.ImageTree(t, org, repo, tag, e.base, "other"), "images", "image"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Push(context.Background(), other, host+"/acme/"+repo, "1.2.3", nil); err != nil {
		t.Fatal(err)
	}
	o := imageOptions(t, e, dir, host)
	rep, err := publish.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "never replaced") || !strings.Contains(err.Error(), ":1.2.3") {
		t.Fatalf("err = %v, want a refusal to move the tag", err)
	}
	if len(rep.Uploaded) > 0 {
		t.Errorf("uploaded %v", rep.Uploaded)
	}
}

// TestPublishImagesNeedsSigning refuses a tree used as signed whose
// manifest does not list the images: adding them would break its signature.
func TestPublishImagesNeedsSigning(t *testing.T) {
	e := newEnv(t)
	host := newRegistry(t, true)
	o := e.options(t, publishtest.ImageTree(t, org, repo, tag, e.base, "archive"))
	o.Signer = nil
	o.Images = imageRepositories(host)
	_, err := publish.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "used as signed") {
		t.Fatalf("err = %v, want the signing requirement", err)
	}
}

// TestPublishWithoutImageRepositories publishes the files alone and says
// the images were left out.
func TestPublishWithoutImageRepositories(t *testing.T) {
	e := newEnv(t)
	signer, _ := newKeySigner(t)
	var logs strings.Builder
	o := e.options(t, publishtest.ImageTree(t, org, repo, tag, e.base, "archive"))
	o.Signer, o.Log = signer, &logs
	rep, err := publish.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "not publishing the tree's container images") || len(rep.Images) != 0 {
		t.Errorf("images %v; log:\n%s", rep.Images, logs.String())
	}
}
