// Package sigstore is the end-to-end test of 'relkit sign' against the real
// Sigstore servers of testing/stack, with the real cosign CLI as the
// independent verifier and relkit's own verifier beside it. Run it with
// tests/sigstore/run.sh; without the stack's environment it is skipped.
package sigstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sign"
)

// The identity the test issuer puts in its tokens, as Fulcio certifies it
// (see testing/oidc-issuer).
const (
	workflowIdentity = "https://github.com/relkit/relkit/.github/workflows/release.yaml@refs/tags/v1.0.0"
	identityRegexp   = `^https://github\.com/relkit/relkit/\.github/workflows/release\.yaml@.*$`
	sourceRepository = "ConductorOne/baton-example"
	sourceRef        = "refs/tags/v0.1.0"
)

// env is what testing/stack exports, plus the binary and tree under test.
type env struct {
	trustedRoot, signingConfig, issuer, cosign string
	requestURL, requestToken                   string
	relkit, tree                               string
}

func stackEnv(t *testing.T) env {
	t.Helper()
	e := env{
		trustedRoot:   os.Getenv("SIGSTORE_TRUSTED_ROOT"),
		signingConfig: os.Getenv("SIGSTORE_SIGNING_CONFIG"),
		issuer:        os.Getenv("SIGSTORE_OIDC_ISSUER"),
		cosign:        os.Getenv("COSIGN"),
		requestURL:    os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"),
		requestToken:  os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
		relkit:        os.Getenv("RELKIT"),
		tree:          os.Getenv("RELEASE_TREE"),
	}
	for name, v := range map[string]string{"SIGSTORE_TRUSTED_ROOT": e.trustedRoot, "COSIGN": e.cosign, "RELKIT": e.relkit, "RELEASE_TREE": e.tree} {
		if v == "" {
			t.Skipf("%s is not set: run tests/sigstore/run.sh", name)
		}
	}
	return e
}

// copyTree copies the unsigned release tree into a fresh directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// token asks the test issuer for a token, with query overrides such as
// ttl or audience.
func (e env) token(t *testing.T, query url.Values) string {
	t.Helper()
	u, err := url.Parse(e.requestURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("audience", sign.Audience)
	for k, v := range query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("Authorization", "Bearer "+e.requestToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Value == "" {
		t.Fatalf("token request: %s, %v", resp.Status, err)
	}
	return v.Value
}

func writeToken(t *testing.T, tok string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs a command and returns its combined output and error.
func run(t *testing.T, envv []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), envv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// relkitSign runs relkit sign against the local instance.
func (e env) relkitSign(t *testing.T, envv []string, args ...string) (string, error) {
	t.Helper()
	full := append([]string{"sign", "--trusted-root", e.trustedRoot, "--signing-config", e.signingConfig}, args...)
	return run(t, envv, e.relkit, full...)
}

// noSecrets fails if output contains any of the secrets.
func noSecrets(t *testing.T, output string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(output, s) {
			t.Errorf("output reveals a secret:\n%s", output)
		}
	}
}

// artifacts lists the files of the tree that get signed.
func artifacts(t *testing.T, dir string) (archives []string, checksums string) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, "*_checksums.txt"))
	if len(matches) != 1 {
		t.Fatalf("want one checksums file in %s, got %v", dir, matches)
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		archives = append(archives, strings.Fields(line)[1])
	}
	sort.Strings(archives)
	return archives, filepath.Base(matches[0])
}

// identity flags in the two forms the facts sheet verifies with.
func (e env) regexpIdentity() []string {
	return []string{"--certificate-identity-regexp", identityRegexp, "--certificate-oidc-issuer", e.issuer}
}

func (e env) exactIdentity() []string {
	return []string{"--certificate-identity", workflowIdentity, "--certificate-oidc-issuer", e.issuer,
		"--certificate-github-workflow-repository", sourceRepository, "--certificate-github-workflow-ref", sourceRef}
}

func (e env) cosignVerify(t *testing.T, args ...string) error {
	t.Helper()
	out, err := run(t, nil, e.cosign, append(args, "--trusted-root", e.trustedRoot)...)
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
	}
	return nil
}

