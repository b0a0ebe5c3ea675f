// Package oci is the end-to-end test of 'relkit image build' and 'relkit
// image push' against the registries of testing/oci.sh: distribution
// (OCI_REGISTRY), which has no referrers API, so attestations take the
// sha256-<hex> tag fallback, and testing/ociregistry
// (OCI_REFERRERS_REGISTRY), which has it. Run it with tests/oci/run.sh;
// without RELKIT, OCI_REGISTRY and OCI_REFERRERS_REGISTRY it is skipped.
package oci

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/relkit/relkit/tools/manifest"
	toci "github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/publish/publishtest"
)

const binName = "baton-example"

type env struct {
	relkit, registry string
	dir              string // binaries and CA bundle
}

// registries are the registries of the stack, by whether they have the
// referrers API.
func registries(t *testing.T) map[string]string {
	t.Helper()
	r := map[string]string{"distribution": os.Getenv("OCI_REGISTRY"), "referrers-api": os.Getenv("OCI_REFERRERS_REGISTRY")}
	if os.Getenv("RELKIT") == "" || r["distribution"] == "" || r["referrers-api"] == "" {
		t.Skip("RELKIT, OCI_REGISTRY and OCI_REFERRERS_REGISTRY are not set: run tests/oci/run.sh")
	}
	return r
}

