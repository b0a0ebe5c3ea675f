package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/release"
)

func manifestBuildCmd() *cli.Command {
	var (
		o                         manifest.BuildOptions
		out, releasedAt, platList string
		skipList                  string
	)
	return &cli.Command{
		Name:    "manifest build",
		Args:    "--dir DIR --org ORG --repo R --tag TAG --base-url URL [flags]",
		Summary: "write manifest.json for the release directory DIR",
		Help: `Reads the release directory DIR and writes its manifest.json (schema
version "2"): one asset per platform archive (R-TAG-OS-ARCH.tar.gz or .zip),
per Windows installer present (R_TAG_windows_ARCH.msi), and the checksums
file (R_VER_checksums.txt), each with its size, sha256 and URLs under
URL/releases/ORG/R/TAG/.

Nothing is silently left out: every platform's archive must exist (name the
ones left out on purpose with --skip), the checksums file must list exactly
the archives and installers, and each file's content must match its listed
sha256.

Attestation descriptors list the Sigstore bundles in DIR
(<file>.provenance.sigstore.json, then <file>.sbom.sigstore.json). In the
unsigned build tree there are none yet: --expect-attestations declares those
publishing will create, a provenance bundle for every asset and an SBOM bundle
for every asset with <file>.sbom.json in DIR. Building again from the signed
tree without the flag then gives the same assets.

The output depends only on the flags and the files' content: releasedAt is
written only when --released-at is given.

Example:
  relkit manifest build --dir dist --org ConductorOne --repo baton-foo \
    --tag v1.2.3 --base-url https://dist.example.com --expect-attestations \
    --skip windows-arm64`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.Dir, "dir", "", "release directory (required)")
			fs.StringVar(&o.Org, "org", "", "owner of the connector repository, case preserved (required)")
			fs.StringVar(&o.Repo, "repo", "", "connector repository name (required)")
			fs.StringVar(&o.Tag, "tag", "", "release tag, e.g. v1.2.3 (required)")
			fs.StringVar(&o.BaseURL, "base-url", "", "public download root, e.g. https://dist.example.com (required)")
			fs.StringVar(&releasedAt, "released-at", "", "RFC 3339 release time (omitted if empty)")
			fs.StringVar(&platList, "platforms", "", "comma-separated platforms, e.g. linux/amd64,darwin/arm64 (default: all supported)")
			fs.StringVar(&skipList, "skip", "", "comma-separated asset keys left out on purpose, e.g. windows-arm64")
			fs.BoolVar(&o.ExpectAttestations, "expect-attestations", false, "declare the attestation bundles publishing will create")
			fs.StringVar(&out, "out", "", "file to write (default: DIR/manifest.json; - for stdout)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if err := cli.Required(map[string]string{"dir": o.Dir, "org": o.Org, "repo": o.Repo, "tag": o.Tag, "base-url": o.BaseURL}); err != nil {
				return err
			}
			var err error
			if o.ReleasedAt, err = parseRFC3339("released-at", releasedAt); err != nil {
				return err
			}
			for _, s := range splitList(platList) {
				p, err := release.ParsePlatform(s)
				if err != nil {
					return cli.Usagef("--platforms: %v", err)
				}
				o.Platforms = append(o.Platforms, p)
			}
			if platList != "" && len(o.Platforms) == 0 {
				return cli.Usagef("--platforms %q names no platform", platList)
			}
			o.Skip = splitList(skipList)

			m, err := manifest.Build(ctx, o)
			if err != nil {
				return err
			}
			write := func(w io.Writer) error { return manifest.Write(w, m) }
			if out == "-" {
				return write(env.Stdout)
			}
			if out == "" {
				out = filepath.Join(o.Dir, "manifest.json")
			}
			if err := atomicfile.Write(out, 0o644, write); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "wrote %s: %d assets\n", out, len(m.Assets))
			return nil
		},
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
