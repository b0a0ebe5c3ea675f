package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sign"
	"github.com/relkit/relkit/tools/verify"
)

// Production identity of release signatures: the reusable workflow run by
// GitHub Actions.
const (
	defaultIssuer   = "https://token.actions.githubusercontent.com"
	defaultWorkflow = "relkit/relkit/.github/workflows/release.yaml"
)

// signerFlags select the signer a verification accepts.
type signerFlags struct {
	issuer, identity, workflow, workflowRef string
	sourceRepo, sourceRef                   string
	publicKey, trustedRoot                  string
	builderID                               string
}

// register adds the flags; within publish, which has its own
// --trusted-root, the public key flag is --verify-key.
func (s *signerFlags) register(fs *flag.FlagSet, inPublish bool) {
	fs.StringVar(&s.issuer, "certificate-oidc-issuer", defaultIssuer, "OIDC issuer of the signing certificate")
	fs.StringVar(&s.identity, "certificate-identity", "", "exact certificate identity (default https://github.com/WORKFLOW@WORKFLOW-REF)")
	fs.StringVar(&s.workflow, "workflow", defaultWorkflow, "the signing workflow, OWNER/REPO/PATH")
	fs.StringVar(&s.workflowRef, "workflow-ref", "refs/heads/main", "the git ref of the signing workflow")
	fs.StringVar(&s.sourceRepo, "source-repository", "", "repository the certificate must name as built (default ORG/REPO)")
	fs.StringVar(&s.sourceRef, "source-ref", "", "git ref the certificate must name as built (default refs/tags/TAG)")
	fs.StringVar(&s.builderID, "builder-id", "", "the `ID` SLSA provenance must record as builder.id, e.g. "+provenance.LocalBuilderID+" for a release built outside the release workflow (default: the signing workflow, https://github.com/WORKFLOW@COMMIT or @WORKFLOW-REF; none checked with a public key)")
	keyFlag := "key"
	if inPublish {
		keyFlag = "verify-key"
	}
	fs.StringVar(&s.publicKey, keyFlag, "", "verify key-signed releases with this public key PEM `FILE` instead of a certificate identity")
	if !inPublish {
		fs.StringVar(&s.trustedRoot, "trusted-root", "", "trusted_root.json `FILE` of a private Sigstore instance (default: public good, needs the internet)")
	}
}

func (s *signerFlags) verifier(org, repo string, tag release.Tag) (*sign.Verifier, error) {
	var trusted root.TrustedMaterial
	if s.trustedRoot != "" {
		tr, err := root.NewTrustedRootFromPath(s.trustedRoot)
		if err != nil {
			return nil, fmt.Errorf("trusted root %s: %w", s.trustedRoot, err)
		}
		trusted = tr
	} else {
		inst, err := sign.PublicGood()
		if err != nil {
			return nil, fmt.Errorf("%w (offline? pass --trusted-root)", err)
		}
		trusted = inst.TrustedRoot
	}
	if s.publicKey != "" {
		pemBytes, err := os.ReadFile(s.publicKey)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", s.publicKey, err)
		}
		return sign.NewVerifier(trusted, sign.Policy{PublicKey: pub})
	}
	p := sign.Policy{Issuer: s.issuer, Identity: s.identity, Repository: s.sourceRepo, Ref: s.sourceRef}
	if p.Identity == "" {
		p.Identity = "https://github.com/" + s.workflow + "@" + s.workflowRef
	}
	if p.Repository == "" {
		p.Repository = org + "/" + repo
	}
	if p.Ref == "" {
		p.Ref = tag.Ref()
	}
	return sign.NewVerifier(trusted, p)
}

// builder returns the builder.id policy of SLSA provenance: --builder-id,
// else the signing workflow. A public key names no workflow, so with one
// only --builder-id is checked.
func (s *signerFlags) builder() *verify.Builder {
	switch {
	case s.builderID != "":
		return &verify.Builder{ID: s.builderID}
	case s.publicKey != "":
		return nil
	}
	return &verify.Builder{Workflow: s.workflow, Ref: s.workflowRef}
}

