package oci

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/release"
)

// testBundle returns a Sigstore bundle shaped like a real one, with an
// unsigned statement about subject (pushing does not verify signatures).
func testBundle(t testing.TB, predicateType string, subject v1.Hash) []byte {
	t.Helper()
	st, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "img", "digest": map[string]string{"sha256": subject.Hex}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	b, _ := json.Marshal(map[string]any{
		"mediaType": BundleMediaType,
		"dsseEnvelope": map[string]any{
			"payload":     base64.StdEncoding.EncodeToString(st),
			"payloadType": "application/vnd.in-toto+json",
			"signatures":  []any{map[string]string{"sig": "AA=="}},
		},
	})
	return b
}

// quiet keeps the in-process registry's request log out of test output.
var quiet = registry.Logger(log.New(io.Discard, "", 0))

// serve starts a registry on loopback and returns its host:port.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPushWithReferrersAPI(t *testing.T) {
	host := serve(t, registry.New(registry.WithReferrersSupport(true), quiet))
	repo := host + "/acme/baton-foo"
	idx, err := BuildIndex(testSpec(t, testCACert))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	var atts []Attestation
	for _, pt := range []string{"https://slsa.dev/provenance/v1", "https://spdx.dev/Document"} {
		a, err := ParseAttestation(testBundle(t, pt, d))
		if err != nil {
			t.Fatal(err)
		}
		atts = append(atts, a)
	}

	var first Pushed
	for i := range 2 { // the second push must change nothing
		p, err := Push(context.Background(), Artifact{Index: idx}, repo, "1.2.3", atts)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = p
		} else if fmt.Sprint(p) != fmt.Sprint(first) {
			t.Errorf("second push: %+v, first %+v", p, first)
		}
	}
	if want := repo + "@" + d.String(); first.URI != want || first.Ref != repo+":1.2.3" || !first.IsIndex {
		t.Errorf("pushed %+v", first)
	}

	ref, _ := name.NewDigest(first.URI)
	refs, err := remote.Referrers(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := refs.IndexManifest()
	var preds []string
	for _, m := range im.Manifests {
		preds = append(preds, m.Annotations[AnnotationPredicate])
	}
	if len(preds) != 2 || !strings.Contains(strings.Join(preds, " "), "https://spdx.dev/Document") {
		t.Errorf("referrers have predicate types %q, want provenance and SPDX once each", preds)
	}

	// The referrer manifest is cosign's shape.
	rd, _ := name.NewDigest(repo + "@" + first.Referrers[0])
	desc, err := remote.Get(rd)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != BundleMediaType || m.Config.MediaType != EmptyMediaType || len(m.Layers) != 1 ||
		string(m.Layers[0].MediaType) != BundleMediaType || m.Subject == nil || m.Subject.Digest != d {
		t.Errorf("referrer manifest: %s", desc.Manifest)
	}
}

func TestPushRefusesAttestationOfAnotherImage(t *testing.T) {
	host := serve(t, registry.New(quiet))
	idx, err := BuildIndex(testSpec(t, testCACert))
	if err != nil {
		t.Fatal(err)
	}
	other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("1", 64)}
	a, err := ParseAttestation(testBundle(t, "https://slsa.dev/provenance/v1", other))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Push(context.Background(), Artifact{Index: idx}, host+"/r", "1.0.0", []Attestation{a})
	if err == nil || !strings.Contains(err.Error(), "not the image") {
		t.Errorf("got %v", err)
	}
}

