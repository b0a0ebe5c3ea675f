package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/provenance"
)

func provenanceCmd() *cli.Command {
	var (
		facts                provenance.BuildFacts
		out, started, ended  string
		subjects, toolchains cli.StringList
	)
	return &cli.Command{
		Name:    "provenance",
		Args:    "--repository ORG/R --tag TAG --commit SHA --subject ARTIFACT... [flags]",
		Summary: "write the unsigned SLSA v1 provenance statement of release artifacts",
		Help: `Hashes each --subject and writes one unsigned in-toto Statement v1 with a
SLSA Provenance v1 predicate covering all of them, subjects sorted by base
name (two subjects with the same base name are refused). Publishing signs it
into the <artifact>.provenance.sigstore.json bundles.

Every artifact of a release gets the same predicate:
  buildType            ` + provenance.BuildType + `
  externalParameters   repository, ref (refs/tags/TAG), tag, workflow
  internalParameters   github (event_name, runner_os, runner_arch), toolchains
  resolvedDependencies the connector at refs/tags/TAG with --commit, and the
                       workflow at --workflow-ref (with its commit when the ref is one)
  builder.id           https://github.com/WORKFLOW_REPOSITORY/WORKFLOW_PATH@WORKFLOW_REF,
                       or ` + provenance.LocalBuilderID + ` without a workflow

--commit must be the commit the tag points to, as checked out and verified,
not the commit of the event that started the run. Times are written only when
given, so the same inputs always give the same bytes.

Example:
  relkit provenance --out dist/provenance.intoto.json \
    --repository ConductorOne/baton-foo --tag v1.2.3 \
    --commit "$(git rev-parse 'v1.2.3^{commit}')" \
    --workflow-repository relkit/relkit --workflow-ref "$WORKFLOW_SHA" \
    --workflow-path .github/workflows/release.yaml \
    --toolchain go=go1.26.8 --toolchain relkit=v0.1.0 \
    --subject dist/baton-foo-v1.2.3-linux-amd64.tar.gz \
    --subject dist/baton-foo_1.2.3_checksums.txt`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "out", "", "statement file to write (default: stdout)")
			fs.Var(&subjects, "subject", "artifact to cover; repeat for each (required)")
			fs.StringVar(&facts.Repository, "repository", "", "connector repository ORG/R (required)")
			fs.StringVar(&facts.Tag, "tag", "", "release tag, e.g. v1.2.3 (required)")
			fs.StringVar(&facts.Commit, "commit", "", "verified commit of refs/tags/TAG, 40 hex digits (required)")
			fs.StringVar(&facts.WorkflowRepository, "workflow-repository", "", "repository of the release workflow, ORG/R")
			fs.StringVar(&facts.WorkflowRef, "workflow-ref", "", "pinned ref of the release workflow, ideally its commit")
			fs.StringVar(&facts.WorkflowPath, "workflow-path", "", "path of the release workflow, e.g. .github/workflows/release.yaml")
			fs.StringVar(&facts.InvocationID, "invocation-id", "", "URL of the run, e.g. https://github.com/ORG/R/actions/runs/ID/attempts/N")
			fs.StringVar(&facts.EventName, "event-name", "", "event that started the run (GITHUB_EVENT_NAME)")
			fs.StringVar(&facts.RunnerOS, "runner-os", "", "runner operating system (RUNNER_OS)")
			fs.StringVar(&facts.RunnerArch, "runner-arch", "", "runner architecture (RUNNER_ARCH)")
			fs.Var(&toolchains, "toolchain", "NAME=VERSION of a build tool, e.g. go=go1.26.8; repeatable")
			fs.StringVar(&started, "started-on", "", "RFC 3339 time the build started (omitted if empty)")
			fs.StringVar(&ended, "finished-on", "", "RFC 3339 time the build finished (omitted if empty)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q; name artifacts with --subject", args[0])
			}
			if err := cli.Required(map[string]string{
				"repository": facts.Repository, "tag": facts.Tag, "commit": facts.Commit,
				"subject": strings.Join(subjects, ","),
			}); err != nil {
				return err
			}
			var err error
			if facts.Toolchains, err = parseToolchains(toolchains); err != nil {
				return err
			}
			if facts.StartedOn, err = parseRFC3339("started-on", started); err != nil {
				return err
			}
			if facts.FinishedOn, err = parseRFC3339("finished-on", ended); err != nil {
				return err
			}
			if err := facts.Validate(); err != nil {
				return cli.Usagef("invalid build facts:\n%v", err)
			}
			subs, err := provenance.Subjects(ctx, subjects)
			if err != nil {
				return err
			}
			st, err := provenance.Statement(subs, facts)
			if err != nil {
				return err
			}
			write := func(w io.Writer) error { return provenance.Write(w, st) }
			if out == "" {
				return write(env.Stdout)
			}
			if err := atomicfile.Write(out, 0o644, write); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "wrote %s: provenance of %d artifact(s)\n", out, len(subs))
			return nil
		},
	}
}

// parseToolchains reads repeated NAME=VERSION flags.
func parseToolchains(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	tools := make(map[string]string, len(list))
	for _, s := range list {
		name, version, ok := strings.Cut(s, "=")
		if !ok || name == "" || version == "" {
			return nil, cli.Usagef("--toolchain %q: want NAME=VERSION, e.g. go=go1.26.8", s)
		}
		if _, dup := tools[name]; dup {
			return nil, cli.Usagef("--toolchain %s is given twice", name)
		}
		tools[name] = version
	}
	return tools, nil
}

// parseRFC3339 reads an optional time flag; empty means unset.
func parseRFC3339(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, cli.Usagef("--%s %q: want an RFC 3339 time like 2026-05-06T17:41:09Z", flag, s)
	}
	return t, nil
}
