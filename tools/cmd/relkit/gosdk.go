package main

import (
	"context"
	"fmt"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/gosdk"
)

func goSDKUnpackCmd() *cli.Command {
	return &cli.Command{
		Name:    "go-sdk unpack",
		Args:    "ZIP DIR",
		Summary: "unpack a Go SDK from its module zip, without what builds never read",
		Help: `Unpacks ZIP, a Go release as the Go module proxy serves it (module
golang.org/toolchain, e.g. .../golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.zip),
into DIR, which becomes its GOROOT. DIR must not exist; it appears only once
complete.

Left out: tests (*_test.go), testdata directories and src/cmd, the sources
of the Go commands, whose binaries are in bin/ and pkg/tool/: about two
thirds of the files. 'go build' of std and of any program never reads them;
'go test std' and building cmd/... would need them.

relkit's Bazel rules run this with a prebuilt relkit to set up the pinned Go
SDK, after Bazel checked the zip's sha256: several times faster than
extracting the whole zip on a fresh machine. It checks each file's CRC-32,
not the zip's provenance: by hand, compare the zip's sha256 first.

Example:
  relkit go-sdk unpack v0.0.1-go1.26.8.linux-amd64.zip go1.26.8`,
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) != 2 {
				return cli.Usagef("want ZIP DIR, got %d arguments", len(args))
			}
			res, err := gosdk.Unpack(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "unpacked %s into %s: %d files (%d MB), %d left out\n",
				res.Version, args[1], res.Files, res.Bytes>>20, res.Skipped)
			return nil
		},
	}
}
