package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sbom"
)

// Layout directories and the digests file under the output of image build.
const (
	imageLayoutDir  = "image"
	lambdaLayoutDir = "lambda"
	imageDigestFile = "images.json"
)

// imageDigests is images.json: the summary of each image built.
type imageDigests struct {
	Image  *oci.Summary `json:"image,omitempty"`
	Lambda *oci.Summary `json:"lambda,omitempty"`
}

func imageBuildCmd() *cli.Command {
	var (
		name, tag, revision, source, description, lambdaDescription string
		created, caCerts, workdir, user, entrypoint, lambdaBinary   string
		out                                                         string
		binaries, bases, lambdaBases, files, envs                   cli.StringList
	)
	return &cli.Command{
		Name:    "image build",
		Args:    "--name NAME --tag TAG --binary OS/ARCH=FILE... [flags] --out DIR",
		Summary: "build reproducible multi-arch and Lambda images as OCI layouts",
		Help: `Builds container images without a container engine and writes them as OCI
image layouts: DIR/image, a multi-platform OCI index with an image for each
--binary, and, with --lambda-binary, DIR/lambda, a single linux/arm64 image
with Docker v2 schema 2 media types (AWS Lambda rejects indexes and OCI
types), with DIR/lambda.sbom.json, the SPDX SBOM of its binary (created at
--created, named NAME as in the image; the index needs none of its own, as
its binaries are the Linux archives'). DIR/images.json, also printed on
stdout, gives their digests.

Each image holds the binary at /NAME (mode 0755, owner 0:0), the --file
files, and runs ["/NAME"] (the Lambda image ["/NAME", "lambda"]). The base
is relkit's default unless --base is given: the --ca-certs bundle as
/etc/ssl/certs/ca-certificates.crt, /etc/passwd and /etc/group with root and
nonroot (65532) and no login shell, /tmp, and user 65532:65532. There is no
shell. A --base is an OCI layout directory or an image tarball pinned by
the digest of its index or manifest; give it once per file, relkit picks the
image for each platform from its configuration.

Labels are the OCI ones: created (= --created), title (NAME), revision,
version (TAG without "v"), source and description. Images are
reproducible: the same inputs give the same digests on any machine.

Example:
  relkit image build --name baton-foo --tag v1.2.3 --created "$(git log -1 --format=%ct)" \
    --revision "$(git rev-parse HEAD)" --source https://github.com/acme/baton-foo \
    --binary linux/amd64=out/linux-amd64/baton-foo --binary linux/arm64=out/linux-arm64/baton-foo \
    --ca-certs third_party/ca-certificates.crt \
    --lambda-binary out/lambda-arm64/baton-foo --out dist/images`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "binary `NAME`, stored at /NAME (required)")
			fs.StringVar(&tag, "tag", "", "release `TAG`, e.g. v1.2.3 (required)")
			fs.Var(&binaries, "binary", "`OS/ARCH=FILE` of the multi-platform image, repeatable (required unless only --lambda-binary)")
			fs.StringVar(&created, "created", "", "creation time in `EPOCH` seconds, normally the commit time (default $SOURCE_DATE_EPOCH)")
			fs.StringVar(&revision, "revision", "", "full commit `SHA` for the revision label")
			fs.StringVar(&source, "source", "", "git `URL` for the source label")
			fs.StringVar(&description, "description", "ConductorOne Baton connector", "description label of the multi-platform image")
			fs.StringVar(&caCerts, "ca-certs", "", "PEM `FILE` of CA certificates for the default base (required without --base)")
			fs.Var(&bases, "base", "base image `PATH@sha256:HEX` (OCI layout directory or tarball), repeatable")
			fs.Var(&files, "file", "extra file `SRC=/DEST`, repeatable")
			fs.Var(&envs, "env", "environment `KEY=VALUE`, repeatable")
			fs.StringVar(&workdir, "workdir", "", "working `DIR` (default: the base's)")
			fs.StringVar(&user, "user", "", "`USER[:GROUP]` to run as (default: 65532:65532 with the default base, else the base's)")
			fs.StringVar(&entrypoint, "entrypoint", "", `entrypoint as a JSON array, e.g. '["/baton-foo","serve"]' (default ["/NAME"])`)
			fs.StringVar(&lambdaBinary, "lambda-binary", "", "linux/arm64 `FILE` built with the baton_lambda_support tag; builds the Lambda image")
			fs.Var(&lambdaBases, "lambda-base", "Lambda base image `PATH@sha256:HEX`, repeatable (default: the default base)")
			fs.StringVar(&lambdaDescription, "lambda-description", "", "description label of the Lambda image (default NAME)")
			fs.StringVar(&out, "out", "", "output `DIR` (required)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q: images are described by flags", args[0])
			}
			if err := cli.Required(map[string]string{"name": name, "tag": tag, "out": out}); err != nil {
				return err
			}
			t, err := release.ParseTag(tag)
			if err != nil {
				return cli.Usagef("--tag: %v", err)
			}
			if len(binaries) == 0 && lambdaBinary == "" {
				return cli.Usagef("nothing to build: give --binary OS/ARCH=FILE for each platform, or --lambda-binary")
			}
			epoch, err := epochFlag("created", created, env.Env("SOURCE_DATE_EPOCH"))
			if err != nil {
				return err
			}
			spec := oci.Spec{Name: name, Created: epoch, WorkDir: workdir, User: user, Env: envs, Binaries: map[oci.Platform]string{}}
			if entrypoint != "" {
				if err := json.Unmarshal([]byte(entrypoint), &spec.Entrypoint); err != nil || len(spec.Entrypoint) == 0 {
					return cli.Usagef("--entrypoint %q: want a non-empty JSON array of strings, e.g. '[\"/%s\",\"serve\"]'", entrypoint, name)
				}
			}
			for _, b := range binaries {
				plat, file, ok := strings.Cut(b, "=")
				p, err := oci.ParsePlatform(plat)
				if !ok || err != nil || file == "" {
					return cli.Usagef("--binary %q: want OS/ARCH=FILE, e.g. linux/arm64=out/baton-foo", b)
				}
				if _, dup := spec.Binaries[p]; dup {
					return cli.Usagef("--binary: %s given twice", p)
				}
				spec.Binaries[p] = file
			}
			for _, f := range files {
				src, dest, ok := strings.Cut(f, "=")
				if !ok || src == "" || dest == "" {
					return cli.Usagef("--file %q: want SRC=/DEST, e.g. config/default.yaml=/etc/baton/default.yaml", f)
				}
				spec.Files = append(spec.Files, oci.File{Src: src, Dest: dest})
			}
			if spec.Bases, err = parseBases("base", bases); err != nil {
				return err
			}
			lambdaBaseList, err := parseBases("lambda-base", lambdaBases)
			if err != nil {
				return err
			}
			if caCerts != "" {
				if spec.CACerts, err = os.ReadFile(caCerts); err != nil {
					return fmt.Errorf("--ca-certs: %w", err)
				}
			} else if (len(binaries) > 0 && len(spec.Bases) == 0) || (lambdaBinary != "" && len(lambdaBaseList) == 0) {
				return cli.Usagef("--ca-certs is required for the default base: pass a pinned PEM bundle (e.g. a copy of Debian's ca-certificates.crt kept in the repository), or a --base")
			}

			// The two images are built in parallel; an error of the
			// multi-platform image is reported first.
			var digests imageDigests
			var imageErr, lambdaErr error
			var wg sync.WaitGroup
			if len(binaries) > 0 {
				spec := spec
				spec.Labels = oci.Labels(epoch, name, revision, t.Version(), source, description)
				wg.Go(func() {
					idx, err := oci.BuildIndex(spec)
					if err != nil {
						imageErr = err
						return
					}
					digests.Image, imageErr = writeImage(filepath.Join(out, imageLayoutDir), oci.Artifact{Index: idx})
				})
			}
			if lambdaBinary != "" {
				ls := spec
				ls.Binaries = map[oci.Platform]string{oci.LinuxARM64: lambdaBinary}
				ls.Bases, ls.Format = lambdaBaseList, oci.Docker
				if entrypoint == "" {
					ls.Entrypoint = []string{"/" + name, "lambda"}
				}
				if lambdaDescription == "" {
					lambdaDescription = name
				}
				ls.Labels = oci.Labels(epoch, name, revision, t.Version(), source, lambdaDescription)
				wg.Go(func() {
					img, err := oci.BuildImage(ls, oci.LinuxARM64)
					if err != nil {
						lambdaErr = fmt.Errorf("lambda image: %w", err)
						return
					}
					if digests.Lambda, lambdaErr = writeImage(filepath.Join(out, lambdaLayoutDir), oci.Artifact{Image: img}); lambdaErr != nil {
						return
					}
					// Its binary is a build of its own (the Lambda build tag), so
					// it gets its own SBOM, as the archives do.
					doc, err := sbom.GenerateAs(ctx, lambdaBinary, name, sbom.Options{Created: epoch, MainVersion: t.String()})
					if err != nil {
						lambdaErr = fmt.Errorf("lambda image SBOM: %w", err)
						return
					}
					lambdaErr = atomicfile.WriteBytes(filepath.Join(out, lambdaLayoutDir+release.SBOMSuffix), 0o644, doc)
				})
			}
			wg.Wait()
			if imageErr != nil {
				return imageErr
			}
			if lambdaErr != nil {
				return lambdaErr
			}
			data, err := json.MarshalIndent(digests, "", "  ")
			if err != nil {
				return err
			}
			data = append(data, '\n')
			if err := atomicfile.WriteBytes(filepath.Join(out, imageDigestFile), 0o644, data); err != nil {
				return err
			}
			_, err = env.Stdout.Write(data)
			return err
		},
	}
}

