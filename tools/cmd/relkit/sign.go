package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/sign"
)

func signCmd() *cli.Command {
	var (
		tokenFile, keyFile, keyEnv, passwordEnv string
		trustedRoot, signingConfig              string
		offline, asJSON                         bool
		jobs                                    int
	)
	return &cli.Command{
		Name:    "sign",
		Args:    "[flags] DIR",
		Summary: "sign a release tree with Sigstore and attest its provenance and SBOMs",
		Help: `Signs the release tree in DIR (as the build writes it: artifacts, the
*_checksums.txt file, provenance.intoto.json, <artifact>.sbom.json, and
manifest.json). It writes, beside each file:

  every artifact, the checksums file, manifest.json:
    <file>.sig                     base64 signature over the file
    <file>.cert                    signing certificate, PEM (keyless only)
    <file>.sigstore.json           Sigstore bundle of that signature
  every subject of provenance.intoto.json:
    <file>.provenance.sigstore.json  DSSE bundle of the statement (https://slsa.dev/provenance/v1)
  every artifact with <file>.sbom.json:
    <file>.sbom.sigstore.json      DSSE bundle of the SPDX document (https://spdx.dev/Document)

Every digest is checked before anything is signed (artifacts against the
checksums file, the statement, the SBOMs and the manifest). Signatures run in
parallel; files are written only when all of them succeeded. Re-running keeps
bundles that still verify for the same bytes and signer.

Keyless (default): one certificate from Fulcio for one ephemeral key covers
the whole run; each signature gets a Rekor v2 entry and an RFC 3161
timestamp. The identity token comes from --identity-token-file, or inside
GitHub Actions from ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (the job needs
'permissions: id-token: write'); its audience must be "sigstore".

Key mode (--key or --key-env): an ECDSA P-256 private key in PEM (PKCS#8,
SEC 1, or cosign's encrypted form with the password in the environment
variable named by --key-password-env). No certificate is written; Rekor and
the TSA are used unless --offline.

Services: by default the public-good instance (sigstore.dev), whose trusted
root and signing config are fetched through its TUF repository (needs the
internet). --trusted-root and --signing-config select a private instance.

Verify with cosign (add --trusted-root FILE for a private instance), binding
the signature to the workflow, the source repository and the tag:
  cosign verify-blob --bundle F.sigstore.json \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com \
    --certificate-identity https://github.com/WF_ORG/WF_REPO/.github/workflows/release.yaml@REF \
    --certificate-github-workflow-repository ORG/R \
    --certificate-github-workflow-ref refs/tags/TAG F
  cosign verify-blob-attestation --bundle F.provenance.sigstore.json \
    --type https://slsa.dev/provenance/v1 (same identity flags) F

Examples:
  relkit sign dist/releases/ConductorOne/baton-foo/v1.2.3
  relkit sign --trusted-root trusted_root.json --signing-config signing_config.json \
    --identity-token-file token.jwt dist/releases/ConductorOne/baton-foo/v1.2.3
  RELKIT_SIGNING_KEY="$(cat cosign.key)" RELKIT_KEY_PASSWORD=... \
    relkit sign --key-env RELKIT_SIGNING_KEY --offline DIR`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&tokenFile, "identity-token-file", "", "keyless: read the OIDC identity token from `FILE` instead of GitHub Actions")
			fs.StringVar(&keyFile, "key", "", "key mode: ECDSA P-256 private key PEM `FILE`")
			fs.StringVar(&keyEnv, "key-env", "", "key mode: environment variable `NAME` holding the private key PEM")
			fs.StringVar(&passwordEnv, "key-password-env", "RELKIT_KEY_PASSWORD", "environment variable `NAME` holding the password of an encrypted key")
			fs.StringVar(&trustedRoot, "trusted-root", "", "trusted_root.json `FILE` of a private Sigstore instance (with --signing-config)")
			fs.StringVar(&signingConfig, "signing-config", "", "signing_config.json `FILE` of a private Sigstore instance (with --trusted-root)")
			fs.BoolVar(&offline, "offline", false, "key mode: no Rekor entry and no timestamp (verify with --insecure-ignore-tlog)")
			fs.IntVar(&jobs, "jobs", sign.DefaultJobs, "signatures in flight at once")
			fs.BoolVar(&asJSON, "json", false, "print the files written, kept and removed as JSON on stdout")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want one release tree DIR, got %d arguments", len(args))
			}
			keyed := keyFile != "" || keyEnv != ""
			switch {
			case keyFile != "" && keyEnv != "":
				return cli.Usagef("--key and --key-env exclude each other")
			case keyed && tokenFile != "":
				return cli.Usagef("--identity-token-file is for keyless signing; drop it or drop --key/--key-env")
			case offline && !keyed:
				return cli.Usagef("--offline needs --key or --key-env: keyless signatures need Rekor and a timestamp")
			case offline && trustedRoot != "":
				return cli.Usagef("--offline uses no Sigstore services: drop --trusted-root and --signing-config")
			case (trustedRoot == "") != (signingConfig == ""):
				return cli.Usagef("give --trusted-root and --signing-config together (a private instance), or neither (public good)")
			case jobs < 1:
				return cli.Usagef("--jobs %d: want at least 1", jobs)
			}
			var inst *sign.Instance
			if !offline {
				var err error
				if inst, err = instance(trustedRoot, signingConfig); err != nil {
					return err
				}
			}
			var s sign.Signer
			var err error
			if keyed {
				s, err = keySigner(env, keyFile, keyEnv, passwordEnv, inst)
			} else {
				s, err = keylessSigner(ctx, env, tokenFile, inst)
			}
			if err != nil {
				return err
			}
			rep, err := sign.SignTree(ctx, args[0], s, sign.TreeOptions{Jobs: jobs, Progress: prefixed{env, "sign: "}})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "sign: %s: %d files written, %d kept, %d removed\n", args[0], len(rep.Written), len(rep.Kept), len(rep.Removed))
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string][]string{"written": nonNil(rep.Written), "kept": nonNil(rep.Kept), "removed": nonNil(rep.Removed)})
			}
			return nil
		},
	}
}

