package notary

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	issuer  = "69a6de7e-0000-47e3-e053-5b8c7c11a4d1"
	keyID   = "2X9R4HXF34"
	akid    = "ASIATESTACCESSKEY"
	secret  = "test/secret/access/key"
	session = "test-session-token"
	bucket  = "notary-submissions-test"
)

// fakeNotary implements the documented Notary API flow and the S3 upload.
type fakeNotary struct {
	t        *testing.T
	pub      *ecdsa.PublicKey
	url      string
	verdict  string // final status; "" never finishes
	polls    int    // "In Progress" answers before the verdict
	mu       sync.Mutex
	sha      string
	uploaded []byte
	statuses int
}

func (f *fakeNotary) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/"+bucket+"/"):
		f.s3Put(w, r)
		return
	case r.Method == http.MethodGet && r.URL.Path == "/logs/sub-1.json":
		fmt.Fprint(w, `{"status": "Invalid", "issues": [{"severity": "error", "path": "hello.zip/hello", "message": "The signature does not include a secure timestamp."}]}`)
		return
	}
	if err := f.checkToken(r.Header.Get("Authorization")); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid.","detail":%q}]}`, err.Error())
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/notary/v2/submissions":
		var req struct{ SubmissionName, Sha256 string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.SubmissionName == "" || len(req.Sha256) != 64 {
			http.Error(w, `{"errors":[{"title":"bad request"}]}`, http.StatusBadRequest)
			return
		}
		f.sha = req.Sha256
		fmt.Fprintf(w, `{"data":{"id":"sub-1","type":"newSubmissions","attributes":{"awsAccessKeyId":%q,"awsSecretAccessKey":%q,"awsSessionToken":%q,"bucket":%q,"object":"prod/AAAA/%s"}}}`,
			akid, secret, session, bucket, req.SubmissionName)
	case r.Method == http.MethodGet && r.URL.Path == "/notary/v2/submissions/sub-1":
		if f.uploaded == nil {
			f.t.Error("status polled before the upload")
		}
		status := "In Progress"
		if f.statuses >= f.polls && f.verdict != "" {
			status = f.verdict
		}
		f.statuses++
		fmt.Fprintf(w, `{"data":{"id":"sub-1","type":"submissions","attributes":{"status":%q,"name":"hello.zip","createdDate":"2026-01-02T03:04:05.000Z"}}}`, status)
	case r.Method == http.MethodGet && r.URL.Path == "/notary/v2/submissions/sub-1/logs":
		fmt.Fprintf(w, `{"data":{"id":"sub-1","type":"submissionsLog","attributes":{"developerLogUrl":"%s/logs/sub-1.json"}}}`, f.url)
	default:
		http.NotFound(w, r)
	}
}

// checkToken verifies the ES256 JWT as App Store Connect does.
func (f *fakeNotary) checkToken(h string) error {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return fmt.Errorf("no bearer JWT")
	}
	var hdr struct{ Alg, Kid, Typ string }
	var claims struct {
		Iss      string
		Aud      string
		Iat, Exp int64
	}
	for i, v := range []any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, v) != nil {
			return fmt.Errorf("bad JWT part %d", i)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("bad JWT signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(f.pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("JWT signature does not verify")
	}
	now := time.Now().Unix()
	if hdr.Alg != "ES256" || hdr.Kid != keyID || claims.Iss != issuer || claims.Aud != "appstoreconnect-v1" ||
		claims.Iat > now+60 || claims.Exp < now || claims.Exp-claims.Iat > 20*60 {
		return fmt.Errorf("JWT header or claims wrong: %+v %+v", hdr, claims)
	}
	return nil
}