// setup prepares inputs for pushing to registry.
func setup(t *testing.T, registry string) env {
	t.Helper()
	e := env{relkit: os.Getenv("RELKIT"), registry: registry}
	if e.relkit == "" || e.registry == "" {
		t.Skip("RELKIT, OCI_REGISTRY and OCI_REFERRERS_REGISTRY are not set: run tests/oci/run.sh")
	}
	e.dir = t.TempDir()
	// The Lambda binary is a real Go program: image build writes its SBOM.
	lambda, err := os.ReadFile(publishtest.GoBinary(t, binName))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"amd64/" + binName:  "\x7fELF linux/amd64 " + binName,
		"arm64/" + binName:  "\x7fELF linux/arm64 " + binName,
		"lambda/" + binName: string(lambda),
	} {
		p := filepath.Join(e.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1800000000, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs relkit and returns stdout and stderr; it fails the test unless
// the exit status is want.
func (e env) run(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	return e.runEnv(t, nil, want, args...)
}

// runEnv is run with extra environment variables KEY=VALUE.
func (e env) runEnv(t *testing.T, environ []string, want int, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(e.relkit, args...)
	cmd.Env = append(os.Environ(), environ...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("relkit %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), code, want, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// build runs 'relkit image build' for tag into a fresh directory.
func (e env) build(t *testing.T, tag string) (string, map[string]toci.Summary) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "images")
	stdout, _ := e.run(t, 0, "image", "build", "--name", binName, "--tag", tag, "--created", "1700000000",
		"--revision", strings.Repeat("c", 40), "--source", "https://github.com/acme/"+binName,
		"--binary", "linux/amd64="+filepath.Join(e.dir, "amd64", binName),
		"--binary", "linux/arm64="+filepath.Join(e.dir, "arm64", binName),
		"--lambda-binary", filepath.Join(e.dir, "lambda", binName),
		"--ca-certs", filepath.Join(e.dir, "ca.crt"), "--out", out)
	var s map[string]toci.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("image build output: %v\n%s", err, stdout)
	}
	return out, s
}

// bundle writes an (unsigned) Sigstore bundle of a statement about d.
func bundle(t *testing.T, dir, predicateType string, d string) string {
	t.Helper()
	st, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "image", "digest": map[string]string{"sha256": strings.TrimPrefix(d, "sha256:")}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	b, _ := json.Marshal(map[string]any{
		"mediaType":    toci.BundleMediaType,
		"dsseEnvelope": map[string]any{"payload": base64.StdEncoding.EncodeToString(st), "payloadType": "application/vnd.in-toto+json", "signatures": []any{}},
	})
	p := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(predicateType+d)+".sigstore.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e env) push(t *testing.T, out, tag, repo string, atts ...string) map[string]manifest.Image {
	t.Helper()
	args := []string{"image", "push", "--from", out, "--tag", tag, "--repo", e.registry + "/" + repo, "--lambda-repo", e.registry + "/" + repo + "-lambda"}
	for _, a := range atts {
		args = append(args, "--attestation", a)
	}
	stdout, _ := e.run(t, 0, args...)
	frag, err := manifest.ReadFragment(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("fragment: %v\n%s", err, stdout)
	}
	return frag.Images
}

func latestDigest(t *testing.T, repo string) string {
	t.Helper()
	d, err := remote.Head(mustRef(t, repo+":latest"))
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest.String()
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildIsReproducible(t *testing.T) {
	e := setup(t, registries(t)["distribution"])
	outA, a := e.build(t, "v1.0.0")
	outB, b := e.build(t, "v1.0.0")
	if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
		t.Errorf("two builds differ:\n%s\n%s", ja, jb)
	}

	// The Lambda binary's SBOM lies beside its layout, the same each build:
	// named as the binary in the image, created at --created, with the tag.
	sbomA, errA := os.ReadFile(filepath.Join(outA, "lambda.sbom.json"))
	sbomB, errB := os.ReadFile(filepath.Join(outB, "lambda.sbom.json"))
	if errA != nil || errB != nil {
		t.Fatalf("lambda.sbom.json: %v, %v", errA, errB)
	}
	if !bytes.Equal(sbomA, sbomB) {
		t.Error("the Lambda SBOMs of two builds differ")
	}
	var doc struct {
		SPDXVersion  string `json:"spdxVersion"`
		Name         string `json:"name"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
	}
	if err := json.Unmarshal(sbomA, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.Name != binName || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" ||
		!bytes.Contains(sbomA, []byte(`pkg:golang/example.com/`+binName+`@v1.0.0`)) {
		t.Errorf("lambda.sbom.json: %+v; want SPDX-2.3 named %s, created at --created, main module at v1.0.0", doc, binName)
	}
}

func TestPushPullAttestLatest(t *testing.T) {
	for kind, reg := range registries(t) {
		t.Run(kind, func(t *testing.T) { testPushPullAttestLatest(t, setup(t, reg), kind == "referrers-api") })
	}
}

func testPushPullAttestLatest(t *testing.T, e env, referrersAPI bool) {
	repo := "acme/" + binName
	full := e.registry + "/" + repo
	out, sums := e.build(t, "v1.1.0")
	idxDigest := sums["image"].Digest
	prov := bundle(t, e.dir, "https://slsa.dev/provenance/v1", idxDigest)
	sbom := bundle(t, e.dir, "https://spdx.dev/Document", idxDigest)

	images := e.push(t, out, "v1.1.0", repo, prov, sbom)
	pub, lambda := images["ecrPublic"], images["lambda-arm64"]
	if pub.Digest != idxDigest || pub.Ref != full+":1.1.0" || pub.URI != full+"@"+idxDigest || !pub.IsIndex {
		t.Errorf("ecrPublic: %+v", pub)
	}
	if lambda.Digest != sums["lambda"].Digest || lambda.Tag != "1.1.0-arm64" || lambda.IsIndex {
		t.Errorf("lambda-arm64: %+v", lambda)
	}

	t.Run("index has both platforms with the binaries' bytes", func(t *testing.T) {
		idx, err := remote.Index(mustRef(t, pub.URI))
		if err != nil {
			t.Fatal(err)
		}
		im, _ := idx.IndexManifest()
		var plats []string
		for _, m := range im.Manifests {
			p := m.Platform.OS + "/" + m.Platform.Architecture
			plats = append(plats, p)
			img, err := idx.Image(m.Digest)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(filepath.Join(e.dir, m.Platform.Architecture, binName))
			if got := fileIn(t, img, binName); !bytes.Equal(got, want) {
				t.Errorf("%s: /%s is %q, want the input binary %q", p, binName, got, want)
			}
		}
		if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("platforms %v", plats)
		}
	})

	t.Run("lambda image is a Docker v2 manifest", func(t *testing.T) {
		desc, err := remote.Get(mustRef(t, lambda.Ref))
		if err != nil {
			t.Fatal(err)
		}
		if desc.MediaType != types.DockerManifestSchema2 {
			t.Errorf("media type %s, want %s", desc.MediaType, types.DockerManifestSchema2)
		}
		img, _ := desc.Image()
		cf, _ := img.ConfigFile()
		if !slices.Equal(cf.Config.Entrypoint, []string{"/" + binName, "lambda"}) || cf.Architecture != "arm64" {
			t.Errorf("entrypoint %q arch %s", cf.Config.Entrypoint, cf.Architecture)
		}
		want, _ := os.ReadFile(filepath.Join(e.dir, "lambda", binName))
		if got := fileIn(t, img, binName); !bytes.Equal(got, want) {
			t.Errorf("lambda binary %q, want %q", got, want)
		}
	})

	checkReferrers := func(t *testing.T) {
		t.Helper()
		d, _ := name.NewDigest(pub.URI)
		refs, err := remote.Referrers(d)
		if err != nil {
			t.Fatal(err)
		}
		im, _ := refs.IndexManifest()
		var preds []string
		for _, m := range im.Manifests {
			if m.ArtifactType != toci.BundleMediaType {
				t.Errorf("referrer artifactType %q", m.ArtifactType)
			}
			preds = append(preds, m.Annotations[toci.AnnotationPredicate])
		}
		slices.Sort(preds)
		if want := []string{"https://slsa.dev/provenance/v1", "https://spdx.dev/Document"}; !slices.Equal(preds, want) {
			t.Errorf("referrers %v, want %v", preds, want)
		}
		// With the API the registry lists them and there is no fallback
		// tag; without it (distribution) the fallback tag holds them.
		api, err := http.Get("http://" + e.registry + "/v2/" + repo + "/referrers/" + idxDigest)
		if err != nil {
			t.Fatal(err)
		}
		api.Body.Close()
		if got := api.StatusCode == http.StatusOK && api.Header.Get("Content-Type") == string(types.OCIImageIndex); got != referrersAPI {
			t.Errorf("referrers API answered %s (%s); want it served: %v", api.Status, api.Header.Get("Content-Type"), referrersAPI)
		}
		_, err = remote.Head(mustRef(t, full+":sha256-"+strings.TrimPrefix(idxDigest, "sha256:")))
		if referrersAPI && err == nil {
			t.Errorf("fallback tag written to a registry with the referrers API")
		}
		if !referrersAPI && err != nil {
			t.Errorf("fallback tag: %v", err)
		}
	}
	t.Run("attestations are referrers", checkReferrers)

	if got := latestDigest(t, full); got != idxDigest {
		t.Errorf("latest %s, want the first release %s", got, idxDigest)
	}

	t.Run("pushing again changes nothing", func(t *testing.T) {
		again := e.push(t, out, "v1.1.0", repo, prov, sbom)
		if mustJSON(t, again) != mustJSON(t, images) {
			t.Errorf("second push: %s\nfirst: %s", mustJSON(t, again), mustJSON(t, images))
		}
		checkReferrers(t)
	})

	for _, tc := range []struct {
		tag         string
		movesLatest bool
	}{
		{"v1.0.1", false},      // back-port
		{"v1.2.0-rc.1", false}, // pre-release
		{"v1.2.0", true},
	} {
		o, s := e.build(t, tc.tag)
		before := latestDigest(t, full)
		e.push(t, o, tc.tag, repo)
		after := latestDigest(t, full)
		if tc.movesLatest && after != s["image"].Digest {
			t.Errorf("%s: latest %s, want %s", tc.tag, after, s["image"].Digest)
		}
		if !tc.movesLatest && after != before {
			t.Errorf("%s moved latest from %s to %s", tc.tag, before, after)
		}
	}
}

func TestPushErrors(t *testing.T) {
	e := setup(t, registries(t)["distribution"])
	out, _ := e.build(t, "v1.0.0")

	t.Run("unreachable registry", func(t *testing.T) {
		addr := closedPort(t)
		_, stderr := e.run(t, 1, "image", "push", "--from", out, "--tag", "v1.0.0", "--repo", addr+"/acme/x", "--lambda-repo", addr+"/acme/x")
		if !strings.Contains(stderr, "push "+addr+"/acme/x:1.0.0") || !strings.Contains(stderr, "connection refused") {
			t.Errorf("stderr: %s", stderr)
		}
	})

	t.Run("image built for another version", func(t *testing.T) {
		_, stderr := e.run(t, 1, "image", "push", "--from", out, "--tag", "v2.0.0", "--repo", e.registry+"/acme/x", "--lambda-repo", e.registry+"/acme/x")
		if !strings.Contains(stderr, `was built for version "1.0.0", not 2.0.0`) {
			t.Errorf("stderr: %s", stderr)
		}
	})

	t.Run("bad credentials", func(t *testing.T) {
		reg := basicAuthRegistry(t, "ci", "right")
		push := func(want int, environ []string, auth ...string) string {
			t.Helper()
			args := append([]string{"image", "push", "--from", out, "--tag", "v1.0.0", "--repo", reg + "/acme/x", "--lambda-repo", reg + "/acme/x-lambda"}, auth...)
			_, stderr := e.runEnv(t, environ, want, args...)
			if strings.Contains(stderr, "wrong-password") {
				t.Errorf("stderr shows the password: %s", stderr)
			}
			return stderr
		}
		denied := func(stderr string) {
			t.Helper()
			if !strings.Contains(stderr, "push "+reg+"/acme/x:1.0.0: access denied (HTTP 401): check the registry credentials") {
				t.Errorf("stderr: %s", stderr)
			}
		}
		denied(push(1, nil))
		denied(push(1, []string{"RELKIT_IMAGE_PASSWORD=wrong-password"}, "--image-username", "ci"))
		denied(push(1, nil, "--image-auth-file", dockerConfig(t, reg, "ci", "wrong-password")))
		if stderr := push(2, []string{"RELKIT_IMAGE_PASSWORD="}, "--image-username", "ci"); !strings.Contains(stderr, "$RELKIT_IMAGE_PASSWORD is empty") {
			t.Errorf("empty password: %s", stderr)
		}
		if stderr := push(1, nil, "--image-auth-file", filepath.Join(e.dir, "ca.crt")); !strings.Contains(stderr, "registry auth file "+filepath.Join(e.dir, "ca.crt")+": not a Docker config.json") {
			t.Errorf("bad auth file: %s", stderr)
		}
		push(0, []string{"PUSH_PW=right"}, "--image-username", "ci", "--image-password-env", "PUSH_PW")
		push(0, nil, "--image-auth-file", dockerConfig(t, reg, "ci", "right"))
	})
}

func TestBuildErrors(t *testing.T) {
	e := setup(t, registries(t)["distribution"])
	build := func(args ...string) string {
		t.Helper()
		args = append([]string{"image", "build", "--name", binName, "--tag", "v1.0.0", "--created", "1700000000", "--out", t.TempDir()}, args...)
		_, stderr := e.run(t, 1, args...)
		return stderr
	}
	ca := filepath.Join(e.dir, "ca.crt")

	missing := filepath.Join(e.dir, "missing")
	if stderr := build("--binary", "linux/amd64="+missing, "--ca-certs", ca); !strings.Contains(stderr, "binary for linux/amd64: read "+missing) {
		t.Errorf("missing binary: %s", stderr)
	}
	if stderr := build("--lambda-binary", missing, "--ca-certs", ca); !strings.Contains(stderr, "lambda image: binary for linux/arm64: read "+missing) {
		t.Errorf("missing Lambda binary: %s", stderr)
	}

	// A base layout with only linux/amd64.
	baseOut := filepath.Join(t.TempDir(), "base")
	stdout, _ := e.run(t, 0, "image", "build", "--name", "base", "--tag", "v1.0.0", "--created", "1700000000",
		"--binary", "linux/amd64="+filepath.Join(e.dir, "amd64", binName), "--ca-certs", ca, "--out", baseOut)
	var s map[string]toci.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(baseOut, "image") + "@" + s["image"].Digest
	if stderr := build("--binary", "linux/arm64="+filepath.Join(e.dir, "arm64", binName), "--base", base); !strings.Contains(stderr, "no image for linux/arm64 in "+base+" (found: linux/amd64)") {
		t.Errorf("base without arm64: %s", stderr)
	}
	if stderr := build("--lambda-binary", filepath.Join(e.dir, "lambda", binName), "--lambda-base", base); !strings.Contains(stderr, "lambda image: base: no image for linux/arm64") {
		t.Errorf("Lambda base without arm64: %s", stderr)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// basicAuthRegistry serves a registry on loopback that accepts only
// user:password and returns its host:port.
func basicAuthRegistry(t *testing.T, user, password string) string {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="relkit-test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// dockerConfig writes a Docker config.json with credentials for host.
func dockerConfig(t *testing.T, host, user, password string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	if err := os.WriteFile(p, []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileIn(t *testing.T, img v1.Image, name string) []byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("/%s not in the image", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