func verifyCmd() *cli.Command {
	var (
		signer          signerFlags
		auth            registryAuthFlags
		baseURL, prefix string
		asJSON          bool
		jobs            int
		fs              *flag.FlagSet
	)
	return &cli.Command{
		Name:    "verify",
		Args:    "ORG/REPO TAG --base-url URL [flags]",
		Summary: "check a published release: hashes, checksums, signatures, attestations",
		Help: `Downloads BASE-URL/[PREFIX/]releases/ORG/REPO/TAG/manifest.json and checks,
for every asset (installers and the checksums file included):
  - sha256 and size against the manifest and the checksums file;
  - the Sigstore signature bundle (<file>.sigstore.json), and that <file>.sig
    and <file>.cert are the bundle's;
  - every attestation bundle the manifest lists (attestations[].bundleHref),
    bound to the downloaded bytes; every asset must have SLSA provenance;
and that the checksums file lists exactly the other assets, the manifest
names ORG/REPO TAG, and the manifest's own signature verifies.

For every image in the manifest (images.ecrPublic, images.lambda-arm64): the
registry has its digest, its tag (VER, VER-arm64 for the Lambda image)
still names that digest, and SLSA provenance, an SPDX SBOM and a cosign
signature are attached to it as OCI referrers (or under the sha256-<hex>
tag), each verifying for the same signer with the image digest as subject.

Signatures must come from the exact workflow identity (issuer + workflow +
ref), and the certificate must name ORG/REPO as the source repository and
refs/tags/TAG as the ref. Every SLSA provenance must name the release
workflow as its builder.id: https://github.com/WORKFLOW@COMMIT, COMMIT
being the workflow commit the signing certificate names (or
@WORKFLOW-REF). A release built outside the release workflow records
relkit's local builder, ` + provenance.LocalBuilderID + `,
and fails unless --builder-id names it, as the tests and the example of
the local stack do. Downloads run in parallel.

` + imageAuthHelp + `
Verify reads public.ecr.aws anonymously: its images are public.

Exit status 0 means every check passed, 1 that one failed; each failure
names the asset or image, the check and the reason; --json lists them.

Example:
  relkit verify ConductorOne/baton-foo v1.2.3 --base-url https://dist.example.com \
    --workflow-ref refs/tags/v1.4.0`,
		Flags: func(f *flag.FlagSet) {
			fs = f
			fs.StringVar(&baseURL, "base-url", "", "public download root the release was published under (required)")
			fs.StringVar(&prefix, "prefix", "", "key prefix the release was published under")
			fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
			fs.IntVar(&jobs, "jobs", 8, "parallel downloads")
			signer.register(fs, false)
			auth.register(fs)
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			// Flags may also follow the two arguments.
			if len(args) > 2 {
				if err := fs.Parse(args[2:]); err != nil {
					return cli.Usagef("%v", err)
				}
				args = append(args[:2:2], fs.Args()...)
			}
			if len(args) != 2 {
				return cli.Usagef("want ORG/REPO TAG, got %d arguments", len(args))
			}
			org, repo, ok := strings.Cut(args[0], "/")
			if !ok {
				return cli.Usagef("%q: want ORG/REPO, e.g. ConductorOne/baton-foo", args[0])
			}
			tag, err := release.ParseTag(args[1])
			if err != nil {
				return cli.Usagef("%v", err)
			}
			if err := cli.Required(map[string]string{"base-url": baseURL}); err != nil {
				return err
			}
			kc, err := auth.readKeychain(env)
			if err != nil {
				return err
			}
			v, err := signer.verifier(org, repo, tag)
			if err != nil {
				return err
			}
			url := manifestURL(baseURL, prefix, org, repo, tag)
			rep, err := verify.Release(ctx, verify.Options{ManifestURL: url, Org: org, Repo: repo, Tag: tag.String(),
				Verifier: v, Builder: signer.builder(), Keychain: kc, Jobs: jobs})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := rep.WriteText(env.Stdout); err != nil {
				return err
			}
			if !rep.OK() {
				return errors.New(failureSummary(rep))
			}
			return nil
		},
	}
}

func manifestURL(baseURL, prefix, org, repo string, tag release.Tag) string {
	parts := []string{strings.TrimSuffix(baseURL, "/")}
	if p := strings.Trim(prefix, "/"); p != "" {
		parts = append(parts, p)
	}
	return strings.Join(append(parts, "releases", org, repo, tag.String(), "manifest.json"), "/")
}

func failureSummary(rep *verify.Report) string {
	for _, c := range rep.Checks {
		if !c.OK {
			more := ""
			if rep.Failed > 1 {
				more = fmt.Sprintf(" (and %d more failures)", rep.Failed-1)
			}
			return fmt.Sprintf("%d of %d checks failed: %s: %s: %s%s", rep.Failed, rep.Passed+rep.Failed, c.Asset, c.Check, c.Reason, more)
		}
	}
	return "verification failed"
}
