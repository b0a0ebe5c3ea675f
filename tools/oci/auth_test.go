package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const (
	testAccessKey = "AKIDRELKITTEST"
	testSecretKey = "relkit-test-secret-key"
	privateECR    = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
)

// fakeECR serves ECR's and ECR Public's GetAuthorizationToken on loopback,
// accepting only requests signed (SigV4) with testSecretKey.
type fakeECR struct {
	url     string
	expires time.Time

	mu    sync.Mutex
	calls []string // "SERVICE/REGION" of each accepted call
	n     int      // tokens issued, to make each one different
}

var credentialScope = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/([0-9]{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$`)

func newFakeECR(t *testing.T) *fakeECR {
	t.Helper()
	f := &fakeECR{expires: time.Now().Add(12 * time.Hour)}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeECR) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fail := func(code int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
	}
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		fail(http.StatusForbidden, "MissingAuthenticationTokenException", "no SigV4 Authorization header")
		return
	}
	region, service := m[3], m[4]
	// Sign the same request again with the known secret; the signatures
	// match only if the client signed it with that secret.
	signed, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		fail(http.StatusForbidden, "IncompleteSignatureException", "bad X-Amz-Date")
		return
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	again.Host = r.Host
	for _, h := range strings.Split(m[5], ";") {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		again, hex.EncodeToString(sum[:]), service, region, signed)
	if err != nil || again.Header.Get("Authorization") != r.Header.Get("Authorization") {
		fail(http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
		return
	}

	f.mu.Lock()
	f.calls = append(f.calls, service+"/"+region)
	f.n++
	token := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "AWS:token-%s-%d", service, f.n))
	f.mu.Unlock()
	data := map[string]any{"authorizationToken": token, "expiresAt": float64(f.expires.Unix())}
	var out any
	switch target := r.Header.Get("X-Amz-Target"); target {
	case "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken":
		data["proxyEndpoint"] = "https://" + privateECR
		out = map[string]any{"authorizationData": []any{data}}
	case "SpencerFrontendService.GetAuthorizationToken":
		out = map[string]any{"authorizationData": data}
	default:
		fail(http.StatusBadRequest, "UnknownOperationException", target)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func (f *fakeECR) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// ecrRegistry serves a registry over TLS that accepts only the basic
// credentials check approves, and returns a transport that sends every
// host (public.ecr.aws, ACCOUNT.dkr.ecr...) to it: the client talks to
// those names while nothing leaves 127.0.0.1.
func ecrRegistry(t *testing.T, check func(user, password string) bool) http.RoundTripper {
	t.Helper()
	reg := registry.New(quiet)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || !check(u, p) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com" // in httptest's certificate
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	return tr
}

func testAWS(secret string) *aws.Config {
	return &aws.Config{
		Region:      "eu-west-1", // ignored: the region comes from the registry
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, secret, ""),
	}
}

func pushTo(t *testing.T, kc authn.Keychain, tr http.RoundTripper, repo string) error {
	t.Helper()
	img, err := BuildImage(testSpec(t, testCACert), LinuxAMD64)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Push(context.Background(), Artifact{Image: img}, repo, "1.0.0", nil,
		remote.WithAuthFromKeychain(kc), remote.WithTransport(tr), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	return err
}

func TestKeychainECR(t *testing.T) {
	aws := newFakeECR(t)
	tr := ecrRegistry(t, func(u, p string) bool { return u == "AWS" && strings.HasPrefix(p, "token-") })
	kc, err := Keychain(KeychainOptions{AWS: testAWS(testSecretKey), ECREndpoint: aws.url, ECRPublicEndpoint: aws.url})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := pushTo(t, kc, tr, privateECR+"/baton-foo"); err != nil {
			t.Fatal(err)
		}
		if err := pushTo(t, kc, tr, ECRPublicRegistry+"/acme/baton-foo"); err != nil {
			t.Fatal(err)
		}
	}
	// One token per API for many registry requests; the private registry's
	// region comes from its host, ECR Public's is always us-east-1.
	if got, want := strings.Join(aws.callLog(), " "), "ecr/us-west-2 ecr-public/us-east-1"; got != want {
		t.Errorf("GetAuthorizationToken calls %q, want %q", got, want)
	}

	// Shortly before expiry a new token is fetched.
	kc.(*keychain).ecr.now = func() time.Time { return aws.expires.Add(-time.Minute) }
	if err := pushTo(t, kc, tr, privateECR+"/baton-foo"); err != nil {
		t.Fatal(err)
	}
	if n := len(aws.callLog()); n != 3 {
		t.Errorf("%d GetAuthorizationToken calls after expiry, want 3", n)
	}
}

// Without opts.AWS the AWS configuration comes from the environment, as
// in CI, including the service endpoint variables.
func TestKeychainECRFromEnvironment(t *testing.T) {
	aws := newFakeECR(t)
	tr := ecrRegistry(t, func(u, p string) bool { return u == "AWS" && strings.HasPrefix(p, "token-") })
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           testAccessKey,
		"AWS_SECRET_ACCESS_KEY":       testSecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL_ECR":        aws.url,
		"AWS_ENDPOINT_URL_ECR_PUBLIC": aws.url,
	} {
		t.Setenv(k, v)
	}
	kc, err := Keychain(KeychainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pushTo(t, kc, tr, privateECR+"/baton-foo"); err != nil {
		t.Fatal(err)
	}
	if err := pushTo(t, kc, tr, ECRPublicRegistry+"/acme/baton-foo"); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(aws.callLog(), " "), "ecr/us-west-2 ecr-public/us-east-1"; got != want {
		t.Errorf("GetAuthorizationToken calls %q, want %q", got, want)
	}
}

func TestKeychainECRBadCredentials(t *testing.T) {
	aws := newFakeECR(t)
	tr := ecrRegistry(t, func(string, string) bool { return true })
	const wrong = "wrong-secret-do-not-log"
	kc, err := Keychain(KeychainOptions{AWS: testAWS(wrong), ECREndpoint: aws.url, ECRPublicEndpoint: aws.url})
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{privateECR + "/baton-foo", ECRPublicRegistry + "/acme/baton-foo"} {
		err := pushTo(t, kc, tr, repo)
		if err == nil {
			t.Fatalf("%s: push with a wrong AWS secret succeeded", repo)
		}
		host, _, _ := strings.Cut(repo, "/")
		for _, want := range []string{"credentials for " + host, "InvalidSignatureException", "check the AWS credentials"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", repo, err, want)
			}
		}
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("error shows the secret: %v", err)
		}
	}
	if calls := aws.callLog(); len(calls) != 0 {
		t.Errorf("accepted calls %q", calls)
	}
}

func TestKeychainOtherRegistries(t *testing.T) {
	img, err := BuildImage(testSpec(t, testCACert), LinuxAMD64)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(quiet)
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "right" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	dockerConfig := func(user, password string) string {
		p := filepath.Join(t.TempDir(), "config.json")
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
		if err := os.WriteFile(p, fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	push := func(opts KeychainOptions) error {
		kc, err := Keychain(opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Push(context.Background(), Artifact{Image: img}, host+"/acme/baton-foo", "1.0.0", nil, remote.WithAuthFromKeychain(kc))
		return err
	}
	for _, tc := range []struct {
		name string
		opts KeychainOptions
		ok   bool
	}{
		{"docker config", KeychainOptions{DockerConfig: dockerConfig("ci", "right")}, true},
		{"docker config, wrong password", KeychainOptions{DockerConfig: dockerConfig("ci", "wrong")}, false},
		{"docker config for another registry", KeychainOptions{DockerConfig: filepath.Join("testdata", "docker-config.json")}, false},
		{"username", KeychainOptions{Username: "ci", Password: "right"}, true},
		{"username, wrong password", KeychainOptions{Username: "ci", Password: "wrong"}, false},
	} {
		err := push(tc.opts)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "check the registry credentials")) {
			t.Errorf("%s: got %v, want an error saying to check the credentials", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong") {
			t.Errorf("%s: error shows the password: %v", tc.name, err)
		}
	}
}

func TestKeychainErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts KeychainOptions
		want string
	}{
		{KeychainOptions{DockerConfig: filepath.Join(t.TempDir(), "missing.json")}, "registry auth file: open"},
		{KeychainOptions{DockerConfig: bad}, "registry auth file " + bad + ": not a Docker config.json"},
		{KeychainOptions{Username: "ci"}, `registry user "ci" has an empty password`},
	} {
		if _, err := Keychain(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Keychain(%+v): got %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestKeychainRecognisesECRHosts(t *testing.T) {
	kc, err := Keychain(KeychainOptions{Username: "ci", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"123456789012.dkr.ecr.us-west-2.amazonaws.com":          "ecr us-west-2",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com": "ecr us-gov-west-1",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":      "ecr cn-north-1",
		"public.ecr.aws":                                    "ecr-public us-east-1",
		"12345.dkr.ecr.us-west-2.amazonaws.com":             "basic",
		"123456789012.dkr.ecr.us-west-2.amazonaws.com.evil": "basic",
		"ghcr.io":        "basic",
		"127.0.0.1:5000": "basic",
	} {
		reg, err := name.NewRegistry(host)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		got := "basic"
		if e, ok := a.(*ecrAuth); ok {
			got = "ecr " + e.region
			if e.public {
				got = "ecr-public " + e.region
			}
		}
		if got != want {
			t.Errorf("%s: %s, want %s", host, got, want)
		}
	}
}

func TestDecodeECRToken(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	if tok, err := decodeECRToken(enc([]byte("AWS:pa:ss"))); err != nil || tok.user != "AWS" || tok.password != "pa:ss" {
		t.Errorf("got %+v, %v", tok, err)
	}
	for _, in := range []string{"", "not base64!", enc([]byte("nocolon")), enc([]byte(":pw")), enc([]byte("AWS:"))} {
		if _, err := decodeECRToken(in); err == nil {
			t.Errorf("decodeECRToken(%q) accepted", in)
		} else if strings.Contains(err.Error(), in) && in != "" {
			t.Errorf("error %q shows the token", err)
		}
	}
}

func FuzzDecodeECRToken(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte("AWS:secret")))
	f.Add("QVdT")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeECRToken(s)
		if err != nil {
			return
		}
		raw, _ := base64.StdEncoding.DecodeString(s)
		if tok.user == "" || tok.password == "" || tok.user+":"+tok.password != string(raw) {
			t.Errorf("decodeECRToken(%q) = %+v", s, tok)
		}
	})
}
