package main

import (
	"context"
	"flag"
	"path/filepath"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/archive"
	"github.com/relkit/relkit/tools/cli"
)

func archiveCmd() *cli.Command {
	var format, mtime, out string
	return &cli.Command{
		Name:    "archive",
		Args:    "[--format tar.gz|zip] [--mtime EPOCH] --out FILE SRC[=NAME]...",
		Summary: "write a reproducible tar.gz or zip of files",
		Help: `Writes FILE atomically, holding each SRC file as NAME (default: SRC's base
name). NAME is a relative slash-separated path of printable ASCII; SRC is
split from NAME at the last "=". Only regular files are archived (links are
followed).

The output depends only on the files' contents and executable bits, the
names and the time: entries are sorted, owned by 0:0, mode 0755 when
executable or named *.exe and 0644 otherwise, all dated EPOCH (zip stores
even seconds, and 1980-01-01 for earlier times). tar.gz holds ustar
headers; zip uses deflate with Unix modes and no extra fields.

Examples:
  relkit archive --mtime "$(git log -1 --format=%ct)" --out baton-foo-v1.0.0-linux-amd64.tar.gz bin/baton-foo
  SOURCE_DATE_EPOCH=1700000000 relkit archive --format zip --out foo.zip out/foo.exe=baton-foo.exe LICENSE=docs/LICENSE`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&format, "format", "", "archive `FORMAT`: tar.gz or zip (default: from the --out file's extension)")
			fs.StringVar(&mtime, "mtime", "", "time of every entry in `EPOCH` seconds (default: $SOURCE_DATE_EPOCH)")
			fs.StringVar(&out, "out", "", "archive `FILE` to write (required)")
		},
		Run: func(_ context.Context, env *cli.Env, args []string) error {
			if err := cli.Required(map[string]string{"out": out}); err != nil {
				return err
			}
			f, err := archiveFormat(format, out)
			if err != nil {
				return err
			}
			t, err := archiveTime(mtime, env.Env("SOURCE_DATE_EPOCH"))
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return cli.Usagef("no files to archive: give SRC or SRC=NAME arguments")
			}
			entries := make([]archive.Entry, len(args))
			for i, arg := range args {
				src, name := arg, filepath.Base(arg)
				if i := strings.LastIndex(arg, "="); i >= 0 {
					src, name = arg[:i], arg[i+1:]
				}
				if src == "" || name == "" {
					return cli.Usagef("argument %q: want SRC or SRC=NAME", arg)
				}
				entries[i] = archive.Entry{Name: name, Path: src}
			}
			return archive.WriteFile(out, entries, archive.Options{Format: f, MTime: t})
		},
	}
}

func archiveFormat(flagValue, out string) (archive.Format, error) {
	if flagValue == "" {
		for _, f := range []archive.Format{archive.TarGz, archive.Zip} {
			if strings.HasSuffix(out, "."+string(f)) {
				return f, nil
			}
		}
		return "", cli.Usagef("cannot tell the format of %q from its extension: pass --format tar.gz or --format zip", out)
	}
	f, err := archive.ParseFormat(flagValue)
	if err != nil {
		return "", cli.Usagef("--format: %v", err)
	}
	return f, nil
}

// archiveTime reads --mtime, falling back to SOURCE_DATE_EPOCH.
func archiveTime(flagValue, env string) (time.Time, error) {
	if flagValue == "" && env == "" {
		return time.Time{}, cli.Usagef("--mtime is required when SOURCE_DATE_EPOCH is not set: seconds since 1970-01-01 UTC, e.g. the commit time from 'git log -1 --format=%%ct'")
	}
	if flagValue == "" {
		sec, err := cli.ParseEpoch("mtime", env)
		if err != nil {
			return time.Time{}, cli.Usagef("SOURCE_DATE_EPOCH=%q: want a non-negative whole number of seconds since 1970-01-01 UTC, or pass --mtime", env)
		}
		return time.Unix(sec, 0), nil
	}
	sec, err := cli.ParseEpoch("mtime", flagValue)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, 0), nil
}
