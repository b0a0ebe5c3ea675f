package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sbom"
)

func sbomCmd() *cli.Command {
	var epoch, out, outDir, mainVersion string
	return &cli.Command{
		Name:    "sbom",
		Args:    "--epoch EPOCH (--out FILE ARTIFACT | --out-dir DIR ARTIFACT...)",
		Summary: "write the SPDX 2.3 JSON SBOM of Go binaries or of archives holding one",
		Help: `Catalogs the Go modules built into ARTIFACT (a Go binary, or a .tar.gz or
.zip holding one) from its embedded build information, and writes an SPDX 2.3
JSON document to FILE: the main module, every dependency with its version and
package URL (pkg:golang/...), and the Go standard library.

With --out-dir, each ARTIFACT's document is written to
DIR/<basename of ARTIFACT>.sbom.json, the name releases use. One call for all
of a release's archives is much faster than one call each: syft's set-up
(about a second) is paid once. Every document is made before any is written,
so a bad ARTIFACT leaves nothing behind.

The document is reproducible: its name is the artifact's basename, its
namespace is https://spdx.relkit.dev/<basename>-sha256-<artifact digest>, and
its creation time is EPOCH. The same artifact bytes give the same SBOM bytes in
any directory. Nothing is fetched: no network, no local module cache.

Binaries built with -trimpath and without VCS stamping record no version for
their main module (not even one set with -ldflags -X); --main-version supplies
it. A version recorded in the binary is kept.

An artifact without Go build information is an error, not an empty SBOM.

Examples:
  relkit sbom --epoch "$(git log -1 --format=%ct)" --main-version v1.2.3 \
    --out baton-foo-v1.2.3-linux-amd64.tar.gz.sbom.json baton-foo-v1.2.3-linux-amd64.tar.gz
  relkit sbom --epoch "$(git log -1 --format=%ct)" --main-version v1.2.3 \
    --out-dir dist dist/*.tar.gz dist/*.zip`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&epoch, "epoch", "", "creation time in seconds since 1970-01-01 UTC (default $SOURCE_DATE_EPOCH)")
			fs.StringVar(&out, "out", "", "SPDX JSON file to write, for one ARTIFACT")
			fs.StringVar(&outDir, "out-dir", "", "directory receiving <ARTIFACT basename>.sbom.json for each ARTIFACT")
			fs.StringVar(&mainVersion, "main-version", "", "version of the main module when the binary records none, e.g. the release tag v1.2.3")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			outs, err := sbomOutputs(out, outDir, args)
			if err != nil {
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
			// One scanner for every document (Generate would build it each time).
			if ctx, err = sbom.Prepare(ctx); err != nil {
				return err
			}
			docs := make([][]byte, len(args))
			for i, a := range args {
				if docs[i], err = sbom.Generate(ctx, a, opts); err != nil {
					return err
				}
			}
			for i, o := range outs {
				if err := atomicfile.WriteBytes(o, 0o644, docs[i]); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "wrote %s\n", o)
			}
			return nil
		},
	}
}

// sbomOutputs returns the file each artifact's document goes to: --out for
// a single artifact, or <out-dir>/<basename>.sbom.json for each.
func sbomOutputs(out, outDir string, artifacts []string) ([]string, error) {
	switch {
	case out != "" && outDir != "":
		return nil, cli.Usagef("--out and --out-dir exclude each other: --out names one document, --out-dir holds one per ARTIFACT")
	case out == "" && outDir == "":
		return nil, cli.Usagef("--out FILE (one ARTIFACT) or --out-dir DIR (any number) is required")
	case len(artifacts) == 0:
		return nil, cli.Usagef("want at least one ARTIFACT")
	case out != "":
		if len(artifacts) != 1 {
			return nil, cli.Usagef("--out takes exactly one ARTIFACT, got %d; use --out-dir for several", len(artifacts))
		}
		return []string{out}, nil
	}
	outs := make([]string, len(artifacts))
	seen := map[string]string{}
	for i, a := range artifacts {
		name := filepath.Base(a) + release.SBOMSuffix
		if other, ok := seen[name]; ok {
			return nil, cli.Usagef("%s and %s would both write %s in --out-dir", other, a, name)
		}
		seen[name] = a
		outs[i] = filepath.Join(outDir, name)
	}
	return outs, nil
}
