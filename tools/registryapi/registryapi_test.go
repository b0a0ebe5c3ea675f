package registryapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"github.com/relkit/relkit/tools/testutil/golden"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/relkit/relkit/tools/manifest"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func readManifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	f, err := os.Open("testdata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := manifest.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func request(t *testing.T) *Release {
	t.Helper()
	r, err := FromManifest(readManifest(t), Metadata{
		CommitSHA: commit, WorkflowRunID: "123456789",
		Documentation: "# docs\n", ConfigSchema: `{"type":"object"}`,
		ReleasedAt: time.Date(2026, 5, 6, 17, 37, 2, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFromManifestGolden(t *testing.T) {
	got, err := json.MarshalIndent(request(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "request", append(got, '\n'))
}

func TestFromManifestMapping(t *testing.T) {
	r := request(t)
	for key, a := range r.Assets {
		if a.Platform != key {
			t.Errorf("assets[%q].platform = %q", key, a.Platform)
		}
		for _, at := range a.Attestations {
			if at.Type == "" || at.URL == "" {
				t.Errorf("assets[%q] kept an attestation without type or url: %+v", key, at)
			}
		}
	}
	for key, im := range r.Images {
		if im.Platform != key {
			t.Errorf("images[%q].platform = %q", key, im.Platform)
		}
	}
	raw, _ := json.Marshal(r)
	if bytes.Contains(raw, []byte(`"isIndex"`)) || bytes.Contains(raw, []byte(`"uri"`)) {
		t.Errorf("request carries image fields the registry derives itself: %s", raw)
	}
}

// issuer is a test OIDC issuer: a JWKS endpoint and a token minter.
type issuer struct {
	url string
	key *ecdsa.PrivateKey
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &issuer{key: key}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	}))
	t.Cleanup(srv.Close)
	iss.url = srv.URL
	return iss
}

func (iss *issuer) token(t *testing.T, repository, audience string, ttl time.Duration) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: iss.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: iss.url, Subject: "repo:" + repository + ":ref:refs/tags/v1.0.0", Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl)),
	}).Claims(map[string]any{"repository": repository}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// serve runs the real server over loopback with a fresh SQLite database.
func serve(t *testing.T, auth Authenticator) string {
	t.Helper()
	st, err := OpenStore(context.Background(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer((&Server{Store: st, Auth: auth}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func client(url, token string) *Client {
	return &Client{BaseURL: url, Backoff: time.Millisecond, Token: func(context.Context) (string, error) { return token, nil }}
}

func TestRecordAndReadBack(t *testing.T) {
	iss := newIssuer(t)
	url := serve(t, &OIDC{Issuer: iss.url, JWKSURL: iss.url})
	ctx := context.Background()
	r := request(t)
	c := client(url, iss.token(t, "ConductorOne/baton-foo", Audience, time.Minute))

	st, err := c.Record(ctx, r)
	if err != nil || st.Code != 200 || st.Status != "success" {
		t.Fatalf("record: %+v, %v", st, err)
	}
	// The same record again is accepted without change.
	if st, err := c.Record(ctx, r); err != nil || st.Code != 200 {
		t.Fatalf("record again: %+v, %v", st, err)
	}
	resp, err := http.Get(url + "/api/v1/releases/ConductorOne/baton-foo/v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	var back Release
	if err := json.NewDecoder(resp.Body).Decode(&back); err != nil || resp.StatusCode != 200 {
		t.Fatalf("read back: %s, %v", resp.Status, err)
	}
	resp.Body.Close()
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(&back)
	if !bytes.Equal(a, b) {
		t.Errorf("read back differs:\n%s\n%s", a, b)
	}
	resp, err = http.Get(url + "/api/v1/releases/ConductorOne/baton-foo")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %v %v", resp, err)
	}
	resp.Body.Close()

	// A different record of the same version: 409, which the client
	// reports as already recorded.
	r2 := *r
	r2.CommitSHA = strings.Repeat("f", 40)
	if st, err := c.Record(ctx, &r2); err != nil || st.Code != 409 || st.Status != "already_exists" {
		t.Fatalf("different record: %+v, %v; want 409 already_exists", st, err)
	}
	if resp, _ := http.Get(url + "/api/v1/releases/ConductorOne/baton-foo/v9.9.9"); resp.StatusCode != 404 {
		t.Errorf("unknown version: %s, want 404", resp.Status)
	}
}

func TestTokensAreChecked(t *testing.T) {
	iss := newIssuer(t)
	other := newIssuer(t)
	url := serve(t, &OIDC{Issuer: iss.url, JWKSURL: iss.url})
	r := request(t)
	for name, tok := range map[string]string{
		"other repository": iss.token(t, "ConductorOne/baton-bar", Audience, time.Minute),
		"other audience":   iss.token(t, "ConductorOne/baton-foo", "sigstore", time.Minute),
		"expired":          iss.token(t, "ConductorOne/baton-foo", Audience, -2*time.Minute),
		"other issuer":     other.token(t, "ConductorOne/baton-foo", Audience, time.Minute),
		"not a JWT":        "hello",
	} {
		_, err := client(url, tok).Record(context.Background(), r)
		var he *HTTPError
		if !errors.As(err, &he) || he.Code != 401 {
			t.Errorf("%s: %v; want HTTP 401", name, err)
		}
	}
}

func TestStaticToken(t *testing.T) {
	url := serve(t, StaticToken("s3cret"))
	if _, err := client(url, "s3cret").Record(context.Background(), request(t)); err != nil {
		t.Fatal(err)
	}
	var he *HTTPError
	if _, err := client(url, "wrong").Record(context.Background(), request(t)); !errors.As(err, &he) || he.Code != 401 {
		t.Fatalf("wrong static token: %v", err)
	}
}

func TestClientRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			http.Error(w, "cold start", 503)
		case 2:
			time.Sleep(200 * time.Millisecond) // longer than the client's timeout
		default:
			w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	c := client(srv.URL, "t")
	c.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
	var log bytes.Buffer
	c.Log = &log
	st, err := c.Record(context.Background(), request(t))
	if err != nil || st.Code != 200 {
		t.Fatalf("record: %+v, %v", st, err)
	}
	if calls.Load() != 3 || strings.Count(log.String(), "retrying") != 2 {
		t.Errorf("%d calls, log:\n%s", calls.Load(), log.String())
	}
}

func TestClientDoesNotRetryRefusals(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, `{"error":"bad payload"}`, 400)
	}))
	defer srv.Close()
	_, err := client(srv.URL, "t").Record(context.Background(), request(t))
	var he *HTTPError
	if !errors.As(err, &he) || he.Code != 400 || !strings.Contains(err.Error(), "bad payload") || calls.Load() != 1 {
		t.Fatalf("400: %v after %d calls; want one call and the body in the error", err, calls.Load())
	}
}

func TestClientGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 502) }))
	defer srv.Close()
	c := client(srv.URL, "t")
	c.Attempts = 3
	if _, err := c.Record(context.Background(), request(t)); err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("always 502: %v", err)
	}
}

func TestServerRejectsInvalidPayload(t *testing.T) {
	url := serve(t, StaticToken("t"))
	for name, body := range map[string]string{
		"unknown field": `{"org":"o","bogus":1}`,
		"bad sha":       `{"org":"o","name":"r","version":"v1.0.0","repositoryUrl":"u","commitSha":"` + commit + `","workflowRunId":"1","assets":{"checksums":{"platform":"checksums","filename":"f","downloadUrl":"u","sha256":"zz","sizeBytes":1}}}`,
		"not JSON":      `{`,
	} {
		req, _ := http.NewRequest("POST", url+IngestPath, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %s, want 400", name, resp.Status)
		}
	}
}
