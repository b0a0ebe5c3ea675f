package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/sbom"
)

func sbomCmd() *cli.Command {
	var epoch, out, mainVersion string
	return &cli.Command{
		Name:    "sbom",
		Args:    "--epoch EPOCH --out FILE ARTIFACT",
		Summary: "write the SPDX 2.3 JSON SBOM of a Go binary or of an archive holding one",
		Help: `Catalogs the Go modules built into ARTIFACT (a Go binary, or a .tar.gz or
.zip holding one) from its embedded build information, and writes an SPDX 2.3
JSON document to FILE: the main module, every dependency with its version and
package URL (pkg:golang/...), and the Go standard library.

The document is reproducible: its name is the artifact's basename, its
namespace is https://spdx.relkit.dev/<basename>-sha256-<artifact digest>, and
its creation time is EPOCH. The same artifact bytes give the same SBOM bytes in
any directory. Nothing is fetched: no network, no local module cache.

Binaries built with -trimpath and without VCS stamping record no version for
their main module (not even one set with -ldflags -X); --main-version supplies
it. A version recorded in the binary is kept.

An artifact without Go build information is an error, not an empty SBOM.

Example:
  relkit sbom --epoch "$(git log -1 --format=%ct)" --main-version v1.2.3 \
    --out baton-foo-v1.2.3-linux-amd64.tar.gz.sbom.json baton-foo-v1.2.3-linux-amd64.tar.gz`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&epoch, "epoch", "", "creation time in seconds since 1970-01-01 UTC (default $SOURCE_DATE_EPOCH)")
			fs.StringVar(&out, "out", "", "SPDX JSON file to write (required)")
			fs.StringVar(&mainVersion, "main-version", "", "version of the main module when the binary records none, e.g. the release tag v1.2.3")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one ARTIFACT, got %d arguments", len(args))
			}
			if err := cli.Required(map[string]string{"out": out}); err != nil {
				return err
			}
			if epoch == "" {
				epoch = env.Env("SOURCE_DATE_EPOCH")
			}
			secs, err := cli.ParseEpoch("epoch", epoch)
			if err != nil {
				return err
			}
			opts := sbom.Options{Created: time.Unix(secs, 0), MainVersion: mainVersion}
			if err := sbom.WriteFile(ctx, out, args[0], opts); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "wrote %s\n", out)
			return nil
		},
	}
}