func TestKeylessSigning(t *testing.T) {
	e := stackEnv(t)
	dir := copyTree(t, e.tree)
	actions := []string{"ACTIONS_ID_TOKEN_REQUEST_URL=" + e.requestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + e.requestToken}
	start := time.Now()
	out, err := e.relkitSign(t, actions, "--json", dir)
	if err != nil {
		t.Fatalf("relkit sign: %v\n%s", err, out)
	}
	t.Logf("relkit sign (keyless, GitHub Actions token): %v", time.Since(start).Round(time.Millisecond))
	noSecrets(t, out, e.requestToken)

	archives, checksums := artifacts(t, dir)
	signed := append(append([]string{}, archives...), checksums, sign.ManifestFile)
	var certs []string
	for _, f := range signed {
		for _, suffix := range []string{release.SigSuffix, release.CertSuffix, sign.BundleSuffix} {
			if _, err := os.Stat(filepath.Join(dir, f+suffix)); err != nil {
				t.Errorf("missing %s%s", f, suffix)
			}
		}
		cert, _ := os.ReadFile(filepath.Join(dir, f+release.CertSuffix))
		certs = append(certs, string(cert))
	}
	for _, c := range certs[1:] {
		if c != certs[0] {
			t.Error("certificates differ: want one Fulcio certificate per run")
		}
	}

	t.Run("cosign accepts", func(t *testing.T) {
		checked := 0
		defer func() { t.Logf("cosign verified %d bundles", checked) }()
		for _, id := range [][]string{e.regexpIdentity(), e.exactIdentity()} {
			for _, f := range signed {
				path := filepath.Join(dir, f)
				if err := e.cosignVerify(t, append([]string{"verify-blob", "--bundle", path + sign.BundleSuffix}, append(id, path)...)...); err != nil {
					t.Errorf("verify-blob %s: %v", f, err)
				}
				checked++
			}
			for _, f := range archives {
				path := filepath.Join(dir, f)
				for suffix, typ := range map[string]string{release.ProvenanceSuffix: sign.SLSAPredicate, release.SBOMBundleSuffix: sign.SPDXPredicate} {
					if _, err := os.Stat(path + suffix); err != nil {
						t.Errorf("missing %s%s", f, suffix)
						continue
					}
					args := append([]string{"verify-blob-attestation", "--bundle", path + suffix, "--type", typ}, append(id, path)...)
					if err := e.cosignVerify(t, args...); err != nil {
						t.Errorf("verify-blob-attestation %s%s: %v", f, suffix, err)
					}
					checked++
				}
			}
		}
	})

	a := filepath.Join(dir, archives[0])
	tampered := filepath.Join(t.TempDir(), archives[0])
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(tampered, data, 0o644); err != nil {
		t.Fatal(err)
	}
	wrongIdentity := []string{"--certificate-identity", strings.Replace(workflowIdentity, "v1.0.0", "v9.9.9", 1), "--certificate-oidc-issuer", e.issuer}
	wrongIssuer := []string{"--certificate-identity", workflowIdentity, "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"}
	wrongRepo := []string{"--certificate-identity", workflowIdentity, "--certificate-oidc-issuer", e.issuer, "--certificate-github-workflow-repository", "ConductorOne/baton-other"}
	negatives := []struct {
		name string
		args []string
	}{
		{"tampered artifact", append(append([]string{"verify-blob", "--bundle", a + sign.BundleSuffix}, e.exactIdentity()...), tampered)},
		{"tampered artifact attestation", append(append([]string{"verify-blob-attestation", "--bundle", a + release.ProvenanceSuffix, "--type", sign.SLSAPredicate}, e.exactIdentity()...), tampered)},
		{"wrong identity", append(append([]string{"verify-blob", "--bundle", a + sign.BundleSuffix}, wrongIdentity...), a)},
		{"wrong issuer", append(append([]string{"verify-blob", "--bundle", a + sign.BundleSuffix}, wrongIssuer...), a)},
		{"wrong repository", append(append([]string{"verify-blob", "--bundle", a + sign.BundleSuffix}, wrongRepo...), a)},
		{"wrong predicate type", append(append([]string{"verify-blob-attestation", "--bundle", a + release.ProvenanceSuffix, "--type", sign.SPDXPredicate}, e.exactIdentity()...), a)},
		{"sbom as provenance", append(append([]string{"verify-blob-attestation", "--bundle", a + release.SBOMBundleSuffix, "--type", sign.SLSAPredicate}, e.exactIdentity()...), a)},
	}
	t.Run("cosign rejects", func(t *testing.T) {
		for _, n := range negatives {
			if err := e.cosignVerify(t, n.args...); err == nil {
				t.Errorf("%s: cosign accepted", n.name)
			}
		}
	})

	t.Run("cosign accepts the detached signature and certificate", func(t *testing.T) {
		e.verifyDetached(t, dir, archives[0])
	})

	t.Run("relkit verifier agrees", func(t *testing.T) {
		tr, err := root.NewTrustedRootFromPath(e.trustedRoot)
		if err != nil {
			t.Fatal(err)
		}
		verifier := func(p sign.Policy) *sign.Verifier {
			t.Helper()
			v, err := sign.NewVerifier(tr, p)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		exact := verifier(sign.Policy{Issuer: e.issuer, Identity: workflowIdentity, Repository: sourceRepository, Ref: sourceRef})
		byRegexp := verifier(sign.Policy{Issuer: e.issuer, IdentityRegexp: identityRegexp})
		blob := func(v *sign.Verifier, bundlePath, artifact string) error {
			b := readBundle(t, bundlePath)
			data, err := os.ReadFile(artifact)
			if err != nil {
				t.Fatal(err)
			}
			return v.VerifyBlob(b, data)
		}
		attest := func(v *sign.Verifier, bundlePath, artifact, typ string) error {
			_, err := v.VerifyAttestation(readBundle(t, bundlePath), sha256File(t, artifact), typ)
			return err
		}
		for _, v := range []*sign.Verifier{exact, byRegexp} {
			for _, f := range signed {
				if err := blob(v, filepath.Join(dir, f+sign.BundleSuffix), filepath.Join(dir, f)); err != nil {
					t.Errorf("blob %s: %v", f, err)
				}
			}
			for _, f := range archives {
				p := filepath.Join(dir, f)
				if err := attest(v, p+release.ProvenanceSuffix, p, sign.SLSAPredicate); err != nil {
					t.Errorf("provenance %s: %v", f, err)
				}
				if err := attest(v, p+release.SBOMBundleSuffix, p, sign.SPDXPredicate); err != nil {
					t.Errorf("sbom %s: %v", f, err)
				}
			}
		}
		rejects := map[string]error{
			"tampered artifact":             blob(exact, a+sign.BundleSuffix, tampered),
			"tampered artifact attestation": attest(exact, a+release.ProvenanceSuffix, tampered, sign.SLSAPredicate),
			"wrong identity":                blob(verifier(sign.Policy{Issuer: e.issuer, Identity: wrongIdentity[1]}), a+sign.BundleSuffix, a),
			"wrong issuer":                  blob(verifier(sign.Policy{Issuer: wrongIssuer[3], Identity: workflowIdentity}), a+sign.BundleSuffix, a),
			"wrong repository":              blob(verifier(sign.Policy{Issuer: e.issuer, Identity: workflowIdentity, Repository: "ConductorOne/baton-other"}), a+sign.BundleSuffix, a),
			"wrong ref":                     blob(verifier(sign.Policy{Issuer: e.issuer, Identity: workflowIdentity, Ref: "refs/tags/v9.9.9"}), a+sign.BundleSuffix, a),
			"wrong predicate type":          attest(exact, a+release.ProvenanceSuffix, a, sign.SPDXPredicate),
			"sbom as provenance":            attest(exact, a+release.SBOMBundleSuffix, a, sign.SLSAPredicate),
		}
		for name, err := range rejects {
			if err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})

	t.Run("re-run keeps everything", func(t *testing.T) {
		tok := writeToken(t, e.token(t, nil))
		start := time.Now()
		out, err := e.relkitSign(t, nil, "--json", "--identity-token-file", tok, dir)
		if err != nil {
			t.Fatalf("relkit sign: %v\n%s", err, out)
		}
		t.Logf("relkit sign re-run: %v", time.Since(start).Round(time.Millisecond))
		if !strings.Contains(out, `"written": []`) {
			t.Errorf("re-run wrote files:\n%s", out)
		}
	})

	// A token for another ref certifies the same workflow, but the source
	// it names is not the release's: a re-run with it keeps nothing, and a
	// re-run with the right token keeps nothing it made.
	t.Run("another ref keeps nothing", func(t *testing.T) {
		manifest := filepath.Join(dir, sign.ManifestFile)
		for _, ref := range []string{"refs/heads/main", sourceRef} {
			tok := writeToken(t, e.token(t, url.Values{"ref": {ref}}))
			out, err := e.relkitSign(t, nil, "--json", "--identity-token-file", tok, dir)
			if err != nil {
				t.Fatalf("relkit sign with a token for %s: %v\n%s", ref, err, out)
			}
			if !strings.Contains(out, `"kept": []`) {
				t.Errorf("a token for %s kept bundles of another ref:\n%s", ref, out)
			}
			err = e.cosignVerify(t, append([]string{"verify-blob", "--bundle", manifest + sign.BundleSuffix}, append(e.exactIdentity(), manifest)...)...)
			if (err == nil) != (ref == sourceRef) {
				t.Errorf("signed with a token for %s: cosign verify-blob bound to %s: %v", ref, sourceRef, err)
			}
		}
	})
}

// verifyDetached checks name.sig and name.cert with cosign's flags for
// detached signatures, the path consumers of the previous pipeline use.
func (e env) verifyDetached(t *testing.T, dir, name string) {
	t.Helper()
	b := readBundle(t, filepath.Join(dir, name+sign.BundleSuffix))
	ts := b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()
	if len(ts) == 0 {
		t.Fatal("bundle has no RFC 3161 timestamp")
	}
	tmp := t.TempDir()
	tsFile := filepath.Join(tmp, "timestamp.json")
	tsJSON, _ := json.Marshal(map[string]string{"SignedRFC3161Timestamp": base64.StdEncoding.EncodeToString(ts[0].GetSignedTimestamp())})
	if err := os.WriteFile(tsFile, tsJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	pki := filepath.Join(filepath.Dir(e.trustedRoot), "pki")
	path := filepath.Join(dir, name)
	args := []string{"verify-blob", "--signature", path + release.SigSuffix, "--certificate", path + release.CertSuffix,
		"--certificate-chain", filepath.Join(pki, "fulcio-chain.pem"),
		"--rfc3161-timestamp", tsFile, "--timestamp-certificate-chain", filepath.Join(pki, "tsa-chain.pem"),
		"--use-signed-timestamps", "--insecure-ignore-tlog"}
	args = append(append(args, e.exactIdentity()...), path)
	out, err := run(t, []string{"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=" + filepath.Join(pki, "ct.pub")}, e.cosign, args...)
	if err != nil {
		t.Errorf("cosign verify-blob --signature --certificate: %v\n%s", err, out)
	}
}

func readBundle(t *testing.T, path string) *bundle.Bundle {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sign.ReadBundle(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))[0]
}

func TestKeyMode(t *testing.T) {
	e := stackEnv(t)
	tmp := t.TempDir()
	const password = "key-password-for-test"
	out, err := run(t, []string{"COSIGN_PASSWORD=" + password}, e.cosign, "generate-key-pair", "--output-key-prefix", filepath.Join(tmp, "cosign"))
	if err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	keyPEM, err := os.ReadFile(filepath.Join(tmp, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(tmp, "cosign.pub")
	other := filepath.Join(tmp, "other")
	if out, err := run(t, []string{"COSIGN_PASSWORD="}, e.cosign, "generate-key-pair", "--output-key-prefix", other); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}

	for _, mode := range []struct {
		name    string
		args    []string
		offline bool
	}{
		{"with rekor and tsa", nil, false},
		{"offline", []string{"--offline"}, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			dir := copyTree(t, e.tree)
			envv := []string{"RELKIT_SIGNING_KEY=" + string(keyPEM), "RELKIT_KEY_PASSWORD=" + password}
			var out string
			var err error
			if mode.offline {
				out, err = run(t, envv, e.relkit, append([]string{"sign", "--key-env", "RELKIT_SIGNING_KEY"}, append(mode.args, dir)...)...)
			} else {
				out, err = e.relkitSign(t, envv, "--key-env", "RELKIT_SIGNING_KEY", dir)
			}
			if err != nil {
				t.Fatalf("relkit sign --key-env: %v\n%s", err, out)
			}
			noSecrets(t, out, password, "PRIVATE KEY")
			archives, checksums := artifacts(t, dir)
			if matches, _ := filepath.Glob(filepath.Join(dir, "*"+release.CertSuffix)); len(matches) > 0 {
				t.Errorf("key mode wrote certificates: %v", matches)
			}
			key := []string{"--key", pub}
			if mode.offline {
				key = append(key, "--insecure-ignore-tlog")
			}
			for _, f := range append(append([]string{}, archives...), checksums, sign.ManifestFile) {
				path := filepath.Join(dir, f)
				if err := e.cosignVerify(t, append(append([]string{"verify-blob", "--bundle", path + sign.BundleSuffix}, key...), path)...); err != nil {
					t.Errorf("verify-blob --key %s: %v", f, err)
				}
			}
			a := filepath.Join(dir, archives[0])
			for suffix, typ := range map[string]string{release.ProvenanceSuffix: sign.SLSAPredicate, release.SBOMBundleSuffix: sign.SPDXPredicate} {
				if err := e.cosignVerify(t, append(append([]string{"verify-blob-attestation", "--bundle", a + suffix, "--type", typ}, key...), a)...); err != nil {
					t.Errorf("verify-blob-attestation --key %s: %v", suffix, err)
				}
			}
			if err := e.cosignVerify(t, append(append([]string{"verify-blob", "--bundle", a + sign.BundleSuffix, "--key", other + ".pub"}, key[2:]...), a)...); err == nil {
				t.Error("cosign accepted another key")
			}
		})
	}
}

func TestBadInputFailsCleanly(t *testing.T) {
	e := stackEnv(t)
	tmp := t.TempDir()
	signingConfig := func(t *testing.T, from, to string) string {
		t.Helper()
		data, err := os.ReadFile(e.signingConfig)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(tmp, strings.NewReplacer(":", "_", "/", "_").Replace(from)+".json")
		if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(`"`+from), []byte(`"`+to)), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	fresh := e.token(t, nil)
	for _, tc := range []struct {
		name          string
		token         string
		signingConfig string
		change        func(dir string)
		want          string
	}{
		{name: "expired token", token: e.token(t, url.Values{"ttl": {"-60"}}), want: "expired at"},
		{name: "wrong audience", token: e.token(t, url.Values{"audience": {"connector-registry"}}), want: `want "sigstore"`},
		{name: "unreachable fulcio", token: fresh, signingConfig: signingConfig(t, os.Getenv("SIGSTORE_FULCIO_URL"), "http://127.0.0.1:1"), want: "fulcio http://127.0.0.1:1"},
		{name: "unreachable rekor", token: fresh, signingConfig: signingConfig(t, os.Getenv("SIGSTORE_REKOR_URL"), "http://127.0.0.1:1"), want: "rekor http://127.0.0.1:1"},
		{name: "digest mismatch", token: fresh, change: func(dir string) {
			archives, _ := artifacts(t, dir)
			f, _ := os.OpenFile(filepath.Join(dir, archives[0]), os.O_APPEND|os.O_WRONLY, 0)
			io.WriteString(f, "x")
			f.Close()
		}, want: "sha256 differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, e.tree)
			if tc.change != nil {
				tc.change(dir)
			}
			before, _ := os.ReadDir(dir)
			sc := e.signingConfig
			if tc.signingConfig != "" {
				sc = tc.signingConfig
			}
			out, err := run(t, nil, e.relkit, "sign", "--trusted-root", e.trustedRoot, "--signing-config", sc,
				"--identity-token-file", writeToken(t, tc.token), dir)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("relkit sign = %v\n%s\nwant a failure mentioning %q", err, out, tc.want)
			}
			noSecrets(t, out, tc.token, fresh)
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("a failed run left %d new files in the tree", len(after)-len(before))
			}
		})
	}
}
