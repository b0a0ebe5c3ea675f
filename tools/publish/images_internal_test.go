package publish

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/relkit/relkit/tools/testutil/golden"
)

// TestImageAttestationsGolden pins the statements signed about an image:
// provenance with the tree's predicate, the SBOM renamed after the image,
// and the signature as cosign makes it.
func TestImageAttestationsGolden(t *testing.T) {
	prov := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a.tar.gz","digest":{"sha256":"` + strings.Repeat("1", 64) + `"}}],` +
		`"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"https://relkit.dev/provenance/connector-release/v1"},"runDetails":{"builder":{"id":"https://github.com/relkit/relkit/.github/workflows/release.yaml@refs/tags/v1.0.0"}}}}`)
	sbomDoc := []byte(`{"spdxVersion":"SPDX-2.3","name":"a.tar.gz","documentNamespace":"https://spdx.relkit.dev/a.tar.gz-sha256-` + strings.Repeat("1", 64) + `","packages":[{"name":"<&>"}]}`)
	digest := "sha256:" + strings.Repeat("ab", 32)
	atts, err := imageAttestations("image", "public.ecr.aws/acme/baton-foo", digest, prov, "a.tar.gz.sbom.json", sbomDoc)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, a := range atts {
		if a.SHA256 != strings.Repeat("ab", 32) || !json.Valid(a.Statement) {
			t.Errorf("%s: subject %s, valid JSON %v", a.File, a.SHA256, json.Valid(a.Statement))
		}
		out.WriteString(a.File + " " + a.PredicateType + "\n")
		out.Write(a.Statement)
		out.WriteString("\n")
	}
	golden.Check(t, "image-attestations", out.Bytes())
}

func TestImageAttestationsRefuseBadInput(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	good := []byte(`{"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`)
	for _, c := range []struct {
		name       string
		prov, sbom string
		want       string
	}{
		{"provenance not JSON", "nope", `{"spdxVersion":"SPDX-2.3"}`, "provenance.intoto.json"},
		{"provenance of another type", `{"predicateType":"x","predicate":{}}`, `{"spdxVersion":"SPDX-2.3"}`, "provenance.intoto.json"},
		{"SBOM not SPDX", string(good), `{"bomFormat":"CycloneDX"}`, "x.sbom.json: not an SPDX"},
		{"SBOM not JSON", string(good), `[`, "x.sbom.json: not an SPDX"},
	} {
		_, err := imageAttestations("image", "r.example/a", digest, []byte(c.prov), "x.sbom.json", []byte(c.sbom))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func FuzzRenameSBOM(f *testing.F) {
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","name":"x","documentNamespace":"y"}`), "r@sha256:ab")
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3"}`), "")
	f.Add([]byte(`[]`), "n")
	f.Fuzz(func(t *testing.T, doc []byte, name string) {
		out, err := renameSBOM(doc, name, "ns")
		if err != nil {
			return
		}
		var d struct {
			SPDXVersion       string `json:"spdxVersion"`
			Name              string `json:"name"`
			DocumentNamespace string `json:"documentNamespace"`
		}
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if !strings.HasPrefix(d.SPDXVersion, "SPDX-") || d.DocumentNamespace != "ns" || d.Name != name {
			t.Fatalf("renamed document %+v for name %q", d, name)
		}
		if again, err := renameSBOM(out, name, "ns"); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("renaming again changed the document: %v", err)
		}
	})
}
