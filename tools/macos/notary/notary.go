// Package notary submits files to Apple's notary service (the Notary API,
// https://developer.apple.com/documentation/notaryapi) with an App Store
// Connect API key, and waits for the verdict.
//
// The flow: POST /submissions with the file's SHA-256 returns a submission
// ID and temporary S3 credentials; the file is uploaded to the given bucket
// and object; GET /submissions/{id} is polled until the status is no longer
// "In Progress"; on any other verdict than "Accepted" the log is fetched
// from GET /submissions/{id}/logs (a download URL) and returned in the error.
//
// Apple notarizes zip, dmg and pkg files. A ticket can be stapled to apps,
// dmgs and pkgs, never to a bare command-line binary or a zip: Gatekeeper
// then checks the ticket online the first time the binary runs.
package notary

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Apple's service endpoints.
const (
	DefaultBaseURL = "https://appstoreconnect.apple.com/notary/v2"
	s3Region       = "us-west-2"
)

// NotNotarized is the status of a release made without an API key.
const NotNotarized = "not notarized"

// StapleNote is what users must know about bare binaries.
const StapleNote = "a notarization ticket cannot be stapled to a bare binary or a zip; macOS checks it online the first time the binary runs"

// APIKey is an App Store Connect API key.
type APIKey struct {
	IssuerID string // the team's issuer ID (a UUID)
	KeyID    string // the key's ID (10 characters)
	key      *ecdsa.PrivateKey
}

// ParseAPIKey reads the .p8 file Apple issues (PEM, PKCS#8, P-256).
func ParseAPIKey(issuerID, keyID string, p8 []byte) (*APIKey, error) {
	if issuerID == "" || keyID == "" {
		return nil, errors.New("an App Store Connect API key needs an issuer ID and a key ID")
	}
	block, _ := pem.Decode(p8)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("API key: want the .p8 file's PEM 'PRIVATE KEY' block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("API key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve.Params().Name != "P-256" {
		return nil, errors.New("API key: want an ECDSA P-256 key, as App Store Connect issues")
	}
	return &APIKey{IssuerID: issuerID, KeyID: keyID, key: ec}, nil
}

// Token returns an ES256 JSON Web Token valid from now for 15 minutes
// (Apple accepts at most 20).
func (k *APIKey) Token(now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": k.KeyID, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": k.IssuerID,
		"iat": now.Unix(),
		"exp": now.Add(15 * time.Minute).Unix(),
		"aud": "appstoreconnect-v1",
	})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, k.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS wants r||s, each 32 bytes
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
}

// Client talks to the notary service.
type Client struct {
	Key        *APIKey
	BaseURL    string // DefaultBaseURL when empty
	S3Endpoint string // path-style S3 base URL for tests; empty means AWS
	HTTP       *http.Client
	// Poll is the first wait between status checks; it doubles up to MaxPoll.
	Poll, MaxPoll time.Duration
	// Progress, if set, receives one line per status change.
	Progress io.Writer
	// Now is the clock for tokens; nil means time.Now.
	Now func() time.Time
}

// Result is the outcome of a submission.
type Result struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "Accepted", "Invalid", "Rejected"
	Log    string `json:"log,omitempty"`
}

// Submit uploads data (a zip, dmg or pkg) named name and waits until Apple
// decides or ctx ends; give ctx a deadline as the timeout. A verdict other
// than Accepted is an error that carries the notary log.
func (c *Client) Submit(ctx context.Context, name string, data []byte) (*Result, error) {
	sum := sha256.Sum256(data)
	var created struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				AccessKeyID     string `json:"awsAccessKeyId"`
				SecretAccessKey string `json:"awsSecretAccessKey"`
				SessionToken    string `json:"awsSessionToken"`
				Bucket          string `json:"bucket"`
				Object          string `json:"object"`
			} `json:"attributes"`
		} `json:"data"`
	}
	body, _ := json.Marshal(map[string]string{"submissionName": name, "sha256": hex.EncodeToString(sum[:])})
	if err := c.call(ctx, http.MethodPost, "/submissions", body, &created); err != nil {
		return nil, fmt.Errorf("create submission: %w", err)
	}
	a := created.Data.Attributes
	if created.Data.ID == "" || a.Bucket == "" || a.Object == "" {
		return nil, errors.New("create submission: response lacks the submission ID or upload location")
	}
	c.progress("submission %s created; uploading %s (%d bytes)", created.Data.ID, name, len(data))
	creds := aws.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: a.SecretAccessKey, SessionToken: a.SessionToken}
	if err := c.upload(ctx, creds, a.Bucket, a.Object, data, sum[:]); err != nil {
		return nil, fmt.Errorf("upload submission %s: %w", created.Data.ID, err)
	}
	return c.Wait(ctx, created.Data.ID)
}

