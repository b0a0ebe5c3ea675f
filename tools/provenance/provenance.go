// Package provenance writes unsigned in-toto Statement v1 documents carrying
// a SLSA Provenance v1 predicate for release artifacts. Publishing signs them
// into Sigstore bundles (<artifact>.provenance.sigstore.json).
//
// One predicate builder serves every subject (archives, installers, the
// checksums file), so all of a release's provenance agrees. The predicate:
//
//   - buildType is BuildType, which names this layout and its version;
//   - externalParameters are the tenant's inputs: repository, ref
//     (refs/tags/TAG), tag and the calling workflow (repository, ref, path);
//   - internalParameters hold what the build platform chose: the GitHub
//     runner facts (event_name, runner_os, runner_arch) and the toolchain
//     versions ("toolchains": {"go": "go1.26.8", ...}). Toolchains are not
//     resolvedDependencies: SLSA requires each of those to identify an
//     artifact by uri or digest, and a bare version identifies none. The
//     spec names internalParameters as the place for values kept for
//     incident response ("was this built with a vulnerable Go?");
//   - resolvedDependencies are the connector source at refs/tags/TAG with
//     the verified tag commit (not the commit of the triggering event), and
//     the workflow source at its ref, with its commit when the ref is one;
//   - runDetails.builder.id is the workflow identity
//     https://github.com/<workflow repository>/<workflow path>@<workflow ref>,
//     or LocalBuilderID when no workflow is given;
//   - startedOn and finishedOn appear only when given: the statement never
//     reads the clock, so the same facts give the same bytes.
package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/release"
)

// Type URIs of the statement and predicate.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType identifies relkit's connector release build and the meaning
	// of the parameters above; a new layout gets a new version.
	BuildType = "https://relkit.dev/provenance/connector-release/v1"
	// LocalBuilderID is the builder of a build run outside a CI workflow.
	// Verifiers of published releases must not accept it.
	LocalBuilderID = "https://relkit.dev/provenance/local-builder/v1"
)

// githubURL is where repositories named ORG/R live.
const githubURL = "https://github.com"

// BuildFacts describes one release build. Repository, Tag and Commit are
// required; the workflow fields are given all together or not at all; the
// rest is optional and omitted when empty.
type BuildFacts struct {
	Repository string // connector repository, ORG/R
	Tag        string // release tag, e.g. v1.2.3
	Commit     string // verified commit of refs/tags/Tag, 40 lower-case hex

	WorkflowRepository string // e.g. relkit/relkit
	WorkflowRef        string // the pinned ref the caller used, ideally a commit
	WorkflowPath       string // e.g. .github/workflows/release.yaml

	InvocationID string // e.g. https://github.com/ORG/R/actions/runs/1/attempts/1
	EventName    string // GITHUB_EVENT_NAME
	RunnerOS     string // RUNNER_OS
	RunnerArch   string // RUNNER_ARCH

	// Toolchains maps a tool name to its version, e.g. "go": "go1.26.8".
	Toolchains map[string]string

	// StartedOn and FinishedOn are written when not zero.
	StartedOn, FinishedOn time.Time
}

// Subject is one artifact a statement is about.
type Subject struct {
	Name   string    `json:"name"`
	Digest DigestSet `json:"digest"`
}

// DigestSet maps an algorithm to a hex digest, e.g. "sha256" or "gitCommit".
type DigestSet map[string]string

