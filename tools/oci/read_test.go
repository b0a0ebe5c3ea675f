package oci

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

func TestAttachedAndResolve(t *testing.T) {
	for _, api := range []bool{true, false} {
		host := serve(t, registry.New(registry.WithReferrersSupport(api), quiet))
		repo := host + "/acme/baton-foo"
		idx, err := BuildIndex(testSpec(t, testCACert))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := idx.Digest()
		ctx := context.Background()
		if atts, err := Attached(ctx, repo, d.String()); err != nil || len(atts) != 0 {
			t.Fatalf("referrers API %v: before the push: %v, %v", api, atts, err)
		}
		if _, found, err := Resolve(ctx, repo, "1.2.3"); found || err != nil {
			t.Fatalf("referrers API %v: tag resolves before the push: %v", api, err)
		}
		var atts []Attestation
		for _, pt := range []string{"https://slsa.dev/provenance/v1", SignPredicate} {
			a, err := ParseAttestation(testBundle(t, pt, d))
			if err != nil {
				t.Fatal(err)
			}
			atts = append(atts, a)
		}
		if _, err := Push(ctx, Artifact{Index: idx}, repo, "1.2.3", atts); err != nil {
			t.Fatal(err)
		}
		got, err := Attached(ctx, repo, d.String())
		if err != nil || len(got) != 2 {
			t.Fatalf("referrers API %v: attached %d, %v; want 2", api, len(got), err)
		}
		for i, a := range got {
			if !a.About(d) || string(a.Bundle) != string(atts[0].Bundle) && string(a.Bundle) != string(atts[1].Bundle) {
				t.Errorf("referrers API %v: attestation %d is not one pushed: %s", api, i, a.PredicateType)
			}
		}
		if digest, found, err := Resolve(ctx, repo, "1.2.3"); !found || err != nil || digest != d.String() {
			t.Errorf("referrers API %v: 1.2.3 resolves to %s, %v, %v", api, digest, found, err)
		}
		if ok, err := Exists(ctx, repo, d.String()); !ok || err != nil {
			t.Errorf("referrers API %v: Exists = %v, %v", api, ok, err)
		}
	}
}
