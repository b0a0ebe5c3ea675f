package oci

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	dockertypes "github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// ECRPublicRegistry is the host of Amazon ECR Public.
const ECRPublicRegistry = "public.ecr.aws"

// ecrPublicRegion is the only region with the ECR Public API.
const ecrPublicRegion = "us-east-1"

// tokenMargin is how long before its expiry a token is replaced, so a
// push never starts with a token about to lapse.
const tokenMargin = 5 * time.Minute

// ecrHost matches private ECR registries and captures the region:
// ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn].
var ecrHost = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// KeychainOptions says where registry credentials come from.
type KeychainOptions struct {
	// DockerConfig is a Docker config.json (as written by 'docker login').
	// Empty means $DOCKER_CONFIG/config.json or ~/.docker/config.json.
	DockerConfig string
	// Username and Password, when Username is set, are used for every
	// registry other than ECR, instead of the Docker config.
	Username, Password string
	// AWS is the configuration for ECR's GetAuthorizationToken calls. Nil
	// means the default chain (environment, shared files, web identity),
	// loaded when an ECR registry is first used.
	AWS *aws.Config
	// ECREndpoint and ECRPublicEndpoint replace the AWS API endpoints of
	// ECR and ECR Public (e.g. VPC endpoints, or a test server).
	ECREndpoint, ECRPublicEndpoint string
}

// Keychain returns the credentials for pushing: for public.ecr.aws a token
// from ECR Public's GetAuthorizationToken (us-east-1), for
// ACCOUNT.dkr.ecr.REGION.amazonaws.com one from ECR's in REGION, and for
// any other registry the basic credentials of opts or else the Docker
// config (anonymous when it has none). ECR tokens are fetched when first
// needed and reused until shortly before they expire.
func Keychain(opts KeychainOptions) (authn.Keychain, error) {
	var other authn.Keychain = authn.DefaultKeychain
	switch {
	case opts.Username != "":
		if opts.Password == "" {
			return nil, fmt.Errorf("registry user %q has an empty password", opts.Username)
		}
		other = basicKeychain{&authn.Basic{Username: opts.Username, Password: opts.Password}}
	case opts.DockerConfig != "":
		f, err := os.Open(opts.DockerConfig)
		if err != nil {
			return nil, fmt.Errorf("registry auth file: %w", err)
		}
		defer f.Close()
		cf, err := dockerconfig.LoadFromReader(f)
		if err != nil {
			return nil, fmt.Errorf("registry auth file %s: not a Docker config.json: %w", opts.DockerConfig, err)
		}
		other = dockerKeychain{cf: cf}
	}
	return &keychain{ecr: newECRTokens(opts), other: other}, nil
}

// keychain sends ECR hosts to AWS and every other host to other.
type keychain struct {
	ecr   *ecrTokens
	other authn.Keychain
}

func (k *keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k *keychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	host := r.RegistryStr()
	if host == ECRPublicRegistry {
		return &ecrAuth{tokens: k.ecr, host: host, public: true, region: ecrPublicRegion}, nil
	}
	if m := ecrHost.FindStringSubmatch(host); m != nil {
		return &ecrAuth{tokens: k.ecr, host: host, region: m[1]}, nil
	}
	return authn.Resolve(ctx, k.other, r)
}

// basicKeychain gives the same credentials for every registry.
type basicKeychain struct{ auth authn.Authenticator }

func (b basicKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return b.auth, nil }

// dockerKeychain reads a given Docker config the way authn.DefaultKeychain
// reads the default one: an entry for the repository, else for the host.
type dockerKeychain struct{ cf *configfile.ConfigFile }

func (d dockerKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	var empty dockertypes.AuthConfig
	for _, key := range []string{r.String(), r.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		c, err := d.cf.GetAuthConfig(key)
		if err != nil {
			return nil, fmt.Errorf("registry auth file: credentials for %s: %w", key, err)
		}
		c.ServerAddress = "" // set by GetAuthConfig; not a credential
		if c != empty {
			return authn.FromConfig(authn.AuthConfig{
				Username:      c.Username,
				Password:      c.Password,
				Auth:          c.Auth,
				IdentityToken: c.IdentityToken,
				RegistryToken: c.RegistryToken,
			}), nil
		}
	}
	return authn.Anonymous, nil
}

