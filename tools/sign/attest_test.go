package sign

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func imageStatement(hexDigest, predicateType string) []byte {
	return fmt.Appendf(nil, `{"_type":%q,"subject":[{"digest":{"sha256":%q}}],"predicateType":%q,"predicate":{}}`, StatementType, hexDigest, predicateType)
}

func TestSignAttestationsKeepsAndReuses(t *testing.T) {
	ctx := context.Background()
	s := offlineSigner(t, testKey(t))
	digest := strings.Repeat("ab", 32)
	atts := []Attestation{
		{File: "image.provenance.sigstore.json", SHA256: digest, PredicateType: SLSAPredicate, Statement: imageStatement(digest, SLSAPredicate)},
		{File: "image.sbom.sigstore.json", SHA256: digest, PredicateType: SPDXPredicate, Statement: imageStatement(digest, SPDXPredicate)},
	}
	dir := t.TempDir()
	rep, err := SignAttestations(ctx, dir, s, atts, TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Written) != 2 || len(rep.Kept) != 0 {
		t.Fatalf("first run: %+v", rep)
	}
	prov, err := os.ReadFile(filepath.Join(dir, atts[0].File))
	if err != nil {
		t.Fatal(err)
	}

	// Again: both bundles verify and are kept.
	if rep, err = SignAttestations(ctx, dir, s, atts, TreeOptions{}); err != nil || len(rep.Kept) != 2 || len(rep.Written) != 0 {
		t.Fatalf("second run: %+v, %v", rep, err)
	}

	// A new directory with the published bundle offered: it is restored,
	// not signed again (ECDSA would give other bytes).
	fresh := t.TempDir()
	reuse := append([]Attestation(nil), atts...)
	reuse[0].Reuse = [][]byte{[]byte("not a bundle"), prov}
	if _, err := SignAttestations(ctx, fresh, s, reuse, TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(fresh, atts[0].File)); !bytes.Equal(got, prov) {
		t.Error("the offered bundle was not reused")
	}

	// A bundle over another statement, or by another key, is not reused.
	changed := append([]Attestation(nil), atts...)
	changed[0].Statement = imageStatement(strings.Repeat("cd", 32), SLSAPredicate)
	changed[0].SHA256 = strings.Repeat("cd", 32)
	changed[0].Reuse = [][]byte{prov}
	other := offlineSigner(t, testKey(t))
	for _, c := range []struct {
		s    Signer
		atts []Attestation
	}{{s, changed}, {other, reuse}} {
		d := t.TempDir()
		if _, err := SignAttestations(ctx, d, c.s, c.atts, TreeOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(d, atts[0].File)); bytes.Equal(got, prov) {
			t.Error("a bundle that does not verify for the statement and signer was reused")
		}
	}
}

func TestSignAttestationsRefusesPaths(t *testing.T) {
	s := offlineSigner(t, testKey(t))
	for _, name := range []string{"", "../x.json", "a/b.json", ".."} {
		_, err := SignAttestations(context.Background(), t.TempDir(), s, []Attestation{{File: name}}, TreeOptions{})
		if err == nil || !strings.Contains(err.Error(), "plain file name") {
			t.Errorf("%q: err = %v", name, err)
		}
	}
}

func TestSignAttestationsWritesNothingOnFailure(t *testing.T) {
	s := offlineSigner(t, testKey(t))
	dir := t.TempDir()
	digest := strings.Repeat("ab", 32)
	atts := []Attestation{
		{File: "good.json", SHA256: digest, PredicateType: SLSAPredicate, Statement: imageStatement(digest, SLSAPredicate)},
		// The statement is about another digest: the new bundle does not verify.
		{File: "bad.json", SHA256: digest, PredicateType: SLSAPredicate, Statement: imageStatement(strings.Repeat("cd", 32), SLSAPredicate)},
	}
	if _, err := SignAttestations(context.Background(), dir, s, atts, TreeOptions{}); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("err = %v, want one naming bad.json", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %d files", len(entries))
	}
}