func writeImage(dir string, a oci.Artifact) (*oci.Summary, error) {
	s, err := oci.Summarize(a)
	if err != nil {
		return nil, err
	}
	if err := oci.WriteLayout(dir, a); err != nil {
		return nil, err
	}
	return &s, nil
}

func parseBases(flagName string, list []string) ([]oci.Base, error) {
	var bases []oci.Base
	for _, s := range list {
		b, err := oci.ParseBase(s)
		if err != nil {
			return nil, cli.Usagef("--%s: %v", flagName, err)
		}
		bases = append(bases, b)
	}
	return bases, nil
}

// epochFlag reads a time flag in seconds, falling back to SOURCE_DATE_EPOCH.
func epochFlag(flagName, value, env string) (time.Time, error) {
	if value == "" && env == "" {
		return time.Time{}, cli.Usagef("--%s is required when SOURCE_DATE_EPOCH is not set: seconds since 1970-01-01 UTC, e.g. the commit time from 'git log -1 --format=%%ct'", flagName)
	}
	if value == "" {
		value = env
	}
	sec, err := cli.ParseEpoch(flagName, value)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, 0), nil
}

func imagePushCmd() *cli.Command {
	var (
		from, repo, lambdaRepo, tag, imageKey, lambdaKey, fragment string
		atts, lambdaAtts                                           cli.StringList
		auth                                                       registryAuthFlags
	)
	return &cli.Command{
		Name:    "image push",
		Args:    "--from DIR --tag TAG [--repo REPO] [--lambda-repo REPO] [flags]",
		Summary: "push built images with attestations; print the manifest images fragment",
		Help: `Pushes what 'relkit image build --out DIR' wrote, exactly as built:
DIR/image to --repo with tag VER (TAG without "v"), and DIR/lambda to
--lambda-repo with tag VER-arm64. The image's version label must be VER.

The multi-platform image also gets the tag latest, but only when TAG is not
a pre-release and is newer than the version label of the current latest
(or there is none): pre-releases and back-ports leave latest alone.

Each --attestation (a Sigstore bundle of an in-toto statement whose subject
is the image digest) is attached as an OCI 1.1 referrer: artifactType
application/vnd.dev.sigstore.bundle.v0.3+json, an empty config, one layer
holding the bundle and the annotation dev.sigstore.bundle.predicateType.
Registries without the referrers API get the sha256-<hex> tag scheme.
Pushing again changes nothing.

Prints (or writes to --fragment) the manifest fragment for 'relkit manifest
merge': {"images": {"ecrPublic": {...}, "lambda-arm64": {...}}} with ref,
digest, tag, uri and isIndex.

` + imageAuthHelp + `

Example:
  relkit image push --from dist/images --tag v1.2.3 \
    --repo public.ecr.aws/acme/baton-foo --attestation dist/images/image.provenance.sigstore.json \
    --lambda-repo 123456789012.dkr.ecr.us-west-2.amazonaws.com/baton-foo --fragment dist/images.fragment.json`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&from, "from", "", "output `DIR` of 'relkit image build' (required)")
			fs.StringVar(&tag, "tag", "", "release `TAG`, e.g. v1.2.3 (required)")
			fs.StringVar(&repo, "repo", "", "`REGISTRY/REPOSITORY` of the multi-platform image (required when DIR/image exists)")
			fs.StringVar(&lambdaRepo, "lambda-repo", "", "`REGISTRY/REPOSITORY` of the Lambda image (required when DIR/lambda exists)")
			fs.Var(&atts, "attestation", "Sigstore bundle `FILE` attesting the multi-platform image, repeatable")
			fs.Var(&lambdaAtts, "lambda-attestation", "Sigstore bundle `FILE` attesting the Lambda image, repeatable")
			fs.StringVar(&imageKey, "image-key", "ecrPublic", "manifest images `KEY` of the multi-platform image")
			fs.StringVar(&lambdaKey, "lambda-key", "lambda-arm64", "manifest images `KEY` of the Lambda image")
			fs.StringVar(&fragment, "fragment", "", "write the manifest fragment to `FILE` (default: stdout)")
			auth.register(fs)
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if err := cli.Required(map[string]string{"from": from, "tag": tag}); err != nil {
				return err
			}
			t, err := release.ParseTag(tag)
			if err != nil {
				return cli.Usagef("--tag: %v", err)
			}
			kc, err := auth.keychain(env)
			if err != nil {
				return err
			}
			opts := []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithUserAgent("relkit")}

			type job struct {
				dir, repo, repoFlag, tag, key string
				atts                          []string
			}
			var jobs []job
			for _, j := range []job{
				{imageLayoutDir, repo, "repo", t.Version(), imageKey, atts},
				{lambdaLayoutDir, lambdaRepo, "lambda-repo", t.Version() + "-arm64", lambdaKey, lambdaAtts},
			} {
				j.dir = filepath.Join(from, j.dir)
				if _, err := os.Stat(j.dir); errors.Is(err, os.ErrNotExist) {
					if j.repo != "" || len(j.atts) > 0 {
						return cli.Usagef("--%s given but %s does not exist: build that image first", j.repoFlag, j.dir)
					}
					continue
				}
				if j.repo == "" {
					return cli.Usagef("%s exists: give --%s REGISTRY/REPOSITORY to push it", j.dir, j.repoFlag)
				}
				jobs = append(jobs, j)
			}
			if len(jobs) == 0 {
				return fmt.Errorf("%s holds neither %s nor %s: run 'relkit image build --out %s' first", from, imageLayoutDir, lambdaLayoutDir, from)
			}

			images := map[string]manifest.Image{}
			for _, j := range jobs {
				a, err := oci.ReadLayout(j.dir)
				if err != nil {
					return err
				}
				if err := checkVersionLabel(a, t, j.dir); err != nil {
					return err
				}
				var parsed []oci.Attestation
				for _, f := range j.atts {
					data, err := os.ReadFile(f)
					if err != nil {
						return fmt.Errorf("attestation: %w", err)
					}
					at, err := oci.ParseAttestation(data)
					if err != nil {
						return fmt.Errorf("attestation %s: %w", f, err)
					}
					parsed = append(parsed, at)
				}
				p, err := oci.Push(ctx, a, j.repo, j.tag, parsed, opts...)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "pushed %s (%s), %d attestations\n", p.Ref, p.Digest, len(p.Referrers))
				if p.IsIndex {
					current, found, err := oci.LatestVersion(ctx, j.repo, opts...)
					if err != nil {
						return err
					}
					move, why := oci.MoveLatest(t, current, found)
					if move {
						if err := oci.Tag(ctx, j.repo, p.Digest, oci.LatestTag, opts...); err != nil {
							return err
						}
						fmt.Fprintf(env.Stderr, "tagged %s:%s: %s\n", j.repo, oci.LatestTag, why)
					} else {
						fmt.Fprintf(env.Stderr, "left %s:%s alone: %s\n", j.repo, oci.LatestTag, why)
					}
				}
				images[j.key] = manifest.Image{Ref: p.Ref, Digest: p.Digest, Tag: p.Tag, URI: p.URI, IsIndex: p.IsIndex}
			}
			return writeImagesFragment(env.Stdout, fragment, images)
		},
	}
}

// checkVersionLabel refuses to push an image built for another version.
func checkVersionLabel(a oci.Artifact, t release.Tag, dir string) error {
	img := a.Image
	if a.Index != nil {
		im, err := a.Index.IndexManifest()
		if err != nil {
			return err
		}
		if len(im.Manifests) == 0 {
			return fmt.Errorf("%s: index has no images", dir)
		}
		if img, err = a.Index.Image(im.Manifests[0].Digest); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if got := cf.Config.Labels[oci.LabelVersion]; got != t.Version() {
		return fmt.Errorf("%s was built for version %q, not %s: rebuild with --tag %s", dir, got, t.Version(), t)
	}
	return nil
}

func writeImagesFragment(stdout io.Writer, path string, images map[string]manifest.Image) error {
	frag := manifest.Manifest{Images: images}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Images map[string]manifest.Image `json:"images"`
	}{frag.Images}); err != nil {
		return err
	}
	// The fragment must be what 'manifest merge' accepts.
	if _, err := manifest.ReadFragment(bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("images fragment: %w", err)
	}
	if path == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	return atomicfile.WriteBytes(path, 0o644, buf.Bytes())
}
