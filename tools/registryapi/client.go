package registryapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// Client records releases in a registry.
type Client struct {
	// BaseURL is the registry's root URL, e.g. https://dist.example.com.
	BaseURL string
	// Token returns the bearer token; it is called for every attempt, so
	// a short-lived OIDC token can be fetched fresh.
	Token func(ctx context.Context) (string, error)
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Attempts bounds tries of one request; 0 means 5.
	Attempts int
	// Backoff is the first retry delay, doubled each retry with full
	// jitter; 0 means one second.
	Backoff time.Duration
	// Log receives one line per retry; nil discards.
	Log io.Writer
}

// Status is the outcome of a recorded release, printed by the CLI.
type Status struct {
	Code    int    `json:"code"`
	Status  string `json:"status"` // "success" or "already_exists"
	Version string `json:"version"`
}

// HTTPError is a refusal by the registry that a retry would not change.
type HTTPError struct {
	Code int
	Body string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("registry API refused the release: HTTP %d: %s", e.Code, e.Body)
}

// Record sends r. A 2xx is success and 409 means the version is already
// recorded, also success. 5xx, 429 and transport errors (timeouts
// included) are retried with exponential backoff and jitter; any other
// answer is an *HTTPError with the response body.
func (c *Client) Record(ctx context.Context, r *Release) (*Status, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("registry request: %w", err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(c.BaseURL, "/") + IngestPath
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	delay := c.Backoff
	if delay <= 0 {
		delay = time.Second
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			wait := time.Duration(rand.Int64N(int64(delay))) + delay/2 // jitter in [d/2, 3d/2)
			if c.Log != nil {
				fmt.Fprintf(c.Log, "registry: %v; retrying in %s (attempt %d of %d)\n", last, wait.Round(time.Millisecond), i+1, attempts)
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("registry: %w (last error: %v)", ctx.Err(), last)
			case <-time.After(wait):
			}
			delay *= 2
		}
		st, retry, err := c.once(ctx, url, body, r.Version)
		if err == nil {
			return st, nil
		}
		if !retry {
			return nil, err
		}
		last = err
	}
	return nil, fmt.Errorf("registry: %s: gave up after %d attempts: %w", url, attempts, last)
}

func (c *Client) once(ctx context.Context, url string, body []byte, version string) (st *Status, retry bool, err error) {
	if c.Token == nil {
		return nil, false, errors.New("registry: no token source")
	}
	token, err := c.Token(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("registry token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("registry URL %q: %w", c.BaseURL, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, err
		}
		var ne net.Error
		return nil, errors.As(err, &ne) || isTransport(err), fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return &Status{Code: code, Status: "success", Version: version}, false, nil
	case code == http.StatusConflict:
		return &Status{Code: code, Status: "already_exists", Version: version}, false, nil
	case code >= 500 || code == http.StatusTooManyRequests:
		return nil, true, &HTTPError{Code: code, Body: strings.TrimSpace(string(text))}
	default:
		return nil, false, &HTTPError{Code: code, Body: strings.TrimSpace(string(text))}
	}
}

// isTransport reports a connection-level failure worth retrying.
func isTransport(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "connection reset")
}
