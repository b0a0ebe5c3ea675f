package verify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/provenance"
)

func TestBuilderMatch(t *testing.T) {
	const wf = "relkit/relkit/.github/workflows/release.yaml"
	commit, other := strings.Repeat("89ab", 10), strings.Repeat("1", 40)
	prod := &Builder{Workflow: wf, Ref: "refs/tags/v1.0.0"}
	for _, tc := range []struct {
		name        string
		policy      *Builder
		got, signer string
		wantErr     string // empty: accepted
	}{
		{"workflow at the certificate's commit", prod, "https://github.com/" + wf + "@" + commit, commit, ""},
		{"workflow at the ref", prod, "https://github.com/" + wf + "@refs/tags/v1.0.0", "", ""},
		{"workflow at another commit", prod, "https://github.com/" + wf + "@" + other, commit, "builder.id is https://github.com/" + wf + "@" + other + ", want"},
		{"a commit without a certificate", prod, "https://github.com/" + wf + "@" + commit, "", "want https://github.com/" + wf + "@refs/tags/v1.0.0"},
		{"another workflow", prod, "https://github.com/acme/fork/.github/workflows/release.yaml@" + commit, commit, "builder.id is https://github.com/acme/fork"},
		{"local builder", prod, provenance.LocalBuilderID, commit, "built outside the release workflow"},
		{"no builder", prod, "", commit, "no runDetails.builder.id"},
		{"exact ID", &Builder{ID: provenance.LocalBuilderID}, provenance.LocalBuilderID, "", ""},
		{"exact ID ignores the certificate", &Builder{ID: "https://example.com/b"}, "https://github.com/" + wf + "@" + commit, commit, "want https://example.com/b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.match(tc.got, tc.signer)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("accepted %q", tc.got)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestBuilderID(t *testing.T) {
	subject := provenance.Subject{Name: "baton-x", Digest: provenance.DigestSet{"sha256": strings.Repeat("0", 64)}}
	st, err := provenance.Statement([]provenance.Subject{subject}, provenance.BuildFacts{
		Repository: "ConductorOne/baton-x", Tag: "v1.2.3", Commit: strings.Repeat("ab", 20),
		WorkflowRepository: "relkit/relkit", WorkflowRef: strings.Repeat("89ab", 10), WorkflowPath: ".github/workflows/release.yaml",
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := provenance.Write(&buf, st); err != nil {
		t.Fatal(err)
	}
	got, err := builderID(buf.Bytes())
	// What the release workflow records, and what verify expects of it.
	want := "https://github.com/relkit/relkit/.github/workflows/release.yaml@" + strings.Repeat("89ab", 10)
	if err != nil || got != want {
		t.Fatalf("builderID = %q, %v; want %q", got, err, want)
	}
	if err := (&Builder{Workflow: "relkit/relkit/.github/workflows/release.yaml", Ref: "refs/tags/v1"}).match(got, strings.Repeat("89ab", 10)); err != nil {
		t.Errorf("the release workflow's own provenance is refused: %v", err)
	}
	if _, err := builderID([]byte("not json")); err == nil {
		t.Error("a payload that is not JSON was read")
	}
}

func FuzzBuilderID(f *testing.F) {
	f.Add([]byte(`{"predicate":{"runDetails":{"builder":{"id":"https://github.com/o/r/.github/workflows/w.yaml@main"}}}}`))
	f.Add([]byte(`{"predicate":{"runDetails":{}}}`))
	f.Add([]byte(`{"predicate":[]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		id, err := builderID(payload)
		if err != nil {
			return
		}
		// Whatever was read is accepted by exactly the policy naming it.
		if err := (&Builder{ID: id}).match(id, ""); id != "" && err != nil {
			t.Fatalf("builder.id %q refused by its own policy: %v", id, err)
		}
	})
}
