package verify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/relkit/relkit/tools/provenance"
)

// Builder names the build platform SLSA provenance must record as
// runDetails.builder.id. Signatures prove who signed a statement; the
// builder.id in it says who built the artifact, and a release workflow
// that signs a locally built tree would otherwise pass.
type Builder struct {
	// ID, when set, is the exact builder.id to accept, e.g.
	// provenance.LocalBuilderID for a release built outside CI.
	ID string
	// Workflow (OWNER/REPO/PATH) and Ref give the release workflow when ID
	// is empty: builder.id must be https://github.com/Workflow@Ref, or
	// https://github.com/Workflow@COMMIT where COMMIT is the workflow
	// commit the signing certificate names (its Build Signer Digest),
	// which is what release builds record.
	Workflow, Ref string
}

// commitRE matches a full git commit SHA.
var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// check checks the builder.id of the provenance statement payload, signed
// in b.
func (p *Builder) check(payload []byte, b *bundle.Bundle) error {
	id, err := builderID(payload)
	if err != nil {
		return err
	}
	return p.match(id, signerDigest(b))
}

// builderID returns predicate.runDetails.builder.id of an in-toto
// statement with a SLSA provenance v1 predicate; empty when it has none.
func builderID(payload []byte) (string, error) {
	var st struct {
		Predicate struct {
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return "", fmt.Errorf("provenance statement: %w", err)
	}
	return st.Predicate.RunDetails.Builder.ID, nil
}

// match checks the builder.id got against the policy; signerCommit is the
// workflow commit of the signing certificate, or empty.
func (p *Builder) match(got, signerCommit string) error {
	want := []string{p.ID}
	if p.ID == "" {
		base := "https://github.com/" + p.Workflow + "@"
		want = []string{base + p.Ref}
		if commitRE.MatchString(signerCommit) && signerCommit != p.Ref {
			want = append(want, base+signerCommit)
		}
	}
	switch {
	case slices.Contains(want, got):
		return nil
	case got == "":
		return fmt.Errorf("provenance has no runDetails.builder.id, want %s", strings.Join(want, " or "))
	case got == provenance.LocalBuilderID:
		return fmt.Errorf("provenance builder.id is %s: the release was built outside the release workflow; want %s", got, strings.Join(want, " or "))
	}
	return fmt.Errorf("provenance builder.id is %s, want %s", got, strings.Join(want, " or "))
}

// signerDigest returns the Build Signer Digest of b's certificate: for
// GitHub Actions the commit of the workflow that signed. Key-signed bundles
// have none.
func signerDigest(b *bundle.Bundle) string {
	vc, err := b.VerificationContent()
	if err != nil || vc.Certificate() == nil {
		return ""
	}
	ext, err := certificate.ParseExtensions(vc.Certificate().Extensions)
	if err != nil {
		return ""
	}
	return ext.BuildSignerDigest
}