// ecrTokens fetches and caches ECR and ECR Public authorization tokens,
// one per API and region.
type ecrTokens struct {
	opts KeychainOptions
	now  func() time.Time

	awsOnce sync.Once
	aws     aws.Config
	awsErr  error

	mu    sync.Mutex
	cache map[string]ecrToken // "ecr/REGION" or "ecr-public"
}

type ecrToken struct {
	user, password string
	expires        time.Time
}

func newECRTokens(opts KeychainOptions) *ecrTokens {
	return &ecrTokens{opts: opts, now: time.Now, cache: map[string]ecrToken{}}
}

// awsConfig loads the AWS configuration once, on first use, so pushing to
// other registries needs no AWS setup.
func (t *ecrTokens) awsConfig(ctx context.Context) (aws.Config, error) {
	t.awsOnce.Do(func() {
		if t.opts.AWS != nil {
			t.aws = t.opts.AWS.Copy()
			return
		}
		t.aws, t.awsErr = config.LoadDefaultConfig(ctx)
		if t.awsErr != nil {
			t.awsErr = fmt.Errorf("load AWS configuration: %w", t.awsErr)
		}
	})
	return t.aws, t.awsErr
}

// token returns a valid token for the ECR Public API (public) or the ECR
// API of region, fetching a new one when there is none or it is about to
// expire. The lock is held while fetching so concurrent uploads share one
// call.
func (t *ecrTokens) token(ctx context.Context, public bool, region string) (ecrToken, error) {
	key := "ecr/" + region
	if public {
		key = "ecr-public"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok, ok := t.cache[key]; ok && t.now().Add(tokenMargin).Before(tok.expires) {
		return tok, nil
	}
	cfg, err := t.awsConfig(ctx)
	if err != nil {
		return ecrToken{}, err
	}
	var encoded *string
	var expires *time.Time
	if public {
		out, err := ecrpublic.NewFromConfig(cfg, func(o *ecrpublic.Options) {
			o.Region = region
			if t.opts.ECRPublicEndpoint != "" {
				o.BaseEndpoint = aws.String(t.opts.ECRPublicEndpoint)
			}
		}).GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
		if err != nil {
			return ecrToken{}, err
		}
		if out.AuthorizationData != nil {
			encoded, expires = out.AuthorizationData.AuthorizationToken, out.AuthorizationData.ExpiresAt
		}
	} else {
		out, err := ecr.NewFromConfig(cfg, func(o *ecr.Options) {
			o.Region = region
			if t.opts.ECREndpoint != "" {
				o.BaseEndpoint = aws.String(t.opts.ECREndpoint)
			}
		}).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		if err != nil {
			return ecrToken{}, err
		}
		if len(out.AuthorizationData) > 0 {
			encoded, expires = out.AuthorizationData[0].AuthorizationToken, out.AuthorizationData[0].ExpiresAt
		}
	}
	tok, err := decodeECRToken(aws.ToString(encoded))
	if err != nil {
		return ecrToken{}, err
	}
	// A token without an expiry is not reused.
	tok.expires = aws.ToTime(expires)
	t.cache[key] = tok
	return tok, nil
}

// decodeECRToken splits base64("USER:PASSWORD"). The token is never put
// in an error.
func decodeECRToken(s string) (ecrToken, error) {
	if s == "" {
		return ecrToken{}, errors.New("the response has no authorization token")
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return ecrToken{}, errors.New("the authorization token is not base64")
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || password == "" {
		return ecrToken{}, errors.New("the authorization token is not USER:PASSWORD")
	}
	return ecrToken{user: user, password: password}, nil
}

// ecrAuth authenticates to one ECR registry with a cached token.
type ecrAuth struct {
	tokens *ecrTokens
	host   string
	public bool
	region string
}

func (a *ecrAuth) Authorization() (*authn.AuthConfig, error) {
	return a.AuthorizationContext(context.Background())
}

func (a *ecrAuth) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	tok, err := a.tokens.token(ctx, a.public, a.region)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s (AWS region %s): %w: check the AWS credentials and their permission to get an authorization token", a.host, a.region, err)
	}
	return &authn.AuthConfig{Username: tok.user, Password: tok.password}, nil
}

// String names the registry, never the token.
func (a *ecrAuth) String() string { return "ECR token for " + a.host }
