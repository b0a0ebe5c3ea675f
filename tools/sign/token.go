package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Audience is the audience Fulcio accepts in identity tokens.
const Audience = "sigstore"

// Claims are the identity token claims checked before a token is sent to
// Fulcio, so that a stale or misdirected token fails with a clear message
// instead of a server error.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	Expiry   time.Time
}

// ParseToken reads the claims of a JWT without verifying its signature:
// Fulcio verifies it. The error never contains the token.
func ParseToken(token string) (*Claims, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return nil, errors.New("identity token: not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errors.New("identity token: payload is not base64url")
	}
	var raw struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp *json.Number    `json:"exp"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, errors.New("identity token: payload is not a JSON object")
	}
	c := &Claims{Issuer: raw.Iss, Subject: raw.Sub}
	// "aud" is a string or an array of strings (RFC 7519 section 4.1.3).
	if len(raw.Aud) > 0 {
		var one string
		if err := json.Unmarshal(raw.Aud, &one); err == nil {
			c.Audience = []string{one}
		} else if err := json.Unmarshal(raw.Aud, &c.Audience); err != nil {
			return nil, errors.New("identity token: aud is neither a string nor a list of strings")
		}
	}
	if raw.Exp == nil {
		return nil, errors.New("identity token: no exp claim")
	}
	exp, err := raw.Exp.Float64()
	if err != nil || exp < 0 || exp > 1<<40 {
		return nil, errors.New("identity token: exp is not a time in seconds")
	}
	c.Expiry = time.Unix(int64(exp), 0).UTC()
	if c.Issuer == "" {
		return nil, errors.New("identity token: no iss claim")
	}
	return c, nil
}

// Check reports a token that Fulcio would refuse for its audience or
// expiry at now.
func (c *Claims) Check(now time.Time) error {
	ok := false
	for _, a := range c.Audience {
		ok = ok || a == Audience
	}
	if !ok {
		return fmt.Errorf("identity token from %s has audience %q, want %q: request the token with audience=%s", c.Issuer, c.Audience, Audience, Audience)
	}
	if !now.Before(c.Expiry) {
		return fmt.Errorf("identity token from %s expired at %s (%s ago): get a fresh token right before signing", c.Issuer, c.Expiry.Format(time.RFC3339), now.Sub(c.Expiry).Round(time.Second))
	}
	return nil
}

// TokenFromFile reads an identity token from a file.
func TokenFromFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("identity token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("identity token: %s is empty", path)
	}
	return tok, nil
}

// GitHubActionsToken requests an ID token for audience from the GitHub
// Actions runtime, given the job's ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN (present when the workflow grants
// 'id-token: write'). client nil means http.DefaultClient.
func GitHubActionsToken(ctx context.Context, client *http.Client, requestURL, requestToken, audience string) (string, error) {
	if requestURL == "" || requestToken == "" {
		return "", errors.New("GitHub Actions identity token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: give the job 'permissions: id-token: write'")
	}
	u, err := url.Parse(requestURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("GitHub Actions identity token: ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL")
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions identity token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL carries no secret; the request token is only in a header.
		return "", fmt.Errorf("GitHub Actions identity token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("GitHub Actions identity token: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GitHub Actions identity token: %s answered %s", u.Host, resp.Status)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("GitHub Actions identity token: %s answered without a token", u.Host)
	}
	return v.Value, nil
}
