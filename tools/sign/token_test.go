package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// jwt builds an unsigned token with claims; ParseToken does not verify.
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256"}`)) + "." + enc(body) + "." + enc([]byte("signature"))
}

func TestParseTokenAndCheck(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   string // empty: accepted
	}{
		{"valid", map[string]any{"iss": "https://issuer", "aud": "sigstore", "exp": now.Unix() + 60}, ""},
		{"audience list", map[string]any{"iss": "https://issuer", "aud": []string{"x", "sigstore"}, "exp": now.Unix() + 60}, ""},
		{"expired", map[string]any{"iss": "https://issuer", "aud": "sigstore", "exp": now.Unix() - 90},
			"identity token from https://issuer expired at 2027-01-15T07:58:30Z (1m30s ago)"},
		{"wrong audience", map[string]any{"iss": "https://issuer", "aud": "https://github.com/o", "exp": now.Unix() + 60},
			`has audience ["https://github.com/o"], want "sigstore"`},
		{"no exp", map[string]any{"iss": "https://issuer", "aud": "sigstore"}, "no exp claim"},
		{"no iss", map[string]any{"aud": "sigstore", "exp": now.Unix() + 60}, "no iss claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseToken(jwt(t, tc.claims))
			if err == nil {
				err = c.Check(now)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want the token accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseTokenRejectsNonJWT(t *testing.T) {
	secret := "ghs_notajwt_secretvalue"
	for _, tok := range []string{"", secret, "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"} {
		_, err := ParseToken(tok)
		if err == nil {
			t.Errorf("ParseToken(%q) accepted", tok)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q reveals the token", err)
		}
	}
}

func TestGitHubActionsToken(t *testing.T) {
	const requestToken = "request-token-secret"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "lost the existing query", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"value": "token-for-" + r.URL.Query().Get("audience")})
	}))
	defer srv.Close()
	ctx := context.Background()
	got, err := GitHubActionsToken(ctx, srv.Client(), srv.URL+"/token?api-version=2.0", requestToken, Audience)
	if err != nil || got != "token-for-sigstore" {
		t.Fatalf("GitHubActionsToken() = %q, %v; want token-for-sigstore", got, err)
	}
	_, err = GitHubActionsToken(ctx, srv.Client(), srv.URL+"/token?api-version=2.0", "wrong-secret", Audience)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("with a bad request token: %v; want a 401 error without the token", err)
	}
	_, err = GitHubActionsToken(ctx, srv.Client(), "", "", Audience)
	if err == nil || !strings.Contains(err.Error(), "id-token: write") {
		t.Fatalf("outside Actions: %v; want a hint at the permission", err)
	}
}

func FuzzParseToken(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add("a." + enc([]byte(`{"iss":"i","aud":"sigstore","exp":1}`)) + ".c")
	f.Add("a." + enc([]byte(`{"iss":"i","aud":["a",1],"exp":1e99}`)) + ".c")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := ParseToken(tok)
		if err != nil {
			return
		}
		if c.Issuer == "" || c.Expiry.IsZero() && c.Expiry.Unix() != 0 {
			t.Errorf("accepted claims without issuer or expiry: %+v", c)
		}
		_ = c.Check(time.Unix(0, 0))
	})
}
