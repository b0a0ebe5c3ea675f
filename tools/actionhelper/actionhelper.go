// Package actionhelper is the program behind relkit's Bazel rules. It runs
// inside build actions, where Bazel gives a clean environment, relative paths
// and no shell:
//
//	gobuild  runs the Go SDK's own `go build` hermetically
//	stamp    keeps the release keys of Bazel's stable-status.txt
//	run      runs a tool (relkit) with {KEY} stamp values substituted
//	tree     gathers files into one output directory
//
// Two binaries serve it: a prebuilt relkit (`relkit action-helper ...`),
// and, where relkit itself is built from source, rules/private/builder,
// which the Go SDK repository rule compiles before anything else exists.
// That compile sees this file and the builder's main.go only, so the package
// uses the standard library only.
package actionhelper

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Command is the relkit verb that runs the helper.
const Command = "action-helper"

const usage = `relkit action-helper: runs relkit's Bazel build actions (the rules write its arguments)

  gobuild --go GO --goos OS --goarch ARCH --out FILE [--strip] [-X NAME=VALUE]... PACKAGE
           hermetic go build -trimpath -buildvcs=false, CGO off
  stamp --status FILE --out FILE [--optional] KEY...
           keeps the named keys of Bazel's stable-status.txt
  run [--stamp FILE]... [--stdout FILE] [--touch FILE] TOOL ARG...
           runs TOOL with {KEY} stamp references substituted
  tree --out DIR SRC=NAME...
           gathers files and directories into DIR

A leading --params=FILE reads the arguments from FILE, one per line.
`

