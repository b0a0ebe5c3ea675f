package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestReferrersList(t *testing.T) {
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(referrers{inner})
	defer srv.Close()
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/acme/app")
	if err != nil {
		t.Fatal(err)
	}

	subject, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := subject.Digest()
	if err := remote.Write(repo.Tag("1"), subject); err != nil {
		t.Fatal(err)
	}
	desc, _ := remote.Head(repo.Digest(sd.String()))
	// Two referrers: one with an artifactType, one with only a config type.
	for _, artifactType := range []string{"application/vnd.example.bundle", ""} {
		m, _ := json.Marshal(v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.OCIManifestSchema1,
			ArtifactType:  artifactType,
			Config:        v1.Descriptor{MediaType: "application/vnd.example.config", Digest: sd, Size: 2},
			Layers:        []v1.Descriptor{},
			Subject:       &v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size},
		})
		h, _, _ := v1.SHA256(bytes.NewReader(m))
		if err := remote.Put(repo.Digest(h.String()), rawManifest(m)); err != nil {
			t.Fatal(err)
		}
	}

	idx, err := remote.Referrers(repo.Digest(sd.String()))
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	var kinds, digests []string
	for _, m := range im.Manifests {
		kinds = append(kinds, m.ArtifactType)
		digests = append(digests, m.Digest.String())
	}
	if !slices.IsSorted(digests) {
		t.Errorf("referrers not sorted by digest: %v", digests)
	}
	slices.Sort(kinds)
	if want := []string{"application/vnd.example.bundle", "application/vnd.example.config"}; !slices.Equal(kinds, want) {
		t.Errorf("artifact types %q, want %q", kinds, want)
	}

	resp, err := http.Get(srv.URL + "/v2/acme/app/referrers/" + sd.String() + "?artifactType=application/vnd.example.bundle")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("OCI-Filters-Applied") != "artifactType" || strings.Count(string(body), `"digest"`) != 1 {
		t.Errorf("filtered list (%s): %s", resp.Header.Get("OCI-Filters-Applied"), body)
	}
}

type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func TestReferrersPath(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/acme/app/referrers/sha256:abc": "acme/app sha256:abc",
		"/v2/referrers/referrers/x":         "referrers x",
		"/v2/acme/app/manifests/1":          "",
		"/v2/referrers/x":                   "",
	} {
		repo, d, ok := referrersPath(path)
		got := ""
		if ok {
			got = repo + " " + d
		}
		if got != want {
			t.Errorf("referrersPath(%q) = %q, want %q", path, got, want)
		}
	}
}
