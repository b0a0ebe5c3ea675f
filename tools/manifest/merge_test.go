package manifest

import (
	"bytes"
	"context"
	"github.com/relkit/relkit/tools/testutil/golden"
	"reflect"
	"strings"
	"testing"
)

func fragment(t *testing.T, s string) *Manifest {
	t.Helper()
	m, err := ReadFragment(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const imagesJSON = `{"images":{
  "ecrPublic":{"ref":"public.ecr.aws/conductorone/baton-foo:1.2.3","digest":"sha256:` + "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd" + `",
    "tag":"1.2.3","uri":"public.ecr.aws/conductorone/baton-foo@sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd","isIndex":true},
  "lambda-arm64":{"ref":"123456789012.dkr.ecr.us-west-2.amazonaws.com/baton-foo:1.2.3-arm64","digest":"sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
    "tag":"1.2.3-arm64","uri":"123456789012.dkr.ecr.us-west-2.amazonaws.com/baton-foo@sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","isIndex":false}}}`

func builtManifest(t *testing.T) *Manifest {
	t.Helper()
	o := opts(tree(t))
	o.Platforms = nil
	m, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMergeImagesGolden(t *testing.T) {
	base := builtManifest(t)
	before := write(t, base)
	m, err := Merge(Input{"manifest.json", base}, Input{"images.json", fragment(t, imagesJSON)})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "merge-images", write(t, m))
	if m.ImageAttestation == nil || m.ImageAttestation.PredicateType != SLSAPredicate {
		t.Errorf("imageAttestation = %+v, want the SLSA summary for the index", m.ImageAttestation)
	}
	if !bytes.Equal(before, write(t, base)) {
		t.Error("Merge modified its base")
	}
}

func TestMergeWithoutIndexImageHasNoImageSummary(t *testing.T) {
	base := &Manifest{Version: "2"}
	frag := fragment(t, `{"images":{"lambda-arm64":{"ref":"r:1-arm64","digest":"sha256:`+hexD+`","isIndex":false}}}`)
	m, err := Merge(Input{"base", base}, Input{"lambda", frag})
	if err != nil {
		t.Fatal(err)
	}
	if m.ImageAttestation != nil || m.AssetAttestation != nil {
		t.Errorf("summaries = %+v, %+v; want none", m.ImageAttestation, m.AssetAttestation)
	}
}

func TestMergeSetsAssetSummaryFromFragment(t *testing.T) {
	base := &Manifest{Version: "2"}
	frag := fragment(t, `{"assets":{"windows-amd64":{"sha256":"`+hexA+`","sizeBytes":"1",
		"attestations":[{"attestationType":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","bundleHref":"https://x/a.zip.provenance.sigstore.json"}]}}}`)
	m, err := Merge(Input{"base", base}, Input{"windows", frag})
	if err != nil {
		t.Fatal(err)
	}
	if m.AssetAttestation == nil {
		t.Error("assetAttestation not set for an asset with attestations")
	}
}

func TestMergeIdenticalKeysAreFine(t *testing.T) {
	base := builtManifest(t)
	again := builtManifest(t) // a full manifest as a fragment
	images := fragment(t, imagesJSON)
	m, err := Merge(Input{"manifest.json", base}, Input{"copy.json", again}, Input{"images.json", images}, Input{"images-again.json", images})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Merge(Input{"manifest.json", base}, Input{"images.json", images})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, want) {
		t.Error("merging identical entries changed the result")
	}
}

func TestMergeConflicts(t *testing.T) {
	base := builtManifest(t)
	changed := fragment(t, `{"assets":{"linux-amd64":{"sha256":"`+hexA+`","sizeBytes":"1"}}}`)
	_, err := Merge(Input{"manifest.json", base}, Input{"windows.json", changed})
	if err == nil || !strings.Contains(err.Error(), `assets["linux-amd64"] differs between manifest.json and windows.json`) {
		t.Errorf("err = %v, want the key and both sources named", err)
	}

	img1 := fragment(t, `{"images":{"ecrPublic":{"ref":"r:1","digest":"sha256:`+hexD+`"}}}`)
	img2 := fragment(t, `{"images":{"ecrPublic":{"ref":"r:1","digest":"sha256:`+hexA+`"}}}`)
	_, err = Merge(Input{"manifest.json", base}, Input{"a.json", img1}, Input{"b.json", img2})
	if err == nil || !strings.Contains(err.Error(), `images["ecrPublic"] differs between a.json and b.json`) {
		t.Errorf("err = %v, want the conflict between the two fragments named", err)
	}

	other := fragment(t, `{"name":"baton-bar","semver":"v9.9.9"}`)
	_, err = Merge(Input{"manifest.json", base}, Input{"other.json", other})
	for _, want := range []string{`name is "baton-foo" in manifest.json but "baton-bar" in other.json`, `semver is "v1.2.3" in manifest.json but "v9.9.9" in other.json`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
}
