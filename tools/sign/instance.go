package sign

import (
	"context"
	"fmt"
	"net/http"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sigsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// Instance is one Sigstore deployment: the trusted root that verifies what
// its services issue, and the signing config that lists those services.
type Instance struct {
	TrustedRoot   *root.TrustedRoot
	SigningConfig *root.SigningConfig
	// Transport carries requests to Fulcio and the TSA (sigstore-go's
	// Rekor client has its own); nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// LoadInstance reads a private deployment's trusted_root.json and
// signing_config.json (as written by 'cosign trusted-root create' and
// 'cosign signing-config create').
func LoadInstance(trustedRootPath, signingConfigPath string) (*Instance, error) {
	tr, err := root.NewTrustedRootFromPath(trustedRootPath)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", trustedRootPath, err)
	}
	sc, err := root.NewSigningConfigFromPath(signingConfigPath)
	if err != nil {
		return nil, fmt.Errorf("signing config %s: %w", signingConfigPath, err)
	}
	return &Instance{TrustedRoot: tr, SigningConfig: sc}, nil
}

// PublicGood fetches the trusted root and signing config of the public-good
// instance (sigstore.dev) through its TUF repository. It needs the network,
// and caches TUF metadata under the user's home directory.
func PublicGood() (*Instance, error) {
	opts := tuf.DefaultOptions()
	client, err := tuf.New(opts)
	if err != nil {
		return nil, fmt.Errorf("public-good TUF repository %s: %w", opts.RepositoryBaseURL, err)
	}
	tr, err := root.GetTrustedRoot(client)
	if err != nil {
		return nil, fmt.Errorf("public-good trusted root: %w", err)
	}
	sc, err := root.GetSigningConfig(client)
	if err != nil {
		return nil, fmt.Errorf("public-good signing config: %w", err)
	}
	return &Instance{TrustedRoot: tr, SigningConfig: sc}, nil
}

// Timeouts for one request to a service. A Rekor v2 entry waits for the
// next checkpoint, so it gets more time.
const (
	fulcioTimeout = 30 * time.Second
	rekorTimeout  = 90 * time.Second
	tsaTimeout    = 30 * time.Second
	retries       = 2
)

// fulcioURL selects the certificate authority valid at now.
func (in *Instance) fulcioURL(now time.Time) (string, error) {
	s, err := root.SelectService(in.SigningConfig.FulcioCertificateAuthorityURLs(), sigsign.FulcioAPIVersions, now)
	if err != nil {
		return "", fmt.Errorf("signing config: no usable Fulcio: %w", err)
	}
	return s.URL, nil
}

// logs returns a client for each Rekor the signing config asks for.
func (in *Instance) logs(now time.Time) ([]sigsign.Transparency, error) {
	services, err := root.SelectServices(in.SigningConfig.RekorLogURLs(), in.SigningConfig.RekorLogURLsConfig(), sigsign.RekorAPIVersions, now)
	if err != nil {
		return nil, fmt.Errorf("signing config: no usable Rekor: %w", err)
	}
	var logs []sigsign.Transparency
	for _, s := range services {
		logs = append(logs, &rekor{
			url: s.URL,
			log: sigsign.NewRekor(&sigsign.RekorOptions{BaseURL: s.URL, Timeout: rekorTimeout, Retries: retries, Version: s.MajorAPIVersion}),
		})
	}
	return logs, nil
}

// timestampAuthorities returns a client for each TSA the signing config asks for.
func (in *Instance) timestampAuthorities(now time.Time) ([]*sigsign.TimestampAuthority, error) {
	services, err := root.SelectServices(in.SigningConfig.TimestampAuthorityURLs(), in.SigningConfig.TimestampAuthorityURLsConfig(), sigsign.TimestampAuthorityAPIVersions, now)
	if err != nil {
		return nil, fmt.Errorf("signing config: no usable timestamp authority: %w", err)
	}
	var tsas []*sigsign.TimestampAuthority
	for _, s := range services {
		tsas = append(tsas, sigsign.NewTimestampAuthority(&sigsign.TimestampAuthorityOptions{
			URL: s.URL, Timeout: tsaTimeout, Retries: retries, Transport: in.Transport,
		}))
	}
	return tsas, nil
}

// rekor names the log in errors: sigstore-go's own errors do not.
type rekor struct {
	url string
	log sigsign.Transparency
}

func (r *rekor) GetTransparencyLogEntry(ctx context.Context, keyOrCertPEM []byte, b *protobundle.Bundle) error {
	if err := r.log.GetTransparencyLogEntry(ctx, keyOrCertPEM, b); err != nil {
		return fmt.Errorf("rekor %s: %w", r.url, err)
	}
	return nil
}
