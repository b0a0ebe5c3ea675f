// Package cli is the small command framework behind the relkit binary:
// per-command flag sets, --help text, exit codes and error reporting.
//
// Exit codes: 0 success, 1 failure, 2 usage error. Data goes to stdout,
// diagnostics to stderr. Inside GitHub Actions errors are also written as
// workflow annotations.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes shared by every command.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is what a command may touch outside its arguments. Tests substitute it.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Env returns the value of an environment variable.
func (e *Env) Env(key string) string {
	if e.Getenv == nil {
		return os.Getenv(key)
	}
	return e.Getenv(key)
}

// Command is one relkit verb.
type Command struct {
	Name    string // e.g. "archive" or "manifest build"
	Args    string // positional synopsis, e.g. "[flags] SRC[=NAME]..."
	Summary string // one line for the command list
	Help    string // paragraphs printed by --help after the synopsis
	// Flags registers the command's flags; nil for none.
	Flags func(fs *flag.FlagSet)
	// Run executes the command with the positional arguments left after flags.
	Run func(ctx context.Context, env *Env, args []string) error
}

// UsageError marks a mistake in how a command was called (exit 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
func Usagef(format string, a ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, a...)}
}

// App is the set of commands a binary offers.
type App struct {
	Name     string
	Summary  string
	Commands []*Command
}

// Main runs the app with args (without the program name) and returns the exit code.
func (a *App) Main(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		a.printUsage(env.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if args[0] == "help" {
		if len(args) == 1 {
			a.printUsage(env.Stdout)
			return ExitOK
		}
		args = append(args[1:], "--help")
	}
	cmd, rest := a.find(args)
	if cmd == nil {
		return a.fail(env, nil, Usagef("unknown command %q; run '%s --help' for the list", strings.Join(args[:min(len(args), 2)], " "), a.Name))
	}
	fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printCommandHelp(env.Stdout, cmd, fs)
			return ExitOK
		}
		return a.fail(env, cmd, &UsageError{Msg: err.Error()})
	}
	if err := cmd.Run(ctx, env, fs.Args()); err != nil {
		return a.fail(env, cmd, err)
	}
	return ExitOK
}

func isHelp(s string) bool { return s == "-h" || s == "--help" || s == "-help" }

// find matches the longest command name (commands may have two words).
func (a *App) find(args []string) (*Command, []string) {
	if len(args) >= 2 {
		for _, c := range a.Commands {
			if c.Name == args[0]+" "+args[1] {
				return c, args[2:]
			}
		}
	}
	for _, c := range a.Commands {
		if c.Name == args[0] {
			return c, args[1:]
		}
	}
	// A group name alone ("manifest") or with --help lists its subcommands.
	var group []*Command
	for _, c := range a.Commands {
		if strings.HasPrefix(c.Name, args[0]+" ") {
			group = append(group, c)
		}
	}
	if len(group) > 0 {
		return &Command{
			Name: args[0],
			Args: "SUBCOMMAND [flags]",
			Help: groupHelp(group),
			Run: func(context.Context, *Env, []string) error {
				return Usagef("%s needs a subcommand: %s", args[0], groupNames(group))
			},
		}, args[1:]
	}
	return nil, nil
}

func groupNames(cmds []*Command) string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

func groupHelp(cmds []*Command) string {
	var b strings.Builder
	b.WriteString("Subcommands:\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-22s %s\n", c.Name, c.Summary)
	}
	return b.String()
}

func (a *App) fail(env *Env, cmd *Command, err error) int {
	prefix := a.Name
	if cmd != nil {
		prefix += " " + cmd.Name
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "\n  ")
	fmt.Fprintf(env.Stderr, "%s: %s\n", prefix, msg)
	if env.Env("GITHUB_ACTIONS") == "true" {
		// Annotations take one line; %0A is the documented newline escape.
		fmt.Fprintf(env.Stderr, "::error title=%s::%s\n", prefix, strings.ReplaceAll(err.Error(), "\n", "%0A"))
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		if cmd != nil {
			fmt.Fprintf(env.Stderr, "run '%s %s --help' for usage\n", a.Name, cmd.Name)
		}
		return ExitUsage
	}
	return ExitFailure
}

func (a *App) printUsage(w io.Writer) {
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n  %s COMMAND [flags] [args]\n\nCommands:\n", a.Name, a.Summary, a.Name)
	cmds := append([]*Command(nil), a.Commands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-22s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags and examples.\n", a.Name)
	fmt.Fprintf(w, "Exit codes: 0 success, 1 failure, 2 usage error.\n")
}

func (a *App) printCommandHelp(w io.Writer, c *Command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s %s %s\n\n", a.Name, c.Name, c.Args)
	if c.Summary != "" {
		fmt.Fprintf(w, "%s\n\n", c.Summary)
	}
	if c.Help != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.Help))
	}
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "Flags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// StringList is a repeatable string flag.
type StringList []string

func (s *StringList) String() string { return strings.Join(*s, ",") }

// Set appends one value.
func (s *StringList) Set(v string) error { *s = append(*s, v); return nil }

// Required returns a usage error naming the first empty required flag.
func Required(flags map[string]string) error {
	var missing []string
	for name, v := range flags {
		if v == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return Usagef("missing required flag(s): %s", strings.Join(missing, ", "))
}

// ParseEpoch reads a Unix time in seconds (as in SOURCE_DATE_EPOCH) given to flag.
func ParseEpoch(flag, s string) (int64, error) {
	if s == "" {
		return 0, Usagef("--%s is required: seconds since 1970-01-01 UTC, e.g. the commit time from 'git log -1 --format=%%ct'", flag)
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != s || n < 0 {
		return 0, Usagef("--%s %q: want a non-negative whole number of seconds since 1970-01-01 UTC (like SOURCE_DATE_EPOCH)", flag, s)
	}
	return n, nil
}
