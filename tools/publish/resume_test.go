package publish_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/relkit/relkit/tools/publish"
	"github.com/relkit/relkit/tools/publish/publishtest"
	"github.com/relkit/relkit/tools/sign"
	"github.com/relkit/relkit/tools/verify"
)

// keySigner signs with a key offline, through the same SignTree as the CLI.
// ECDSA signatures are randomized: like keyless signing, signing the same
// bytes twice gives different .sig and bundle bytes.
type keySigner struct{ s sign.Signer }

func (k keySigner) SignTree(ctx context.Context, dir string) error {
	_, err := sign.SignTree(ctx, dir, k.s, sign.TreeOptions{})
	return err
}

func newKeySigner(t *testing.T) (keySigner, *sign.Verifier) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key, sign.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := sign.NewVerifier(nil, sign.Policy{PublicKey: key.Public(), Unlogged: true})
	if err != nil {
		t.Fatal(err)
	}
	return keySigner{s}, v
}

// objects maps every key in the bucket to the sha256 of its bytes.
func objects(t *testing.T, c *s3.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, o := range out.Contents {
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, got.Body)
		got.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		sums[aws.ToString(o.Key)] = hex.EncodeToString(h.Sum(nil))
	}
	return sums
}

// TestPublishResumesWithoutTheWorkDirectory publishes, removes what a
// crash would not have uploaded yet, and publishes again from a fresh work
// directory (another machine): the signatures already published are kept,
// so the re-run completes without a conflict and the release verifies.
func TestPublishResumesWithoutTheWorkDirectory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dir := publishtest.Tree(t, org, repo, tag, e.base, "archive", 0)
	signer, v := newKeySigner(t)
	o := e.options(t, dir)
	o.Signer = signer
	if _, err := publish.Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	client := e.srv.Client(t)
	full := objects(t, client)

	// The state of a run killed after the archives' bundles went up but
	// before their .sig files, the checksums file and the manifest.
	d := "releases/" + org + "/" + repo + "/" + tag + "/"
	gone := []string{
		"baton-x-v1.2.3-linux-amd64.tar.gz.sig",
		"baton-x-v1.2.3-windows-amd64.zip.sig",
		"baton-x-v1.2.3-windows-amd64.zip.sigstore.json",
		"baton-x-v1.2.3-windows-amd64.zip.provenance.sigstore.json",
		"baton-x_1.2.3_checksums.txt",
		"baton-x_1.2.3_checksums.txt.sig",
		"manifest.json.sig",
		"manifest.json",
	}
	for _, name := range gone {
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(d + name)}); err != nil {
			t.Fatal(err)
		}
	}

	var log strings.Builder
	o = e.options(t, dir) // a new, empty work directory
	o.Signer, o.Log = signer, &log
	o.Verify = func(ctx context.Context, url string) error {
		rep, err := verify.Release(ctx, verify.Options{ManifestURL: url, Org: org, Repo: repo, Tag: tag, Verifier: v})
		if err == nil && !rep.OK() {
			var b strings.Builder
			rep.WriteText(&b)
			t.Errorf("verify after resuming:\n%s", b.String())
		}
		return err
	}
	rep, err := publish.Run(ctx, o)
	if err != nil {
		t.Fatalf("resume from a new work directory: %v\nlog:\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "fetched") {
		t.Errorf("no signatures fetched; log:\n%s", log.String())
	}
	for _, name := range gone {
		if !slices.Contains(rep.Uploaded, d+name) {
			t.Errorf("%s was not uploaded again; uploaded %v", name, rep.Uploaded)
		}
	}
	// The signatures of the first run stand: what is uploaded again is the
	// same bytes, derived from the bundles kept, except the zip's own
	// signature, whose bundle was lost too and which was made anew.
	after := objects(t, client)
	resigned := []string{d + "baton-x-v1.2.3-windows-amd64.zip.sig", d + "baton-x-v1.2.3-windows-amd64.zip.sigstore.json"}
	for key, sum := range full {
		if after[key] != sum && !slices.Contains(resigned, key) {
			t.Errorf("%s: sha256 %s after resuming, %s before", key, after[key], sum)
		}
	}
	if len(after) != len(full) {
		t.Errorf("%d objects after resuming, %d before", len(after), len(full))
	}
}