func instance(trustedRoot, signingConfig string) (*sign.Instance, error) {
	if trustedRoot != "" {
		return sign.LoadInstance(trustedRoot, signingConfig)
	}
	inst, err := sign.PublicGood()
	if err != nil {
		return nil, fmt.Errorf("%w (offline? pass --trusted-root and --signing-config of a reachable instance)", err)
	}
	return inst, nil
}

func keylessSigner(ctx context.Context, env *cli.Env, tokenFile string, inst *sign.Instance) (sign.Signer, error) {
	var token string
	var err error
	switch {
	case tokenFile != "":
		token, err = sign.TokenFromFile(tokenFile)
	case env.Env("ACTIONS_ID_TOKEN_REQUEST_URL") != "":
		token, err = sign.GitHubActionsToken(ctx, nil, env.Env("ACTIONS_ID_TOKEN_REQUEST_URL"), env.Env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), sign.Audience)
	default:
		return nil, cli.Usagef("no identity token: run in GitHub Actions with 'permissions: id-token: write', pass --identity-token-file, or sign with --key")
	}
	if err != nil {
		return nil, err
	}
	return sign.NewKeyless(ctx, inst, token)
}

func keySigner(env *cli.Env, keyFile, keyEnv, passwordEnv string, inst *sign.Instance) (sign.Signer, error) {
	var pemBytes []byte
	if keyFile != "" {
		var err error
		if pemBytes, err = os.ReadFile(keyFile); err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
	} else if pemBytes = []byte(env.Env(keyEnv)); len(pemBytes) == 0 {
		return nil, fmt.Errorf("signing key: environment variable %s is empty or unset", keyEnv)
	}
	key, err := sign.ParseKey(pemBytes, []byte(env.Env(passwordEnv)))
	if err != nil {
		return nil, err
	}
	return sign.NewKeySigner(key, sign.KeyOptions{Instance: inst})
}

// prefixed writes each line to stderr with a prefix.
type prefixed struct {
	env    *cli.Env
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			fmt.Fprint(p.env.Stderr, p.prefix+line)
		}
	}
	return len(b), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