// Wait polls a submission with exponential backoff until it leaves
// "In Progress" or ctx ends.
func (c *Client) Wait(ctx context.Context, id string) (*Result, error) {
	poll, maxPoll := c.Poll, c.MaxPoll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	if maxPoll < poll {
		maxPoll = max(poll, time.Minute)
	}
	start, last := time.Now(), ""
	for {
		var st struct {
			Data struct {
				Attributes struct {
					Status string `json:"status"`
				} `json:"attributes"`
			} `json:"data"`
		}
		if err := c.call(ctx, http.MethodGet, "/submissions/"+url.PathEscape(id), nil, &st); err != nil {
			if ctx.Err() != nil {
				return nil, timeoutError(id, last, start, ctx)
			}
			return nil, fmt.Errorf("submission %s status: %w", id, err)
		}
		status := st.Data.Attributes.Status
		if status != last {
			c.progress("submission %s: %s", id, status)
			last = status
		}
		switch status {
		case "In Progress", "":
		case "Accepted":
			return &Result{ID: id, Status: status}, nil
		default:
			res := &Result{ID: id, Status: status}
			log, err := c.Log(ctx, id)
			if err != nil {
				return res, fmt.Errorf("notarization of submission %s: %s (log unavailable: %v)", id, status, err)
			}
			res.Log = log
			return res, fmt.Errorf("notarization of submission %s: %s; Apple's log:\n%s", id, status, log)
		}
		select {
		case <-ctx.Done():
			return nil, timeoutError(id, last, start, ctx)
		case <-time.After(poll):
		}
		poll = min(2*poll, maxPoll)
	}
}

func timeoutError(id, status string, start time.Time, ctx context.Context) error {
	return fmt.Errorf("submission %s still %q after %s (%v); Apple may still finish it: check later with the submission ID",
		id, status, time.Since(start).Round(time.Second), context.Cause(ctx))
}

// Log fetches the notary log of a submission.
func (c *Client) Log(ctx context.Context, id string) (string, error) {
	var lg struct {
		Data struct {
			Attributes struct {
				URL string `json:"developerLogUrl"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, "/submissions/"+url.PathEscape(id)+"/logs", nil, &lg); err != nil {
		return "", err
	}
	if lg.Data.Attributes.URL == "" {
		return "", errors.New("no log URL in the response")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lg.Data.Attributes.URL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("log download: HTTP %d", resp.StatusCode)
	}
	return string(b), nil
}

func (c *Client) call(ctx context.Context, method, path string, body []byte, out any) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	token, err := c.Key.Token(now())
	if err != nil {
		return err
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("App Store Connect refused the API key (HTTP %d): check the issuer ID, key ID and .p8 file, and that the key has access to notarization", resp.StatusCode)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, apiError(b))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: bad response: %w", method, path, err)
	}
	return nil
}

// apiError extracts the first error detail of an App Store Connect error body.
func apiError(b []byte) string {
	var e struct {
		Errors []struct{ Title, Detail string } `json:"errors"`
	}
	if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
		return strings.TrimSpace(e.Errors[0].Title + ": " + e.Errors[0].Detail)
	}
	return strings.TrimSpace(string(b[:min(len(b), 200)]))
}

// upload PUTs data to S3 signed with the submission's temporary credentials.
func (c *Client) upload(ctx context.Context, creds aws.Credentials, bucket, object string, data, sum []byte) error {
	u := fmt.Sprintf("https://%s.s3.%s.amazonaws.com/%s", bucket, s3Region, escapeKey(object))
	if c.S3Endpoint != "" {
		u = strings.TrimSuffix(c.S3Endpoint, "/") + "/" + bucket + "/" + escapeKey(object)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		return err
	}
	payload := hex.EncodeToString(sum)
	req.Header.Set("X-Amz-Content-Sha256", payload)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, payload, "s3", s3Region, time.Now()); err != nil {
		return err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("S3 PUT: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) progress(format string, a ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", a...)
	}
}