// StatementV1 is an in-toto Statement v1 with a SLSA Provenance v1 predicate.
// Field order is the output order.
type StatementV1 struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Predicate is a SLSA Provenance v1 predicate.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition describes the inputs of the build.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   *InternalParameters  `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
}

// ExternalParameters are the inputs the connector repository controls.
type ExternalParameters struct {
	Repository string    `json:"repository"`
	Ref        string    `json:"ref"`
	Tag        string    `json:"tag"`
	Workflow   *Workflow `json:"workflow,omitempty"`
}

// Workflow is the reusable workflow that ran the build.
type Workflow struct {
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
	Path       string `json:"path"`
}

// InternalParameters are what the build platform chose.
type InternalParameters struct {
	GitHub     *GitHubParameters `json:"github,omitempty"`
	Toolchains map[string]string `json:"toolchains,omitempty"`
}

// GitHubParameters are facts about the GitHub Actions run.
type GitHubParameters struct {
	EventName  string `json:"event_name,omitempty"`
	RunnerOS   string `json:"runner_os,omitempty"`
	RunnerArch string `json:"runner_arch,omitempty"`
}

// ResourceDescriptor names an artifact the build used.
type ResourceDescriptor struct {
	URI    string    `json:"uri"`
	Digest DigestSet `json:"digest,omitempty"`
}

// RunDetails describes the run that produced the subjects.
type RunDetails struct {
	Builder  Builder        `json:"builder"`
	Metadata *BuildMetadata `json:"metadata,omitempty"`
}

// Builder identifies the trusted build platform.
type Builder struct {
	ID string `json:"id"`
}

// BuildMetadata holds the invocation and its times, when known.
type BuildMetadata struct {
	InvocationID string `json:"invocationId,omitempty"`
	StartedOn    string `json:"startedOn,omitempty"`
	FinishedOn   string `json:"finishedOn,omitempty"`
}

// Subjects hashes the artifacts at paths and names each by its base name.
// Two paths with the same base name are refused.
func Subjects(ctx context.Context, paths []string) ([]Subject, error) {
	seen := make(map[string]string, len(paths))
	for _, p := range paths {
		name := filepath.Base(p)
		if prev, ok := seen[name]; ok {
			return nil, fmt.Errorf("%s and %s have the same base name; subjects are named by base name, so it must be unique", prev, p)
		}
		seen[name] = p
	}
	lines, err := checksum.Files(ctx, paths)
	if err != nil {
		return nil, err
	}
	subjects := make([]Subject, len(lines))
	for i, l := range lines {
		subjects[i] = Subject{Name: l.Name, Digest: DigestSet{"sha256": l.SHA256}}
	}
	return subjects, nil
}

// Statement returns the provenance statement for subjects, sorted by name.
// It validates facts and subjects and reports every problem at once.
func Statement(subjects []Subject, facts BuildFacts) (*StatementV1, error) {
	if err := facts.Validate(); err != nil {
		return nil, err
	}
	subs, err := sortedSubjects(subjects)
	if err != nil {
		return nil, err
	}
	ref := "refs/tags/" + facts.Tag
	def := BuildDefinition{
		BuildType: BuildType,
		ExternalParameters: ExternalParameters{
			Repository: facts.Repository,
			Ref:        ref,
			Tag:        facts.Tag,
		},
		ResolvedDependencies: []ResourceDescriptor{{
			URI:    "git+" + githubURL + "/" + facts.Repository + "@" + ref,
			Digest: DigestSet{"gitCommit": facts.Commit},
		}},
	}
	builderID := LocalBuilderID
	if facts.WorkflowRepository != "" {
		def.ExternalParameters.Workflow = &Workflow{
			Repository: facts.WorkflowRepository,
			Ref:        facts.WorkflowRef,
			Path:       facts.WorkflowPath,
		}
		wf := ResourceDescriptor{URI: "git+" + githubURL + "/" + facts.WorkflowRepository + "@" + facts.WorkflowRef}
		if commitRE.MatchString(facts.WorkflowRef) {
			wf.Digest = DigestSet{"gitCommit": facts.WorkflowRef}
		}
		def.ResolvedDependencies = append(def.ResolvedDependencies, wf)
		builderID = githubURL + "/" + facts.WorkflowRepository + "/" + facts.WorkflowPath + "@" + facts.WorkflowRef
	}
	var internal InternalParameters
	if gh := (GitHubParameters{EventName: facts.EventName, RunnerOS: facts.RunnerOS, RunnerArch: facts.RunnerArch}); gh != (GitHubParameters{}) {
		internal.GitHub = &gh
	}
	if len(facts.Toolchains) > 0 {
		internal.Toolchains = maps.Clone(facts.Toolchains)
	}
	if internal.GitHub != nil || internal.Toolchains != nil {
		def.InternalParameters = &internal
	}
	run := RunDetails{Builder: Builder{ID: builderID}}
	md := BuildMetadata{InvocationID: facts.InvocationID, StartedOn: timestamp(facts.StartedOn), FinishedOn: timestamp(facts.FinishedOn)}
	if md != (BuildMetadata{}) {
		run.Metadata = &md
	}
	return &StatementV1{
		Type:          StatementType,
		Subject:       subs,
		PredicateType: PredicateType,
		Predicate:     Predicate{BuildDefinition: def, RunDetails: run},
	}, nil
}

// Write writes s as JSON with two-space indentation and a final newline.
func Write(w io.Writer, s *StatementV1) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encode statement: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var (
	commitRE    = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256RE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	toolNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	plainTextRE = regexp.MustCompile(`^[\x21-\x7e]+$`) // printable, no spaces
)

// Validate reports every problem with the facts at once, so callers can
// check them before hashing anything.
func (f BuildFacts) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := checkRepository("repository", f.Repository); err != nil {
		errs = append(errs, err)
	}
	if f.Tag == "" {
		add("tag: missing; want the release tag, e.g. v1.2.3")
	} else if _, err := release.ParseTag(f.Tag); err != nil {
		errs = append(errs, err)
	}
	if !commitRE.MatchString(f.Commit) {
		add("commit %q: want the 40 lower-case hex digit commit of refs/tags/TAG, e.g. from 'git rev-parse TAG^{commit}'", f.Commit)
	}
	wf := [3]string{f.WorkflowRepository, f.WorkflowRef, f.WorkflowPath}
	if wf != [3]string{} {
		if wf[0] == "" || wf[1] == "" || wf[2] == "" {
			add("workflow: give its repository, ref and path together (got repository %q, ref %q, path %q)", wf[0], wf[1], wf[2])
		} else {
			if err := checkRepository("workflow repository", wf[0]); err != nil {
				errs = append(errs, err)
			}
			if !plainTextRE.MatchString(wf[1]) || strings.Contains(wf[1], "@") {
				add("workflow ref %q: want a commit or ref without spaces or '@', e.g. refs/tags/v1 or a 40 hex commit", wf[1])
			}
			if err := release.CheckRelPath(wf[2]); err != nil {
				add("workflow path: %v", err)
			}
		}
	}
	for name, v := range map[string]string{"invocation id": f.InvocationID, "event name": f.EventName, "runner os": f.RunnerOS, "runner arch": f.RunnerArch} {
		if v != "" && !plainTextRE.MatchString(v) {
			add("%s %q: want printable characters without spaces", name, v)
		}
	}
	for name, v := range f.Toolchains {
		if !toolNameRE.MatchString(name) {
			add("toolchain name %q: want [a-z0-9._-], e.g. go", name)
		}
		if !plainTextRE.MatchString(v) {
			add("toolchain %s version %q: want printable characters without spaces, e.g. go1.26.8", name, v)
		}
	}
	if !f.StartedOn.IsZero() && !f.FinishedOn.IsZero() && f.FinishedOn.Before(f.StartedOn) {
		add("finished-on %s is before started-on %s", timestamp(f.FinishedOn), timestamp(f.StartedOn))
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

func checkRepository(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s: missing; want ORG/REPO, e.g. ConductorOne/baton-foo", what)
	}
	org, repo, ok := strings.Cut(s, "/")
	if !ok || release.CheckName("org", org) != nil || release.CheckName("repo", repo) != nil {
		return fmt.Errorf("%s %q: want ORG/REPO with each part of [A-Za-z0-9._-], e.g. ConductorOne/baton-foo", what, s)
	}
	return nil
}

func sortedSubjects(in []Subject) ([]Subject, error) {
	if len(in) == 0 {
		return nil, errors.New("no subjects: give at least one artifact")
	}
	subs := make([]Subject, len(in))
	for i, s := range in {
		if s.Name == "" || strings.ContainsAny(s.Name, `/\`) || !utf8.ValidString(s.Name) || strings.ContainsFunc(s.Name, unicode.IsControl) {
			return nil, fmt.Errorf("subject name %q: want a file's base name", s.Name)
		}
		if !sha256RE.MatchString(s.Digest["sha256"]) {
			return nil, fmt.Errorf("subject %s: want a sha256 digest of 64 lower-case hex digits, got %q", s.Name, s.Digest["sha256"])
		}
		subs[i] = Subject{Name: s.Name, Digest: DigestSet{"sha256": s.Digest["sha256"]}}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	for i := 1; i < len(subs); i++ {
		if subs[i].Name == subs[i-1].Name {
			return nil, fmt.Errorf("subject %s is given twice: subject names are base names and must be unique", subs[i].Name)
		}
	}
	return subs, nil
}
