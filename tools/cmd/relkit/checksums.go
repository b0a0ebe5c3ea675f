package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/cli"
)

func checksumsCmd() *cli.Command {
	var out, check, dir string
	return &cli.Command{
		Name:    "checksums",
		Args:    "--out FILE ARTIFACT... | --check FILE [--dir DIR]",
		Summary: "write a SHA-256 checksums file, or verify files against one",
		Help: `With --out, hashes the ARTIFACTs in parallel and writes FILE atomically,
one "<sha256>  <name>" line per artifact, sorted by name. Names are the
artifacts' base names; two artifacts with the same base name are refused.
The format is that of sha256sum and GoReleaser ("-" writes to stdout).

With --check, re-hashes every file listed in FILE, found in --dir, and prints
"NAME: OK" or "NAME: FAILED (reason)" for each, like 'sha256sum -c'. It fails
(exit 1) when any file differs or is missing. FILE may also come from
sha256sum or GoReleaser; malformed lines are refused with their line number.

Examples:
  relkit checksums --out baton-foo_1.0.0_checksums.txt baton-foo-v1.0.0-*.tar.gz baton-foo-v1.0.0-*.zip
  relkit checksums --check ~/Downloads/baton-foo_1.0.0_checksums.txt`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "out", "", "write the checksums of the ARTIFACTs to `FILE` (\"-\": stdout)")
			fs.StringVar(&check, "check", "", "verify the files listed in checksums `FILE`")
			fs.StringVar(&dir, "dir", "", "with --check: `DIR` holding the listed files (default: the directory of FILE)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			switch {
			case out != "" && check != "":
				return cli.Usagef("--out and --check exclude each other: write a checksums file or verify one")
			case out != "":
				if dir != "" {
					return cli.Usagef("--dir only applies to --check")
				}
				if len(args) == 0 {
					return cli.Usagef("no artifacts: list the files to checksum after --out %s", out)
				}
				return writeChecksums(ctx, env, out, args)
			case check != "":
				if len(args) > 0 {
					return cli.Usagef("unexpected argument %q: --check reads the file names from %s", args[0], check)
				}
				if dir == "" {
					dir = filepath.Dir(check)
				}
				return checkChecksums(ctx, env, check, dir)
			}
			return cli.Usagef("give --out FILE ARTIFACT... to write checksums, or --check FILE to verify them")
		},
	}
}

func writeChecksums(ctx context.Context, env *cli.Env, out string, artifacts []string) error {
	// A glob like * picks up the checksums file of an earlier run.
	if outInfo, err := os.Stat(out); err == nil {
		for _, a := range artifacts {
			if fi, err := os.Stat(a); err == nil && os.SameFile(fi, outInfo) {
				return cli.Usagef("artifact %s is the --out file itself: leave it out of the list", a)
			}
		}
	}
	lines, err := checksum.Files(ctx, artifacts)
	if err != nil {
		return err
	}
	if out == "-" {
		return checksum.Write(env.Stdout, lines)
	}
	return atomicfile.Write(out, 0o644, func(w io.Writer) error {
		return checksum.Write(w, lines)
	})
}

func checkChecksums(ctx context.Context, env *cli.Env, file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	lines, err := checksum.Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s lists no files: is it a checksums file?", file)
	}
	failed := 0
	for _, r := range checksum.Check(ctx, dir, lines) {
		switch {
		case r.Err == nil:
			fmt.Fprintf(env.Stdout, "%s: OK\n", r.Name)
			continue
		case errors.Is(r.Err, checksum.ErrMismatch):
			fmt.Fprintf(env.Stdout, "%s: FAILED (checksum mismatch)\n", r.Name)
		case errors.Is(r.Err, fs.ErrNotExist):
			fmt.Fprintf(env.Stdout, "%s: FAILED (missing in %s)\n", r.Name, dir)
		default:
			fmt.Fprintf(env.Stdout, "%s: FAILED (%v)\n", r.Name, r.Err)
		}
		failed++
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files listed in %s failed verification: do not use them", failed, len(lines), file)
	}
	return nil
}