func TestPushErrors(t *testing.T) {
	img, err := BuildImage(testSpec(t, testCACert), LinuxAMD64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("bad credentials", func(t *testing.T) {
		reg := registry.New(quiet)
		host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "right" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			reg.ServeHTTP(w, r)
		}))
		_, err := Push(ctx, Artifact{Image: img}, host+"/r", "1.0.0", nil, remote.WithAuth(&authn.Basic{Username: "ci", Password: "wrong"}))
		if err == nil || !strings.Contains(err.Error(), "check the registry credentials") {
			t.Errorf("wrong password: got %v", err)
		}
		if _, err := Push(ctx, Artifact{Image: img}, host+"/r", "1.0.0", nil, remote.WithAuth(&authn.Basic{Username: "ci", Password: "right"})); err != nil {
			t.Errorf("right password: %v", err)
		}
	})

	t.Run("unreachable registry", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, err = Push(ctx, Artifact{Image: img}, addr+"/r", "1.0.0", nil, remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
		if err == nil || !strings.Contains(err.Error(), "push "+addr+"/r:1.0.0") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("bad repository", func(t *testing.T) {
		_, err := Push(ctx, Artifact{Image: img}, "127.0.0.1:1/Upper", "1.0.0", nil)
		if err == nil || !strings.Contains(err.Error(), `repository "127.0.0.1:1/Upper"`) {
			t.Errorf("got %v", err)
		}
	})
}

func TestLatest(t *testing.T) {
	host := serve(t, registry.New(quiet))
	repo := host + "/acme/baton-foo"
	ctx := context.Background()
	if _, found, err := LatestVersion(ctx, repo); err != nil || found {
		t.Fatalf("empty repository: found %v, err %v", found, err)
	}
	spec := testSpec(t, testCACert)
	spec.Labels[LabelVersion] = "1.1.0"
	idx, err := BuildIndex(spec)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Push(ctx, Artifact{Index: idx}, repo, "1.1.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Tag(ctx, repo, p.Digest, LatestTag); err != nil {
		t.Fatal(err)
	}
	if v, found, err := LatestVersion(ctx, repo); err != nil || !found || v != "1.1.0" {
		t.Fatalf("latest: %q %v %v", v, found, err)
	}
}

func TestMoveLatest(t *testing.T) {
	for _, tc := range []struct {
		tag, current string
		found, want  bool
	}{
		{"v1.0.0", "", false, true},
		{"v1.2.0", "1.1.0", true, true},
		{"v1.1.0", "1.1.0", true, true},  // re-run
		{"v1.0.5", "1.1.0", true, false}, // back-port
		{"v2.0.0-rc.1", "1.1.0", true, false},
		{"v2.0.0-rc.1", "", false, false},
		{"v2.0.0", "2.0.0-rc.1", true, true},
		{"v2.0.0", "", true, false}, // latest without a version label
		{"v2.0.0", "main", true, false},
	} {
		tag, err := release.ParseTag(tc.tag)
		if err != nil {
			t.Fatal(err)
		}
		got, why := MoveLatest(tag, tc.current, tc.found)
		if got != tc.want || why == "" {
			t.Errorf("MoveLatest(%s, %q, %v) = %v (%s), want %v", tc.tag, tc.current, tc.found, got, why, tc.want)
		}
	}
}

func TestParseAttestationErrors(t *testing.T) {
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	good := string(testBundle(t, "https://slsa.dev/provenance/v1", d))
	for _, tc := range []struct{ in, want string }{
		{"{", "not a Sigstore bundle"},
		{`{"mediaType":"application/json"}`, "want a Sigstore bundle type"},
		{`{"mediaType":"` + BundleMediaType + `","messageSignature":{}}`, "no dsseEnvelope"},
		{strings.Replace(good, "application/vnd.in-toto+json", "text/plain", 1), "payloadType"},
	} {
		if _, err := ParseAttestation([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAttestation(%.40q): got %v, want %q", tc.in, err, tc.want)
		}
	}
	a, err := ParseAttestation([]byte(good))
	if err != nil || a.PredicateType != "https://slsa.dev/provenance/v1" || !a.About(d) {
		t.Errorf("good bundle: %+v %v", a, err)
	}
}

func FuzzParseAttestation(f *testing.F) {
	f.Add(testBundle(f, "https://slsa.dev/provenance/v1", v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30="}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAttestation(data)
		if err != nil {
			return
		}
		if a.PredicateType == "" || len(a.Subjects) == 0 {
			t.Errorf("accepted %q without predicate type or subject", data)
		}
		if _, err := a.referrer(v1.Descriptor{Digest: a.Subjects[0]}); err != nil {
			t.Errorf("referrer: %v", err)
		}
	})
}
