// Command oidc-issuer is a test OpenID Connect issuer that mints ID tokens
// shaped like GitHub Actions ones, for the local Sigstore stack. It serves:
//
//	GET /.well-known/openid-configuration   discovery document
//	GET /jwks                               the ES256 verification key
//	GET /token?audience=sigstore&...        {"value": "<JWT>"}, like GitHub's
//	                                        ACTIONS_ID_TOKEN_REQUEST_URL
//
// /token needs "Authorization: Bearer <request token>", as GitHub does. Query
// parameters override claims (repository, ref, sha, job_workflow_ref,
// workflow_ref, event_name, run_id, run_attempt, ...), and ttl sets the
// lifetime in seconds: a negative ttl mints an already expired token, for
// tests of the refusal path.
//
// The signing key is generated at start and never leaves the process. It is
// a test fixture: it must never be reachable from outside a test network.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8088", "listen address")
	issuer := flag.String("issuer", "", "issuer URL (default http://ADDR)")
	requestTokenFile := flag.String("request-token-file", "", "file holding the bearer token /token requires (required)")
	flag.Parse()
	if *issuer == "" {
		*issuer = "http://" + *addr
	}
	if *requestTokenFile == "" {
		log.Fatal("oidc-issuer: --request-token-file is required")
	}
	reqToken, err := os.ReadFile(*requestTokenFile)
	if err != nil {
		log.Fatalf("oidc-issuer: %v", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatalf("oidc-issuer: %v", err)
	}
	s := &server{issuer: strings.TrimSuffix(*issuer, "/"), key: key, requestToken: strings.TrimSpace(string(reqToken))}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("oidc-issuer: %v", err)
	}
	log.Printf("oidc-issuer: serving %s on %s", s.issuer, ln.Addr())
	log.Fatal(http.Serve(ln, s.routes()))
}

type server struct {
	issuer       string
	key          *ecdsa.PrivateKey
	requestToken string
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /token", s.token)
	return mux
}

func (s *server) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                s.issuer,
		"jwks_uri":                              s.issuer + "/jwks",
		"token_endpoint":                        s.issuer + "/token",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "sha", "job_workflow_ref", "workflow_ref"},
	})
}

func (s *server) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := s.key.PublicKey
	writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": s.kid(),
		"x": b64(pad32(pub.X)), "y": b64(pad32(pub.Y)),
	}}})
}

// defaultClaims describe a tag push of the example connector released by
// relkit's reusable workflow.
var defaultClaims = map[string]string{
	"repository":            "ConductorOne/baton-example",
	"repository_owner":      "ConductorOne",
	"repository_id":         "100000001",
	"repository_owner_id":   "100000002",
	"repository_visibility": "public",
	"ref":                   "refs/tags/v0.1.0",
	"ref_type":              "tag",
	"sha":                   "0123456789abcdef0123456789abcdef01234567",
	"workflow":              "release",
	"workflow_ref":          "ConductorOne/baton-example/.github/workflows/release.yaml@refs/tags/v0.1.0",
	"workflow_sha":          "0123456789abcdef0123456789abcdef01234567",
	"job_workflow_ref":      "relkit/relkit/.github/workflows/release.yaml@refs/tags/v1.0.0",
	"job_workflow_sha":      "89abcdef0123456789abcdef0123456789abcdef",
	"event_name":            "push",
	"run_id":                "4242",
	"run_number":            "7",
	"run_attempt":           "1",
	"runner_environment":    "github-hosted",
	"actor":                 "releaser",
	"actor_id":              "100000003",
}

func (s *server) token(w http.ResponseWriter, r *http.Request) {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.requestToken)) != 1 {
		http.Error(w, "bad request token", http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	ttl := 600
	if v := q.Get("ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, "ttl: want seconds", http.StatusBadRequest)
			return
		}
		ttl = n
	}
	now := time.Now().Unix()
	claims := map[string]any{
		"iss": s.issuer,
		"aud": q.Get("audience"),
		"iat": now,
		"nbf": now - 5,
		"exp": now + int64(ttl),
		"jti": fmt.Sprintf("%d", time.Now().UnixNano()),
	}
	if claims["aud"] == "" {
		claims["aud"] = s.issuer
	}
	for k, v := range defaultClaims {
		claims[k] = v
	}
	for k, vs := range q {
		if _, ok := defaultClaims[k]; ok {
			claims[k] = vs[0]
		}
	}
	claims["sub"] = fmt.Sprintf("repo:%s:ref:%s", claims["repository"], claims["ref"])
	jwt, err := s.sign(claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]string{"value": jwt})
}

func (s *server) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.kid()})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(header) + "." + b64(body)
	digest := sha256.Sum256([]byte(input))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 signatures are R||S, each 32 bytes (RFC 7518 section 3.4).
	return input + "." + b64(append(pad32(r), pad32(sv)...)), nil
}

// kid is the RFC 7638 thumbprint of the key.
func (s *server) kid() string {
	pub := s.key.PublicKey
	j := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, b64(pad32(pub.X)), b64(pad32(pub.Y)))
	h := crypto.SHA256.New()
	h.Write([]byte(j))
	return b64(h.Sum(nil))
}

func pad32(n *big.Int) []byte { return n.FillBytes(make([]byte, 32)) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("oidc-issuer: write response: %v", err)
	}
}
