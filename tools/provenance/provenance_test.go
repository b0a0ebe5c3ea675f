package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/relkit/relkit/tools/testutil/golden"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	tagCommit = "0123456789abcdef0123456789abcdef01234567"
	wfCommit  = "89abcdef0123456789abcdef0123456789abcdef"
)

func fullFacts() BuildFacts {
	return BuildFacts{
		Repository:         "ConductorOne/baton-foo",
		Tag:                "v1.2.3-rc.1",
		Commit:             tagCommit,
		WorkflowRepository: "relkit/relkit",
		WorkflowRef:        wfCommit,
		WorkflowPath:       ".github/workflows/release.yaml",
		InvocationID:       "https://github.com/ConductorOne/baton-foo/actions/runs/42/attempts/1",
		EventName:          "push",
		RunnerOS:           "Linux",
		RunnerArch:         "X64",
		Toolchains:         map[string]string{"relkit": "v0.1.0", "go": "go1.26.8"},
		StartedOn:          time.Date(2026, 5, 6, 19, 41, 9, 0, time.FixedZone("CEST", 2*3600)),
		FinishedOn:         time.Date(2026, 5, 6, 17, 45, 0, 0, time.UTC),
	}
}

func sha(c byte) DigestSet { return DigestSet{"sha256": strings.Repeat(string(c), 64)} }

func encode(t *testing.T, s *StatementV1) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStatementGolden(t *testing.T) {
	subjects := []Subject{
		{Name: "baton-foo_1.2.3-rc.1_checksums.txt", Digest: sha('c')},
		{Name: "baton-foo-v1.2.3-rc.1-linux-amd64.tar.gz", Digest: sha('a')},
		{Name: "baton-foo-v1.2.3-rc.1-darwin-arm64.zip", Digest: sha('b')},
	}
	s, err := Statement(subjects, fullFacts())
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "statement", encode(t, s))
}

func TestStatementMinimal(t *testing.T) {
	facts := BuildFacts{Repository: "o/r", Tag: "v1.0.0", Commit: tagCommit}
	s, err := Statement([]Subject{{Name: "r-v1.0.0-linux-amd64.tar.gz", Digest: sha('a')}}, facts)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "minimal", encode(t, s))
	if s.Predicate.RunDetails.Builder.ID != LocalBuilderID {
		t.Errorf("builder id = %q, want %q without a workflow", s.Predicate.RunDetails.Builder.ID, LocalBuilderID)
	}
}

func TestStatementRecordsVerifiedCommitAndBuilder(t *testing.T) {
	s, err := Statement([]Subject{{Name: "a", Digest: sha('a')}}, fullFacts())
	if err != nil {
		t.Fatal(err)
	}
	deps := s.Predicate.BuildDefinition.ResolvedDependencies
	want := []ResourceDescriptor{
		{URI: "git+https://github.com/ConductorOne/baton-foo@refs/tags/v1.2.3-rc.1", Digest: DigestSet{"gitCommit": tagCommit}},
		{URI: "git+https://github.com/relkit/relkit@" + wfCommit, Digest: DigestSet{"gitCommit": wfCommit}},
	}
	if !reflect.DeepEqual(deps, want) {
		t.Errorf("resolvedDependencies = %+v, want %+v", deps, want)
	}
	wantID := "https://github.com/relkit/relkit/.github/workflows/release.yaml@" + wfCommit
	if got := s.Predicate.RunDetails.Builder.ID; got != wantID {
		t.Errorf("builder.id = %q, want %q", got, wantID)
	}
}

func TestWorkflowRefThatIsNotACommitHasNoDigest(t *testing.T) {
	f := fullFacts()
	f.WorkflowRef = "refs/tags/v1"
	s, err := Statement([]Subject{{Name: "a", Digest: sha('a')}}, f)
	if err != nil {
		t.Fatal(err)
	}
	wf := s.Predicate.BuildDefinition.ResolvedDependencies[1]
	if wf.URI != "git+https://github.com/relkit/relkit@refs/tags/v1" || wf.Digest != nil {
		t.Errorf("workflow dependency = %+v, want the ref and no digest", wf)
	}
}

func TestStatementDoesNotDependOnSubjectOrder(t *testing.T) {
	a := []Subject{{Name: "x", Digest: sha('1')}, {Name: "b", Digest: sha('2')}, {Name: "m", Digest: sha('3')}}
	b := []Subject{a[2], a[0], a[1]}
	sa, err := Statement(a, fullFacts())
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Statement(b, fullFacts())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, sa), encode(t, sb)) {
		t.Error("statement depends on the order of subjects")
	}
	if a[0].Name != "x" {
		t.Error("Statement reordered the caller's slice")
	}
}