// exitError carries a tool's exit code through run: the tool has already
// explained itself.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs one helper command and returns the process's exit code. When ctx
// ends (Bazel cancelling the action), child processes are interrupted and
// the command's temporary files removed before it returns.
func Main(ctx context.Context, args []string, stderr io.Writer) int {
	args, err := expandParams(args)
	if err == nil && len(args) == 0 {
		err = errors.New("want a command: gobuild, stamp, run or tree")
	}
	if err != nil {
		fmt.Fprintf(stderr, "relkit action helper: %v\n", err)
		return 1
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return 0
	}
	cmds := map[string]func(context.Context, io.Writer, []string) error{"gobuild": goBuild, "stamp": stamp, "run": run, "tree": tree}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "relkit action helper: unknown command %q; want gobuild, stamp, run or tree\n", args[0])
		return 1
	}
	err = cmd(ctx, stderr, args[1:])
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	if err != nil {
		fmt.Fprintf(stderr, "relkit action helper: %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// command returns an exec.Cmd that ctx's end interrupts, as a terminal's ^C
// would, so the child cleans up after itself; it is killed if it has not
// exited 10 s later.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// expandParams replaces a leading "--params=FILE" with the file's lines, the
// "multiline" param file format Bazel writes.
func expandParams(args []string) ([]string, error) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "--params=") {
		return args, nil
	}
	path := strings.TrimPrefix(args[0], "--params=")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read param file: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	return append(lines, args[1:]...), nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// goBuild runs `go build -trimpath -buildvcs=false -ldflags "-s -w -buildid= -X ..."`.
// Everything that could make the output depend on the machine is pinned: the
// environment is rebuilt from scratch, modules come only from the module
// cache checked against go.sum, and no toolchain switch or download happens.
// The result equals a plain `go build` with the same flags outside Bazel.
func goBuild(ctx context.Context, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("gobuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	goBin := fs.String("go", "", "the SDK's go binary")
	dir := fs.String("dir", ".", "module root, relative to the working directory")
	modcache := fs.String("modcache", "", "marker file at the root of the module cache repository")
	gocache := fs.String("gocache", "", "shared, absolute GOCACHE; default: a private one per action")
	goos := fs.String("goos", "", "target GOOS")
	goarch := fs.String("goarch", "", "target GOARCH")
	tags := fs.String("tags", "", "comma-separated build tags")
	stampFile := fs.String("stamp", "", "stamp file with the values of {KEY} references in -X values")
	out := fs.String("out", "", "output binary")
	strip := fs.Bool("strip", false, "link with -s -w: no symbol table or DWARF")
	var xdefs, srcs multi
	fs.Var(&xdefs, "X", "NAME=VALUE linker definition (repeatable); VALUE may hold {KEY} stamp references")
	fs.Var(&srcs, "src", "file of the module, under --dir (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *goBin == "" || *out == "" || *goos == "" || *goarch == "" {
		return errors.New("want --go, --goos, --goarch, --out and one package")
	}
	pkg := fs.Arg(0)

	stampVals, err := readStamp(*stampFile)
	if err != nil {
		return err
	}
	ldflags, err := linkerFlags(*strip, xdefs, stampVals)
	if err != nil {
		return err
	}

	// Bazel hands over the SDK as symlinks; GOROOT must be the real tree so
	// the go command finds its sources and tools.
	goPath, err := filepath.EvalSymlinks(*goBin)
	if err != nil {
		return fmt.Errorf("resolve go binary: %w", err)
	}
	goroot := filepath.Dir(filepath.Dir(goPath))
	absOut, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "relkit-gobuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Bazel stages inputs as symlinks, which //go:embed refuses; the module
	// is copied as regular files. -trimpath keeps the location out of the binary.
	modDir := filepath.Join(tmp, "src")
	if err := copyModule(*dir, modDir, srcs); err != nil {
		return err
	}
	if *gocache == "" {
		*gocache = filepath.Join(tmp, "gocache")
	} else if !filepath.IsAbs(*gocache) {
		return fmt.Errorf("--gocache %q: want an absolute path", *gocache)
	}
	modroot := filepath.Join(tmp, "gomodcache") // empty: a module-less build needs none
	if *modcache != "" {
		real, err := filepath.EvalSymlinks(*modcache)
		if err != nil {
			return fmt.Errorf("resolve module cache: %w", err)
		}
		modroot = filepath.Join(filepath.Dir(real), "gomodcache")
	}

	env := []string{
		"PATH=" + filepath.Join(goroot, "bin") + ":/usr/bin:/bin",
		"HOME=" + filepath.Join(tmp, "home"),
		"TMPDIR=" + tmp,
		"GOROOT=" + goroot,
		"GOCACHE=" + *gocache,
		"GOMODCACHE=" + modroot,
		"GOENV=off",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
		"GOPROXY=off",
		"GOSUMDB=off",
		"GOFLAGS=-mod=readonly",
		"GO111MODULE=on",
		"CGO_ENABLED=0",
		"GOOS=" + *goos,
		"GOARCH=" + *goarch,
		"GOAMD64=v1",
		"GOARM64=v8.0",
	}
	cmdArgs := []string{"build", "-trimpath", "-buildvcs=false"}
	if *tags != "" {
		cmdArgs = append(cmdArgs, "-tags="+*tags)
	}
	cmdArgs = append(cmdArgs, "-ldflags="+ldflags, "-o", absOut, pkg)
	cmd := command(ctx, goPath, cmdArgs...)
	cmd.Dir = modDir
	cmd.Env = env
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s (in %s): %w", strings.Join(cmdArgs, " "), *dir, err)
	}
	return nil
}

// linkerFlags returns the -ldflags value: "-s -w" when stripping, as
// GoReleaser does by default, then "-buildid=" and each -X definition with
// its {KEY} references filled from the stamp.
func linkerFlags(strip bool, xdefs []string, stampVals map[string]string) (string, error) {
	var flags []string
	if strip {
		flags = append(flags, "-s", "-w")
	}
	flags = append(flags, "-buildid=")
	for _, x := range xdefs {
		v, err := substitute(x, stampVals)
		if err != nil {
			return "", fmt.Errorf("-X %s: %w", x, err)
		}
		if strings.ContainsAny(v, " \t\n'\"") {
			return "", fmt.Errorf("-X %q: values must not contain spaces or quotes", v)
		}
		flags = append(flags, "-X", v)
	}
	return strings.Join(flags, " "), nil
}

// copyModule copies the files srcs, which lie under dir, to dest.
func copyModule(dir, dest string, srcs []string) error {
	for _, src := range srcs {
		rel, err := filepath.Rel(dir, src)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("source %s is outside the module root %s", src, dir)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		to := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// stamp copies the named keys from Bazel's stable-status.txt into a small
// file. Its content is the same on every machine building the same commit,
// so actions reading it stay cache hits across machines, which the full
// status file (with BUILD_HOST and BUILD_USER) would prevent. With
// --optional, a missing key is written with an empty value instead of
// failing.
func stamp(_ context.Context, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("stamp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("status", "", "Bazel's stable-status.txt")
	out := fs.String("out", "", "output stamp file")
	optional := fs.Bool("optional", false, "write missing keys with empty values")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() == 0 {
		return errors.New("want --status, --out and at least one KEY")
	}
	vals, err := readStamp(*in)
	if err != nil {
		return err
	}
	var b strings.Builder
	keys := append([]string(nil), fs.Args()...)
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := vals[k]
		if !ok && !*optional {
			return fmt.Errorf("%s is missing from %s: --workspace_status_command must print it (see rules/defs.bzl)", k, filepath.Base(*in))
		}
		fmt.Fprintf(&b, "%s %s\n", k, v)
	}
	return os.WriteFile(*out, []byte(b.String()), 0o644)
}

// run executes a tool with {KEY} references in its arguments replaced by
// stamp values, optionally saving its stdout, and creating --touch on success
// so that a check with no output of its own can be an action.
func run(ctx context.Context, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var stampFiles multi
	fs.Var(&stampFiles, "stamp", "stamp file with the values of {KEY} references (repeatable)")
	stdout := fs.String("stdout", "", "file receiving the tool's standard output")
	touch := fs.String("touch", "", "file created after the tool succeeds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("want a tool and its arguments")
	}
	vals := map[string]string{}
	for _, f := range stampFiles {
		v, err := readStamp(f)
		if err != nil {
			return err
		}
		maps.Copy(vals, v)
	}
	argv := fs.Args()
	var err error
	for i, a := range argv {
		if argv[i], err = substitute(a, vals); err != nil {
			return fmt.Errorf("argument %q: %w", a, err)
		}
	}
	// Progress is kept back unless the tool fails: a successful action is quiet.
	var diag bytes.Buffer
	cmd := command(ctx, argv[0], argv[1:]...)
	cmd.Stdout = &diag
	cmd.Stderr = &diag
	if *stdout != "" {
		f, err := os.Create(*stdout)
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	if err := cmd.Run(); err != nil {
		stderr.Write(diag.Bytes())
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			return &exitError{exit.ExitCode()}
		}
		return err
	}
	if *touch != "" {
		return os.WriteFile(*touch, nil, 0o644)
	}
	return nil
}

// tree fills the directory --out with SRC=NAME entries; a directory SRC is
// copied whole under NAME. Files are hard-linked when possible: Bazel
// outputs are never modified in place.
func tree(_ context.Context, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("tree", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("want --out DIR and SRC=NAME arguments")
	}
	for _, a := range fs.Args() {
		src, name, ok := strings.Cut(a, "=")
		if !ok || name == "" || filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
			return fmt.Errorf("%q: want SRC=NAME with NAME relative to the tree", a)
		}
		real, err := filepath.EvalSymlinks(src)
		if err != nil {
			return err
		}
		info, err := os.Stat(real)
		if err != nil {
			return err
		}
		if !info.IsDir() {
			if err := linkFile(real, filepath.Join(*out, name)); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(real, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(real, path)
			if err != nil {
				return err
			}
			return linkFile(path, filepath.Join(*out, name, rel))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// linkFile hard-links src to dest, or copies it when linking fails. A
// symlink is resolved first: the sandbox stages the files of a directory
// input as symlinks into the execroot, which must not leak into the tree.
func linkFile(src, dest string) error {
	src, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	if os.Link(src, dest) == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dest, data, 0o644)
}

// readStamp reads "KEY VALUE" lines, the format of Bazel's status files.
func readStamp(path string) (map[string]string, error) {
	vals := map[string]string{}
	if path == "" {
		return vals, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read stamp: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, _ := strings.Cut(line, " "); k != "" {
			vals[k] = v
		}
	}
	return vals, nil
}

// substitute replaces {KEY} references, KEY being [A-Z][A-Z0-9_]*. An
// unknown key is an error so that a typo never ships as a literal
// "{STABLE_GIT_COMIT}".
func substitute(s string, vals map[string]string) (string, error) {
	var b strings.Builder
	var missing []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 || !isKey(s[i+1:i+j]) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		key := s[i+1 : i+j]
		v, ok := vals[key]
		if !ok {
			missing = append(missing, key)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
	b.WriteString(s)
	if len(missing) > 0 {
		return "", fmt.Errorf("no stamp value for %s", strings.Join(missing, ", "))
	}
	return b.String(), nil
}

func isKey(k string) bool {
	if k == "" || k[0] < 'A' || k[0] > 'Z' {
		return false
	}
	for _, c := range k {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
