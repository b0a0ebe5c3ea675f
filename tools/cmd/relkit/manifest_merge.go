package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/manifest"
)

func manifestMergeCmd() *cli.Command {
	var out string
	return &cli.Command{
		Name:    "manifest merge",
		Args:    "[--out FILE] BASE [FRAGMENT...]",
		Summary: "merge asset and image fragments into a manifest.json",
		Help: `Adds the assets and images of each FRAGMENT to the manifest BASE and writes
the result. A fragment is a JSON object with optional "assets" and "images"
maps, or a whole manifest.

Nothing is overwritten: a key present in two inputs with different content is
a conflict, reported with the key and both files; the same content twice is
fine. A fragment that names a release (name, org, semver) must name BASE's.
Images are checked: digest sha256:<64 hex>, ref a tag reference, and tag and
uri (ref without its tag, then @digest) consistent with them.

Afterwards imageAttestation is set when an image is a multi-platform index
(attested in the registry), and assetAttestation when an asset has
attestations.

Example:
  relkit manifest merge --out dist/manifest.json dist/manifest.json images.json`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "out", "", "file to write (default: stdout)")
		},
		Run: func(_ context.Context, env *cli.Env, args []string) error {
			if len(args) == 0 {
				return cli.Usagef("want BASE and any FRAGMENT files, got none")
			}
			base, err := readManifestFile(args[0], manifest.Read)
			if err != nil {
				return err
			}
			var frags []manifest.Input
			for _, path := range args[1:] {
				f, err := readManifestFile(path, manifest.ReadFragment)
				if err != nil {
					return err
				}
				frags = append(frags, manifest.Input{Source: path, Manifest: f})
			}
			m, err := manifest.Merge(manifest.Input{Source: args[0], Manifest: base}, frags...)
			if err != nil {
				return err
			}
			write := func(w io.Writer) error { return manifest.Write(w, m) }
			if out == "" {
				return write(env.Stdout)
			}
			if err := atomicfile.Write(out, 0o644, write); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "wrote %s: %d assets, %d images\n", out, len(m.Assets), len(m.Images))
			return nil
		},
	}
}

func readManifestFile(path string, read func(io.Reader) (*manifest.Manifest, error)) (*manifest.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}