func TestStatementRefusesBadInput(t *testing.T) {
	ok := []Subject{{Name: "a.zip", Digest: sha('a')}}
	tests := []struct {
		name     string
		subjects []Subject
		edit     func(*BuildFacts)
		want     string
	}{
		{"no repository", ok, func(f *BuildFacts) { f.Repository = "" }, "repository: missing"},
		{"repository without org", ok, func(f *BuildFacts) { f.Repository = "baton-foo" }, `repository "baton-foo": want ORG/REPO`},
		{"no tag", ok, func(f *BuildFacts) { f.Tag = "" }, "tag: missing"},
		{"bad tag", ok, func(f *BuildFacts) { f.Tag = "1.2.3" }, `tag "1.2.3"`},
		{"short commit", ok, func(f *BuildFacts) { f.Commit = "abc123" }, `commit "abc123": want the 40 lower-case hex`},
		{"upper-case commit", ok, func(f *BuildFacts) { f.Commit = strings.ToUpper(tagCommit) }, "want the 40 lower-case hex"},
		{"partial workflow", ok, func(f *BuildFacts) { f.WorkflowPath = "" }, "workflow: give its repository, ref and path together"},
		{"workflow path escapes", ok, func(f *BuildFacts) { f.WorkflowPath = "../x.yaml" }, "workflow path:"},
		{"workflow ref with @", ok, func(f *BuildFacts) { f.WorkflowRef = "a@b" }, `workflow ref "a@b"`},
		{"toolchain name", ok, func(f *BuildFacts) { f.Toolchains = map[string]string{"Go Lang": "1"} }, `toolchain name "Go Lang"`},
		{"toolchain version", ok, func(f *BuildFacts) { f.Toolchains = map[string]string{"go": ""} }, `toolchain go version ""`},
		{"finished before started", ok, func(f *BuildFacts) { f.FinishedOn = f.StartedOn.Add(-time.Hour) }, "finished-on 2026-05-06T16:41:09Z is before started-on 2026-05-06T17:41:09Z"},
		{"no subjects", nil, func(*BuildFacts) {}, "no subjects"},
		{"duplicate subject", []Subject{{Name: "a.zip", Digest: sha('a')}, {Name: "a.zip", Digest: sha('b')}}, func(*BuildFacts) {}, "subject a.zip is given twice"},
		{"subject with directory", []Subject{{Name: "dist/a.zip", Digest: sha('a')}}, func(*BuildFacts) {}, `subject name "dist/a.zip"`},
		{"bad digest", []Subject{{Name: "a.zip", Digest: DigestSet{"sha256": "ABC"}}}, func(*BuildFacts) {}, "subject a.zip: want a sha256 digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fullFacts()
			tt.edit(&f)
			_, err := Statement(tt.subjects, f)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestStatementReportsAllProblems(t *testing.T) {
	_, err := Statement([]Subject{{Name: "a", Digest: sha('a')}}, BuildFacts{})
	if err == nil {
		t.Fatal("empty facts accepted")
	}
	for _, want := range []string{"commit", "repository", "tag"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestSubjectsHashFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.tar.gz")
	if err := os.WriteFile(a, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	subs, err := Subjects(context.Background(), []string{a})
	if err != nil {
		t.Fatal(err)
	}
	want := []Subject{{Name: "a.tar.gz", Digest: DigestSet{"sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"}}}
	if !reflect.DeepEqual(subs, want) {
		t.Errorf("Subjects = %+v, want %+v", subs, want)
	}

	other := filepath.Join(dir, "sub")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(other, "a.tar.gz")
	if err := os.WriteFile(b, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Subjects(context.Background(), []string{a, b}); err == nil || !strings.Contains(err.Error(), "have the same base name") {
		t.Errorf("err = %v, want two files with the same base name refused", err)
	}
}

// FuzzStatement checks that any accepted facts give a statement that encodes
// to JSON and decodes back to the same value.
func FuzzStatement(f *testing.F) {
	ff := fullFacts()
	f.Add(ff.Repository, ff.Tag, ff.Commit, ff.WorkflowRepository, ff.WorkflowRef, ff.WorkflowPath, ff.InvocationID, "go", "go1.26.8", "a.zip")
	f.Add("o/r", "v0.0.1", tagCommit, "", "", "", "", "", "", "x")
	f.Fuzz(func(t *testing.T, repo, tag, commit, wfRepo, wfRef, wfPath, inv, tool, toolVer, subject string) {
		facts := BuildFacts{
			Repository: repo, Tag: tag, Commit: commit,
			WorkflowRepository: wfRepo, WorkflowRef: wfRef, WorkflowPath: wfPath,
			InvocationID: inv,
		}
		if tool != "" {
			facts.Toolchains = map[string]string{tool: toolVer}
		}
		s, err := Statement([]Subject{{Name: subject, Digest: sha('f')}}, facts)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, s); err != nil {
			t.Fatalf("accepted statement does not encode: %v", err)
		}
		var back StatementV1
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatalf("statement is not valid JSON: %v", err)
		}
		if !reflect.DeepEqual(&back, s) {
			t.Fatalf("statement changed through JSON:\n got %+v\nwant %+v", back, *s)
		}
	})
}
