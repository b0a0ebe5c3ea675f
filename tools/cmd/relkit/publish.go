package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/notify"
	"github.com/relkit/relkit/tools/publish"
	"github.com/relkit/relkit/tools/registryapi"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/s3store"
	"github.com/relkit/relkit/tools/sign"
	"github.com/relkit/relkit/tools/verify"
)

func publishCmd() *cli.Command {
	var (
		configFile                        string
		dir, org, repo, tag, baseURL      string
		bucket, prefix, endpoint, region  string
		pathStyle                         bool
		workDir, owner                    string
		jobs                              int
		lockTTL                           time.Duration
		signing, tokenFile, keyFile       string
		keyEnv, passwordEnv               string
		trustedRoot, signingConfig        string
		registryURL, registryTokenFile    string
		commit, runID, docs, changelog    string
		configSchema, capabilities, relAt string
		doVerify, asJSON                  bool
		imageRepo, lambdaRepo             string
		signer                            signerFlags
		auth                              registryAuthFlags
		codesigning                       codesignFlags
		n                                 notifyFlags
		fs                                *flag.FlagSet
	)
	return &cli.Command{
		Name:    "publish",
		Args:    "--dir DIR --org ORG --repo REPO --tag TAG --bucket B --base-url URL [flags]",
		Summary: "sign, upload write-once to S3, record and verify a built release",
		Help: `Publishes the release tree DIR (as 'bazel build //:release' writes it) in
this order, each step named in errors:

  check tree, check published, lock, stage (copy DIR to --work-dir),
  codesign, prepare images, sign, check signed tree, upload artifacts and
  side files, upload the checksums file, push images, upload manifest.json's
  signature files and then manifest.json, record in the registry API, verify
  what was published.

Objects go to s3://BUCKET/[PREFIX/]releases/ORG/REPO/TAG/ and are served at
BASE-URL/[PREFIX/]releases/ORG/REPO/TAG/. Every PUT is conditional
(If-None-Match: *): an object already there with the same sha256 is skipped,
so a re-run after a failure resumes; different bytes are an error naming the
key. A release whose manifest.json is in the bucket is complete: publishing
it again uploads nothing and says so. A lock object keeps two publishes of
one tag apart. Uploads run in parallel (multipart for large files) with a
progress bar on a terminal.

Every flag can also be set by the environment variable RELKIT_<FLAG> (e.g.
RELKIT_S3_ENDPOINT) or by a line 'flag-name = value' in --config FILE; flags
win over the environment, which wins over the file.

Images: when DIR has images/ (oci_image_attested) and --image-repository
is given, the manifest lists them (images.ecrPublic and images.lambda-arm64:
ref, digest, tag, uri, isIndex) and is signed with them. Each image gets a
SLSA provenance and an SPDX SBOM attestation and a cosign signature, all
Sigstore bundles whose subject is the image digest. The index is pushed to
--image-repository as VER (and latest when VER is the newest final
release), the Lambda image to --lambda-repository as VER-arm64, each with
its bundles as OCI 1.1 referrers (the sha256-<hex> tag on registries
without the referrers API), before manifest.json. Pushing again changes
nothing; a re-run reuses the bundles already attached.

` + imageAuthHelp + `

` + codesignHelp + `

Signing (--sign): keyless (Fulcio certificate from an OIDC token: GitHub
Actions or --identity-token-file), key (--signing-key/--signing-key-env), or
none (DIR is already signed). With --verify (the default), manifest.json's
signature must pass the identity check of the verify step before anything
is uploaded, so an identity token for another repository or ref (a release
workflow started from a branch) fails with nothing published.
Registry: --registry-url; the token is read from
--registry-token-file, else $REGISTRY_API_TOKEN, else GitHub Actions OIDC
with audience connector-registry. On failure an alert goes to
--notify-webhook and/or Datadog (--notify-datadog); it never changes the
exit status.

Example (the local stack):
  relkit publish --dir dist/releases/ConductorOne/baton-example/v0.1.0 \
    --org ConductorOne --repo baton-example --tag v0.1.0 \
    --bucket relkit-dist --base-url http://127.0.0.1:7070/relkit-dist \
    --s3-endpoint http://127.0.0.1:7070 --s3-path-style \
    --trusted-root trusted_root.json --signing-config signing_config.json \
    --image-repository 127.0.0.1:5000/conductorone/baton-example \
    --lambda-repository 127.0.0.1:5000/lambda/baton-example \
    --registry-url http://127.0.0.1:8090 --commit $(git rev-parse HEAD) --workflow-run-id 1`,
		Flags: func(f *flag.FlagSet) {
			fs = f
			f.StringVar(&configFile, "config", "", "read flag defaults from `FILE` ('flag-name = value' lines)")
			f.StringVar(&dir, "dir", "", "the built release tree (required)")
			f.StringVar(&org, "org", "", "repository owner, e.g. ConductorOne (required)")
			f.StringVar(&repo, "repo", "", "repository name (required)")
			f.StringVar(&tag, "tag", "", "release tag, e.g. v1.2.3 (required)")
			f.StringVar(&baseURL, "base-url", "", "public download root the manifest's URLs start with (required)")
			f.StringVar(&bucket, "bucket", "", "S3 bucket (required)")
			f.StringVar(&prefix, "prefix", "", "key prefix inside the bucket")
			f.StringVar(&endpoint, "s3-endpoint", "", "S3 API `URL` (default AWS)")
			f.StringVar(&region, "s3-region", "us-west-2", "S3 region")
			f.BoolVar(&pathStyle, "s3-path-style", false, "address the bucket as ENDPOINT/BUCKET (local servers)")
			f.StringVar(&workDir, "work-dir", "", "staging directory, kept for re-runs (default $TMPDIR/relkit-publish/ORG/REPO/TAG)")
			f.StringVar(&owner, "owner", "", "who holds the lock, e.g. the CI run URL (default host and pid)")
			f.IntVar(&jobs, "jobs", 8, "uploads in flight")
			f.DurationVar(&lockTTL, "lock-ttl", 30*time.Minute, "how long a lock of a vanished publish blocks others")
			f.StringVar(&signing, "sign", "keyless", "signing mode: keyless, key or none")
			f.StringVar(&tokenFile, "identity-token-file", "", "keyless: OIDC identity token `FILE` (default GitHub Actions)")
			f.StringVar(&keyFile, "signing-key", "", "key mode: ECDSA P-256 private key PEM `FILE`")
			f.StringVar(&keyEnv, "signing-key-env", "", "key mode: environment variable `NAME` holding the private key PEM")
			f.StringVar(&passwordEnv, "key-password-env", "RELKIT_KEY_PASSWORD", "environment variable `NAME` holding the key's password")
			f.StringVar(&trustedRoot, "trusted-root", "", "trusted_root.json `FILE` of a private Sigstore instance")
			f.StringVar(&signingConfig, "signing-config", "", "signing_config.json `FILE` of a private Sigstore instance")
			f.StringVar(&registryURL, "registry-url", "", "registry API root `URL`; empty skips recording")
			f.StringVar(&registryTokenFile, "registry-token-file", "", "registry bearer token `FILE`")
			f.StringVar(&commit, "commit", "", "the verified tag commit (with --registry-url)")
			f.StringVar(&runID, "workflow-run-id", "", "CI run id for the registry (default $GITHUB_RUN_ID)")
			f.StringVar(&docs, "docs", "", "documentation `FILE` for the registry, e.g. docs/connector.mdx")
			f.StringVar(&changelog, "changelog", "", "changelog `FILE` for the registry")
			f.StringVar(&configSchema, "config-schema", "", "config_schema.json `FILE` for the registry")
			f.StringVar(&capabilities, "capabilities", "", "baton_capabilities.json `FILE` for the registry")
			f.StringVar(&relAt, "released-at", "", "release time for the registry, RFC 3339 (default: the registry's clock)")
			f.StringVar(&imageRepo, "image-repository", "", "`REGISTRY/REPOSITORY` of the multi-platform image, e.g. public.ecr.aws/conductorone/baton-foo; empty pushes no images")
			f.StringVar(&lambdaRepo, "lambda-repository", "", "`REGISTRY/REPOSITORY` of the Lambda image, e.g. ACCOUNT.dkr.ecr.us-west-2.amazonaws.com/baton-foo")
			f.BoolVar(&doVerify, "verify", true, "verify the published release (identity flags and --builder-id as for 'relkit verify')")
			f.BoolVar(&asJSON, "json", false, "print the report as JSON on stdout")
			signer.register(f, true)
			auth.register(f)
			codesigning.register(f)
			n.register(f)
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) (err error) {
			if len(args) != 0 {
				return cli.Usagef("unexpected arguments %q; the tree is given with --dir", args)
			}
			if err := applyDefaults(fs, env, configFile); err != nil {
				return err
			}
			if err := cli.Required(map[string]string{"dir": dir, "org": org, "repo": repo, "tag": tag, "bucket": bucket, "base-url": baseURL}); err != nil {
				return err
			}
			t, err := release.ParseTag(tag)
			if err != nil {
				return cli.Usagef("--tag: %v", err)
			}
			defer func() {
				if err != nil {
					n.send(ctx, env, notify.Failure{Org: org, Repo: repo, Tag: tag, Messages: []string{"publish: " + err.Error()}})
				}
			}()
			store, err := s3store.New(ctx, s3store.Config{Bucket: bucket, Endpoint: endpoint, Region: region, PathStyle: pathStyle})
			if err != nil {
				return err
			}
			kc, err := auth.keychain(env)
			if err != nil {
				return err
			}
			o := publish.Options{
				Dir: dir, Org: org, Repo: repo, Tag: tag, BaseURL: baseURL, Prefix: prefix, WorkDir: workDir,
				Store: store, Jobs: jobs, LockTTL: lockTTL, Owner: owner,
				Progress: publish.NewProgress(env.Stderr), Log: prefixed{env, ""},
				Images: publish.ImageOptions{Repository: imageRepo, LambdaRepository: lambdaRepo, Keychain: kc},
			}
			if o.Owner == "" {
				host, _ := os.Hostname()
				o.Owner = fmt.Sprintf("relkit publish on %s (pid %d)", host, os.Getpid())
			}
			if o.Codesign, err = codesigning.options(env); err != nil {
				return err
			}
			if o.Signer, err = publishSigner(env, signing, tokenFile, keyFile, keyEnv, passwordEnv, trustedRoot, signingConfig); err != nil {
				return err
			}
			if registryURL != "" {
				if o.Registry, o.RegistryMeta, err = registryClient(env, registryURL, registryTokenFile, commit, runID, docs, changelog, configSchema, capabilities, relAt); err != nil {
					return err
				}
			}
			if doVerify {
				if signing == "key" && signer.publicKey == "" {
					return cli.Usagef("--sign key with --verify needs the public key: give --verify-key PUBLIC.pem, or --verify=false")
				}
				signer.trustedRoot = trustedRoot
				v, err := signer.verifier(org, repo, t)
				if err != nil {
					return err
				}
				o.CheckSignature = func(data, b []byte) error {
					bundle, err := sign.ReadBundle(b)
					if err != nil {
						return err
					}
					return v.VerifyBlob(bundle, data)
				}
				o.Verify = func(ctx context.Context, url string) error {
					rep, err := verify.Release(ctx, verify.Options{ManifestURL: url, Org: org, Repo: repo, Tag: tag,
						Verifier: v, Builder: signer.builder(), Keychain: kc, Jobs: jobs})
					if err != nil {
						return err
					}
					if !rep.OK() {
						_ = rep.WriteText(env.Stderr)
						return errors.New(failureSummary(rep))
					}
					fmt.Fprintf(env.Stderr, "publish: verified %s: %d checks passed\n", url, rep.Passed)
					return nil
				}
			}
			rep, err := publish.Run(ctx, o)
			if err != nil {
				return err
			}
			if rep.AlreadyPublished {
				fmt.Fprintf(env.Stderr, "publish: already published: %s (nothing uploaded)\n", rep.ManifestURL)
			} else {
				fmt.Fprintf(env.Stderr, "publish: %s: %d objects uploaded, %d already there\n", rep.ManifestURL, len(rep.Uploaded), len(rep.Skipped))
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			fmt.Fprintln(env.Stdout, rep.ManifestURL)
			return nil
		},
	}
}

// applyDefaults sets every flag not given on the command line from
// RELKIT_<FLAG>, then from the config file.
func applyDefaults(fs *flag.FlagSet, env *cli.Env, configFile string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["config"] {
		if v := env.Env(publish.EnvName("config")); v != "" {
			configFile = v
		}
	}
	file := map[string]string{}
	if configFile != "" {
		f, err := os.Open(configFile)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		file, err = publish.ParseConfig(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("config %s: %w", configFile, err)
		}
		for k := range file {
			if fs.Lookup(k) == nil || k == "config" {
				return fmt.Errorf("config %s: unknown setting %q; settings are publish's flag names", configFile, k)
			}
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" {
			return
		}
		v, from := env.Env(publish.EnvName(f.Name)), publish.EnvName(f.Name)
		if v == "" {
			v, from = file[f.Name], configFile
		}
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, cli.Usagef("%s: %s: %v", from, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// treeSigner adapts the sign package to the publish pipeline. The
// signer (and its token) is made when the sign step first needs it, once
// for the tree and the images: a release published before needs none.
type treeSigner struct {
	env       *cli.Env
	newSigner func(ctx context.Context) (sign.Signer, error)
	signer    sign.Signer
}

func (t *treeSigner) get(ctx context.Context) (sign.Signer, error) {
	if t.signer == nil {
		s, err := t.newSigner(ctx)
		if err != nil {
			return nil, err
		}
		t.signer = s
	}
	return t.signer, nil
}

func (t *treeSigner) SignTree(ctx context.Context, dir string) error {
	s, err := t.get(ctx)
	if err != nil {
		return err
	}
	rep, err := sign.SignTree(ctx, dir, s, sign.TreeOptions{Progress: prefixed{t.env, "sign: "}})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.env.Stderr, "sign: %d files written, %d kept\n", len(rep.Written), len(rep.Kept))
	return nil
}

func (t *treeSigner) SignAttestations(ctx context.Context, dir string, atts []sign.Attestation) error {
	s, err := t.get(ctx)
	if err != nil {
		return err
	}
	rep, err := sign.SignAttestations(ctx, dir, s, atts, sign.TreeOptions{Progress: prefixed{t.env, "sign: image "}})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.env.Stderr, "sign: %d image bundles written, %d kept\n", len(rep.Written), len(rep.Kept))
	return nil
}

func publishSigner(env *cli.Env, mode, tokenFile, keyFile, keyEnv, passwordEnv, trustedRoot, signingConfig string) (publish.Signer, error) {
	if (trustedRoot == "") != (signingConfig == "") && mode != "none" {
		return nil, cli.Usagef("give --trusted-root and --signing-config together (a private Sigstore instance), or neither (public good)")
	}
	var newSigner func(ctx context.Context) (sign.Signer, error)
	switch mode {
	case "none":
		return nil, nil
	case "keyless":
		newSigner = func(ctx context.Context) (sign.Signer, error) {
			inst, err := instance(trustedRoot, signingConfig)
			if err != nil {
				return nil, err
			}
			return keylessSigner(ctx, env, tokenFile, inst)
		}
	case "key":
		if (keyFile == "") == (keyEnv == "") {
			return nil, cli.Usagef("--sign key needs one of --signing-key or --signing-key-env")
		}
		newSigner = func(ctx context.Context) (sign.Signer, error) {
			inst, err := instance(trustedRoot, signingConfig)
			if err != nil {
				return nil, err
			}
			return keySigner(env, keyFile, keyEnv, passwordEnv, inst)
		}
	default:
		return nil, cli.Usagef("--sign %q: want keyless, key or none", mode)
	}
	return &treeSigner{env: env, newSigner: newSigner}, nil
}

func registryClient(env *cli.Env, url, tokenFile, commit, runID, docs, changelog, schema, caps, relAt string) (*registryapi.Client, registryapi.Metadata, error) {
	var md registryapi.Metadata
	md.CommitSHA = commit
	md.WorkflowRunID = runID
	if md.WorkflowRunID == "" {
		md.WorkflowRunID = env.Env("GITHUB_RUN_ID")
	}
	if err := cli.Required(map[string]string{"commit": md.CommitSHA, "workflow-run-id": md.WorkflowRunID}); err != nil {
		return nil, md, cli.Usagef("--registry-url needs --commit and --workflow-run-id (%v)", err)
	}
	if relAt != "" {
		t, err := time.Parse(time.RFC3339, relAt)
		if err != nil {
			return nil, md, cli.Usagef("--released-at %q: want RFC 3339, e.g. 2026-05-06T17:37:02Z", relAt)
		}
		md.ReleasedAt = t
	}
	// Optional documents: unreadable ones are left out with a warning.
	for _, d := range []struct {
		path string
		dst  *string
	}{{docs, &md.Documentation}, {changelog, &md.Changelog}, {schema, &md.ConfigSchema}, {caps, &md.Capabilities}} {
		if d.path == "" {
			continue
		}
		b, err := os.ReadFile(d.path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "publish: warning: %v; not sent to the registry\n", err)
			continue
		}
		*d.dst = string(b)
	}
	token := func(ctx context.Context) (string, error) {
		switch {
		case tokenFile != "":
			b, err := os.ReadFile(tokenFile)
			if err != nil {
				return "", err
			}
			return strings.TrimSpace(string(b)), nil
		case env.Env("REGISTRY_API_TOKEN") != "":
			return env.Env("REGISTRY_API_TOKEN"), nil
		case env.Env("ACTIONS_ID_TOKEN_REQUEST_URL") != "":
			return sign.GitHubActionsToken(ctx, nil, env.Env("ACTIONS_ID_TOKEN_REQUEST_URL"), env.Env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), registryapi.Audience)
		}
		return "", errors.New("no registry token: give --registry-token-file, set REGISTRY_API_TOKEN, or run in GitHub Actions with 'permissions: id-token: write'")
	}
	return &registryapi.Client{BaseURL: url, Token: token, Log: prefixed{env, "publish: "}}, md, nil
}
