package sign

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/release"
)

func TestVerifierAcceptsAndRejects(t *testing.T) {
	dir := writeTree(t)
	key := testKey(t)
	signTree(t, dir, offlineSigner(t, key))
	tag, _ := release.ParseTag(testTag)
	a := release.ArchiveName(testRepo, tag, testPlatforms[0])
	artifact := []byte(readFile(t, dir, a))
	bundleOf := func(suffix string) []byte { return []byte(readFile(t, dir, a+suffix)) }

	v, err := NewVerifier(nil, Policy{PublicKey: &key.PublicKey, Unlogged: true})
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewVerifier(nil, Policy{PublicKey: &testKey(t).PublicKey, Unlogged: true})
	if err != nil {
		t.Fatal(err)
	}
	logged, err := NewVerifier(nil, Policy{PublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	blob := func(v *Verifier, bundleJSON, artifact []byte) error {
		b, err := ReadBundle(bundleJSON)
		if err != nil {
			return err
		}
		return v.VerifyBlob(b, artifact)
	}
	attest := func(v *Verifier, bundleJSON []byte, sum, predicate string) error {
		b, err := ReadBundle(bundleJSON)
		if err != nil {
			return err
		}
		_, err = v.VerifyAttestation(b, sum, predicate)
		return err
	}
	sum := checksumOf(string(artifact))
	for _, tc := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"blob", blob(v, bundleOf(BundleSuffix), artifact), true},
		{"provenance", attest(v, bundleOf(release.ProvenanceSuffix), sum, SLSAPredicate), true},
		{"sbom", attest(v, bundleOf(release.SBOMBundleSuffix), sum, SPDXPredicate), true},
		{"tampered artifact", blob(v, bundleOf(BundleSuffix), append(artifact, 'x')), false},
		{"other key", blob(other, bundleOf(BundleSuffix), artifact), false},
		{"unlogged bundle, log required", blob(logged, bundleOf(BundleSuffix), artifact), false},
		{"wrong predicate type", attest(v, bundleOf(release.SBOMBundleSuffix), sum, SLSAPredicate), false},
		{"wrong subject", attest(v, bundleOf(release.ProvenanceSuffix), strings.Repeat("0", 64), SLSAPredicate), false},
		{"attestation as blob", blob(v, bundleOf(release.ProvenanceSuffix), artifact), false},
		{"blob as attestation", attest(v, bundleOf(BundleSuffix), sum, SLSAPredicate), false},
	} {
		if tc.ok && tc.err != nil {
			t.Errorf("%s: %v, want accepted", tc.name, tc.err)
		}
		if !tc.ok && !errors.Is(tc.err, ErrVerification) {
			t.Errorf("%s: %v, want ErrVerification", tc.name, tc.err)
		}
	}
	if _, err := ReadBundle([]byte(`{"mediaType":"nope"}`)); err == nil {
		t.Error("ReadBundle accepted a non-bundle")
	}
}

func TestNewVerifierRefusesIncompletePolicies(t *testing.T) {
	key := testKey(t)
	for name, p := range map[string]Policy{
		"nothing":             {},
		"issuer only":         {Issuer: "https://issuer"},
		"identity and regexp": {Issuer: "https://issuer", Identity: "a", IdentityRegexp: "a"},
		"bad regexp":          {Issuer: "https://issuer", IdentityRegexp: "("},
		"key and identity":    {PublicKey: &key.PublicKey, Issuer: "https://issuer", Identity: "a"},
	} {
		if _, err := NewVerifier(nil, p); err == nil || !strings.HasPrefix(err.Error(), "verify policy: ") {
			t.Errorf("%s: NewVerifier() = %v, want a policy error", name, err)
		}
	}
}

func TestParseStatement(t *testing.T) {
	dir := writeTree(t)
	data, err := os.ReadFile(filepath.Join(dir, StatementFile))
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := ParseStatement(data, SLSAPredicate)
	if err != nil || len(subjects) != 3 {
		t.Fatalf("ParseStatement() = %v, %v; want 3 subjects", subjects, err)
	}
	if _, err := ParseStatement(data, SPDXPredicate); err == nil || !strings.Contains(err.Error(), "predicateType") {
		t.Errorf("another predicate type: %v", err)
	}
	sum := strings.Repeat("a", 64)
	for name, st := range map[string]string{
		"not json":     `{`,
		"trailing":     `{"_type":"https://in-toto.io/Statement/v1"} {}`,
		"wrong type":   `{"_type":"https://in-toto.io/Statement/v0.1"}`,
		"no subjects":  `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{},"subject":[]}`,
		"path subject": `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{},"subject":[{"name":"../x","digest":{"sha256":"` + sum + `"}}]}`,
		"twice":        `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{},"subject":[{"name":"x","digest":{"sha256":"` + sum + `"}},{"name":"x","digest":{"sha256":"` + sum + `"}}]}`,
		"no sha256":    `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{},"subject":[{"name":"x","digest":{"sha512":"` + sum + `"}}]}`,
		"no predicate": `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"name":"x","digest":{"sha256":"` + sum + `"}}]}`,
	} {
		if _, err := ParseStatement([]byte(st), SLSAPredicate); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{},"subject":[{"name":"x","digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}]}`))
	f.Add([]byte(`{"subject":[{"name":"..","digest":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		subjects, err := ParseStatement(data, SLSAPredicate)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range subjects {
			if s.Name != filepath.Base(s.Name) || strings.ContainsAny(s.Name, `/\`) || seen[s.Name] || !sha256RE.MatchString(s.SHA256) {
				t.Errorf("accepted subject %+v", s)
			}
			seen[s.Name] = true
		}
	})
}

func FuzzCheckSBOM(f *testing.F) {
	sum := strings.Repeat("b", 64)
	f.Add([]byte(sbomDoc("a.zip", sum)), sum)
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","documentNamespace":"x-sha256-`+strings.Repeat("c", 64)+`"}`), sum)
	f.Fuzz(func(t *testing.T, doc []byte, sum string) {
		if CheckSBOM(doc, sum) == nil && !strings.Contains(string(doc), "SPDX-") {
			t.Errorf("accepted a document without an SPDX version: %q", doc)
		}
	})
}

// Signing adds files and never changes the inputs, wherever the tree lies.
func TestSignTreeLeavesInputsAlone(t *testing.T) {
	dir := writeTree(t)
	before := listing(t, dir)
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	key := testKey(t)
	if _, err := SignTree(context.Background(), moved, offlineSigner(t, key), TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	after := listing(t, moved)
	for name, content := range before {
		if after[name] != content {
			t.Errorf("%s changed", name)
		}
	}
}
