package main

import (
	"context"
	"flag"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/oci"
)

// imageAuthHelp describes the credentials registryAuthFlags give, for the
// help of the commands that register them.
const imageAuthHelp = `Image registry credentials: for public.ecr.aws a token from ECR Public
(us-east-1), for ACCOUNT.dkr.ecr.REGION.amazonaws.com one from ECR in
REGION, both with the AWS credentials of the environment (AWS_* variables,
shared files, web identity); for other registries --image-username with
the password in $RELKIT_IMAGE_PASSWORD (or the variable
--image-password-env names), or the Docker config (--image-auth-file, else
$DOCKER_CONFIG/config.json or ~/.docker/config.json). Loopback registries
are spoken to over plain HTTP.`

// registryAuthFlags are the image registry credential flags of the
// commands that push or read images.
type registryAuthFlags struct {
	authFile, username, passwordEnv string
	ecrEndpoint, ecrPublicEndpoint  string
}

func (f *registryAuthFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.authFile, "image-auth-file", "", "Docker config.json `FILE` with credentials for image registries other than ECR (default $DOCKER_CONFIG/config.json or ~/.docker/config.json)")
	fs.StringVar(&f.username, "image-username", "", "image registry `USER` for registries other than ECR, with the password in the variable --image-password-env names")
	fs.StringVar(&f.passwordEnv, "image-password-env", "RELKIT_IMAGE_PASSWORD", "environment `VAR` holding the --image-username password")
	fs.StringVar(&f.ecrEndpoint, "ecr-endpoint", "", "ECR API endpoint `URL` (default: AWS's for the registry's region, or $AWS_ENDPOINT_URL_ECR)")
	fs.StringVar(&f.ecrPublicEndpoint, "ecr-public-endpoint", "", "ECR Public API endpoint `URL` (default: AWS's in us-east-1, or $AWS_ENDPOINT_URL_ECR_PUBLIC)")
}

// keychain checks the flags and returns the credentials they describe.
func (f *registryAuthFlags) keychain(env *cli.Env) (authn.Keychain, error) {
	opts := oci.KeychainOptions{DockerConfig: f.authFile, ECREndpoint: f.ecrEndpoint, ECRPublicEndpoint: f.ecrPublicEndpoint}
	if f.username != "" {
		if f.authFile != "" {
			return nil, cli.Usagef("give --image-username or --image-auth-file, not both")
		}
		opts.Username, opts.Password = f.username, env.Env(f.passwordEnv)
		if opts.Password == "" {
			return nil, cli.Usagef("--image-username %s: $%s is empty: put the password there (or name another variable with --image-password-env)", f.username, f.passwordEnv)
		}
	}
	return oci.Keychain(opts)
}

// readKeychain is keychain for commands that only read images: ECR Public
// is world-readable, so it is read anonymously and verifying a release
// needs no AWS account.
func (f *registryAuthFlags) readKeychain(env *cli.Env) (authn.Keychain, error) {
	kc, err := f.keychain(env)
	if err != nil {
		return nil, err
	}
	return anonymousECRPublic{kc}, nil
}

type anonymousECRPublic struct{ authn.Keychain }

func (k anonymousECRPublic) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k anonymousECRPublic) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == oci.ECRPublicRegistry {
		return authn.Anonymous, nil
	}
	return authn.Resolve(ctx, k.Keychain, r)
}
