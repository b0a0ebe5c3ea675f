package registryapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Authenticator checks a request's bearer token and returns the
// repository (ORG/R) it may record releases for; "*" means any.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (repository string, err error)
}

// StaticToken accepts one fixed token for any repository. It is meant for
// a registry on a developer's machine.
type StaticToken string

// Authenticate implements Authenticator.
func (s StaticToken) Authenticate(_ context.Context, token string) (string, error) {
	if s == "" || subtle.ConstantTimeCompare([]byte(s), []byte(token)) != 1 {
		return "", errors.New("unknown token")
	}
	return "*", nil
}

// OIDC accepts JWTs signed by an OIDC issuer's keys (as GitHub Actions
// mints them): the issuer and audience must match and the token must be
// current; the repository claim names the repository.
type OIDC struct {
	Issuer   string // exact iss claim
	JWKSURL  string // the issuer's key set
	Audience string // required aud; empty means Audience
	HTTP     *http.Client

	mu      sync.Mutex
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

var algs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.EdDSA}

// Authenticate implements Authenticator.
func (o *OIDC) Authenticate(ctx context.Context, token string) (string, error) {
	tok, err := jwt.ParseSigned(token, algs)
	if err != nil {
		return "", errors.New("token is not a signed JWT")
	}
	if len(tok.Headers) != 1 {
		return "", errors.New("token must have one signature")
	}
	keys, err := o.keySet(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return "", err
	}
	var std jwt.Claims
	var extra struct {
		Repository string `json:"repository"`
	}
	verified := false
	for _, k := range keys.Key(tok.Headers[0].KeyID) {
		if err := tok.Claims(k.Key, &std, &extra); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return "", errors.New("token signature does not verify with the issuer's keys")
	}
	aud := o.Audience
	if aud == "" {
		aud = Audience
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: o.Issuer, AnyAudience: jwt.Audience{aud}, Time: time.Now()}, time.Minute); err != nil {
		return "", fmt.Errorf("token claims: %w", err)
	}
	if extra.Repository == "" {
		return "", errors.New("token has no repository claim")
	}
	return extra.Repository, nil
}

// keySet returns the cached key set, fetching it again when it is old or
// lacks kid (keys rotate).
func (o *OIDC) keySet(ctx context.Context, kid string) (*jose.JSONWebKeySet, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys != nil && time.Since(o.fetched) < 10*time.Minute && (kid == "" || len(o.keys.Key(kid)) > 0) {
		return o.keys, nil
	}
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS URL %q: %w", o.JWKSURL, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: %s", o.JWKSURL, resp.Status)
	}
	var ks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&ks); err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", o.JWKSURL, err)
	}
	o.keys, o.fetched = &ks, time.Now()
	return o.keys, nil
}

// bearer extracts the token of an Authorization header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// DiscoverJWKS reads jwks_uri from the issuer's OpenID discovery document.
func DiscoverJWKS(ctx context.Context, hc *http.Client, issuer string) (string, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("issuer %q: %w", issuer, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("OIDC discovery: %w", err)
	}
	defer resp.Body.Close()
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("OIDC discovery %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.JWKSURI == "" {
		return "", fmt.Errorf("OIDC discovery %s: no jwks_uri", u)
	}
	return doc.JWKSURI, nil
}