// s3Put checks the SigV4 signature made with the temporary credentials.
func (f *fakeNotary) s3Put(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sum := sha256.Sum256(body)
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || r.Header.Get("X-Amz-Security-Token") != session || r.Header.Get("X-Amz-Content-Sha256") != hex.EncodeToString(sum[:]) || hex.EncodeToString(sum[:]) != f.sha {
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		return
	}
	check, _ := http.NewRequest(http.MethodPut, "http://"+r.Host+r.URL.EscapedPath(), bytes.NewReader(body))
	check.Header.Set("X-Amz-Content-Sha256", r.Header.Get("X-Amz-Content-Sha256"))
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: session}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, check, hex.EncodeToString(sum[:]), "s3", "us-west-2", when); err != nil {
		f.t.Error(err)
	}
	if got, want := r.Header.Get("Authorization"), check.Header.Get("Authorization"); got != want {
		http.Error(w, "<Error><Code>SignatureDoesNotMatch</Code></Error>", http.StatusForbidden)
		return
	}
	f.uploaded = body
}

func newKey(t *testing.T) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func setup(t *testing.T, verdict string, polls int) (*fakeNotary, *Client) {
	t.Helper()
	k, p8 := newKey(t)
	f := &fakeNotary{t: t, pub: &k.PublicKey, verdict: verdict, polls: polls}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	key, err := ParseAPIKey(issuer, keyID, p8)
	if err != nil {
		t.Fatal(err)
	}
	return f, &Client{Key: key, BaseURL: srv.URL + "/notary/v2", S3Endpoint: srv.URL, HTTP: srv.Client(),
		Poll: time.Millisecond, MaxPoll: 4 * time.Millisecond}
}

var zipData = []byte("PK\x05\x06" + strings.Repeat("\x00", 18))

func TestSubmitAccepted(t *testing.T) {
	f, c := setup(t, "Accepted", 3)
	var progress bytes.Buffer
	c.Progress = &progress
	res, err := c.Submit(context.Background(), "hello.zip", zipData)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "sub-1" || res.Status != "Accepted" {
		t.Errorf("result %+v", res)
	}
	if !bytes.Equal(f.uploaded, zipData) || f.statuses != 4 {
		t.Errorf("uploaded %q, polled %d times; want the zip, 4 polls", f.uploaded, f.statuses)
	}
	want := "submission sub-1 created; uploading hello.zip (22 bytes)\nsubmission sub-1: In Progress\nsubmission sub-1: Accepted\n"
	if progress.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", progress.String(), want)
	}
}

func TestSubmitRejectedShowsLog(t *testing.T) {
	_, c := setup(t, "Invalid", 1)
	res, err := c.Submit(context.Background(), "hello.zip", zipData)
	if err == nil {
		t.Fatal("an Invalid submission did not fail")
	}
	for _, want := range []string{"notarization of submission sub-1: Invalid", "The signature does not include a secure timestamp."} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if res == nil || res.Status != "Invalid" || !strings.Contains(res.Log, "secure timestamp") {
		t.Errorf("result %+v", res)
	}
}

func TestSubmitTimeout(t *testing.T) {
	_, c := setup(t, "", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Submit(ctx, "hello.zip", zipData)
	if err == nil || !strings.Contains(err.Error(), `submission sub-1 still "In Progress" after`) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("got %v, want a timeout naming the submission", err)
	}
}

func TestSubmitBadCredentials(t *testing.T) {
	_, c := setup(t, "Accepted", 0)
	_, other := newKey(t)
	var err error
	if c.Key, err = ParseAPIKey(issuer, keyID, other); err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit(context.Background(), "hello.zip", zipData)
	if err == nil || !strings.Contains(err.Error(), "create submission: App Store Connect refused the API key (HTTP 401)") {
		t.Fatalf("got %v, want a clear 401 error", err)
	}
}

func TestParseAPIKeyErrors(t *testing.T) {
	_, p8 := newKey(t)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1}})
	for _, tt := range []struct {
		issuer, kid string
		p8          []byte
		want        string
	}{
		{"", keyID, p8, "needs an issuer ID and a key ID"},
		{issuer, keyID, []byte("garbage"), "PEM 'PRIVATE KEY' block"},
		{issuer, keyID, rsaPEM, "PEM 'PRIVATE KEY' block"},
	} {
		if _, err := ParseAPIKey(tt.issuer, tt.kid, tt.p8); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseAPIKey: got %v, want %q", err, tt.want)
		}
	}
}

func FuzzParseAPIKey(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := ParseAPIKey(issuer, keyID, b)
		if err == nil {
			if _, err := key.Token(time.Unix(0, 0)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
