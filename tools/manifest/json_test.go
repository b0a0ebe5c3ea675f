package manifest

import (
	"bytes"
	"github.com/relkit/relkit/tools/testutil/golden"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	hexA = strings.Repeat("a", 64)
	hexD = strings.Repeat("d", 64)
)

func read(t *testing.T, s string) (*Manifest, error) {
	t.Helper()
	return Read(strings.NewReader(s))
}

func write(t *testing.T, m *Manifest) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// assetJSON is a minimal manifest with one asset whose sizeBytes is size.
func assetJSON(size string) string {
	return `{"version":"2","assets":{"x":{"sha256":"` + hexA + `","sizeBytes":` + size + `}}}`
}

// TestReadReferenceManifest reads a manifest as the previous pipeline wrote
// it (nulls, a numeric sizeBytes, unknown fields) and writes it the fixed way.
func TestReadReferenceManifest(t *testing.T) {
	data, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Assets["checksums"].SizeBytes; got != 638 {
		t.Errorf("numeric sizeBytes read as %d, want 638", got)
	}
	if got := m.Assets["darwin-arm64"].SizeBytes; got != 9123456 {
		t.Errorf("string sizeBytes read as %d, want 9123456", got)
	}
	if a := m.Assets["windows-amd64-msi"]; a.SignatureHref != "" || a.Attestations != nil {
		t.Errorf("nulls and empty lists not read as unset: %+v", a)
	}
	want := time.Date(2026, 5, 6, 17, 41, 9, 123456789, time.UTC)
	if !m.ReleasedAt.Equal(want) {
		t.Errorf("releasedAt = %v, want %v", m.ReleasedAt, want)
	}
	out := write(t, m)
	golden.Check(t, "reference-rewritten", out)
	if bytes.Contains(out, []byte("null")) {
		t.Error("written manifest contains null")
	}
}

func TestReadSizeBytes(t *testing.T) {
	for _, tt := range []struct {
		json string
		want int64
	}{
		{`"123"`, 123},
		{`123`, 123},
		{`"0"`, 0},
		{`0`, 0},
		{`"9223372036854775807"`, 1<<63 - 1},
	} {
		m, err := read(t, assetJSON(tt.json))
		if err != nil {
			t.Errorf("sizeBytes %s: %v", tt.json, err)
			continue
		}
		if got := m.Assets["x"].SizeBytes; got != tt.want {
			t.Errorf("sizeBytes %s read as %d, want %d", tt.json, got, tt.want)
		}
		if out := write(t, m); !bytes.Contains(out, []byte(`"sizeBytes": "`)) {
			t.Errorf("sizeBytes not written as a string:\n%s", out)
		}
	}
	for _, bad := range []string{`-1`, `"-1"`, `1.5`, `"1e3"`, `1e3`, `true`, `"abc"`, `""`, `"9223372036854775808"`, `null`, `{}`} {
		_, err := read(t, assetJSON(bad))
		if err == nil || !strings.Contains(err.Error(), `assets["x"].sizeBytes:`) {
			t.Errorf("sizeBytes %s: err = %v, want an error naming assets[\"x\"].sizeBytes", bad, err)
		}
	}
	_, err := read(t, `{"version":"2","assets":{"x":{"sha256":"`+hexA+`"}}}`)
	if err == nil || !strings.Contains(err.Error(), `assets["x"].sizeBytes: missing`) {
		t.Errorf("missing sizeBytes: err = %v", err)
	}
}

func TestReadNamesTheBadField(t *testing.T) {
	image := func(fields string) string {
		return `{"version":"2","images":{"ecrPublic":{` + fields + `}}}`
	}
	ref := `"ref":"public.ecr.aws/o/r:1.0.0"`
	digest := `"digest":"sha256:` + hexD + `"`
	tests := []struct {
		name, json, want string
	}{
		{"no version", `{"name":"r"}`, "version: missing"},
		{"null version", `{"version":null}`, "version: missing"},
		{"short sha256", `{"version":"2","assets":{"linux-amd64":{"sha256":"abc","sizeBytes":"1"}}}`, `assets["linux-amd64"].sha256: want 64 lower-case hex digits, got "abc"`},
		{"upper-case sha256", `{"version":"2","assets":{"linux-amd64":{"sha256":"` + strings.Repeat("A", 64) + `","sizeBytes":"1"}}}`, `assets["linux-amd64"].sha256`},
		{"null asset", `{"version":"2","assets":{"linux-amd64":null}}`, `assets["linux-amd64"]: null`},
		{"asset of wrong type", `{"version":"2","assets":{"linux-amd64":[]}}`, `assets["linux-amd64"]:`},
		{"empty key", `{"version":"2","assets":{"":{"sha256":"` + hexA + `","sizeBytes":1}}}`, `assets[""]: empty key`},
		{"image digest without prefix", image(ref + `,"digest":"` + hexD + `"`), `images["ecrPublic"].digest: want sha256:<64 lower-case hex digits>`},
		{"image without ref", image(digest), `images["ecrPublic"].ref: missing`},
		{"image ref without tag", image(`"ref":"host:5000/o/r",` + digest), `images["ecrPublic"].ref: "host:5000/o/r" has no tag`},
		{"image ref with digest", image(`"ref":"o/r:1@sha256:` + hexD + `",` + digest), `images["ecrPublic"].ref:`},
		{"image uri mismatch", image(ref + `,` + digest + `,"uri":"public.ecr.aws/o/other@sha256:` + hexD + `"`), `images["ecrPublic"].uri: want "public.ecr.aws/o/r@sha256:` + hexD + `"`},
		{"image tag mismatch", image(ref + `,` + digest + `,"tag":"2.0.0"`), `images["ecrPublic"].tag: "2.0.0" does not match`},
		{"null image", `{"version":"2","images":{"ecrPublic":null}}`, `images["ecrPublic"].ref: missing`},
		{"released at", `{"version":"2","releasedAt":"yesterday"}`, `releasedAt: want an RFC 3339 time`},
		{"not an object", `[]`, "not a manifest"},
		{"trailing data", `{"version":"2"} {}`, "not a manifest"},
		{"empty", " \n", "empty input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read(t, tt.json)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadAcceptsImagesWithoutVersion2Fields(t *testing.T) {
	// Version "1" images had only ref and digest.
	m, err := read(t, `{"version":"1","images":{"index":{"ref":"ghcr.io/o/r:1.0.0","digest":"sha256:`+hexD+`"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Images["index"]; got.Ref != "ghcr.io/o/r:1.0.0" {
		t.Errorf("image = %+v", got)
	}
}

func TestReadNormalizesReleasedAtToUTC(t *testing.T) {
	m, err := read(t, `{"version":"2","releasedAt":"2026-05-06T19:41:09+02:00"}`)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(write(t, m), []byte(`"releasedAt": "2026-05-06T17:41:09Z"`)) {
		t.Errorf("releasedAt not written in UTC:\n%s", write(t, m))
	}
}

func TestWriteRefusesInvalidManifest(t *testing.T) {
	var buf bytes.Buffer
	m := &Manifest{Version: "2", Assets: map[string]Asset{"x": {SHA256: "nope", SizeBytes: -1}}}
	err := Write(&buf, m)
	if err == nil || !strings.Contains(err.Error(), `assets["x"].sha256`) || !strings.Contains(err.Error(), `assets["x"].sizeBytes: -1 is negative`) {
		t.Errorf("err = %v, want both problems named", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q for an invalid manifest", buf.String())
	}
}

func TestReadFragmentNeedsNoVersion(t *testing.T) {
	m, err := ReadFragment(strings.NewReader(`{"images":{"ecrPublic":{"ref":"r:1","digest":"sha256:` + hexD + `","isIndex":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Images["ecrPublic"].IsIndex {
		t.Errorf("fragment = %+v", m)
	}
	if _, err := ReadFragment(strings.NewReader(`{"images":{"ecrPublic":{"ref":"r:1","digest":"sha256:x"}}}`)); err == nil {
		t.Error("fragment with a bad digest accepted")
	}
	if _, err := ReadFragment(strings.NewReader("")); err == nil {
		t.Error("empty fragment accepted")
	}
}

// FuzzRead checks that Read never panics and that whatever it accepts
// writes out and reads back to the same value and the same bytes.
func FuzzRead(f *testing.F) {
	// Seeds stay small: the fuzzer minimizes every new input, and that
	// takes long for inputs of kilobytes.
	f.Add([]byte(assetJSON(`"12"`)))
	f.Add([]byte(`{"version":"2","releasedAt":"0001-01-01T00:30:00+01:00","signatureHref":null}`))
	f.Add([]byte(`{"version":"1","assets":{"c":{"sha256":"` + hexA + `","sizeBytes":7,"sbomHref":null,"attestations":[]},` +
		`"z":{"sha256":"` + hexA + `","sizeBytes":"0","attestations":[{"predicateType":"p","bundleHref":"u"}]}}}`))
	f.Add([]byte(`{"version":"2","images":{"i":{"ref":"h:1/r:t","digest":"sha256:` + hexD + `","uri":"h:1/r@sha256:` + hexD + `","tag":"t","isIndex":true}},` +
		`"imageAttestation":{"attestationType":"a","bundleHref":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadFragment(bytes.NewReader(data)) // must not panic either
		m, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := Write(&first, m); err != nil {
			t.Fatalf("accepted manifest does not write: %v", err)
		}
		back, err := Read(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("written manifest does not read back: %v\n%s", err, first.Bytes())
		}
		if !reflect.DeepEqual(m, back) {
			t.Fatalf("manifest changed through a write and read:\n got %+v\nwant %+v", back, m)
		}
		var second bytes.Buffer
		if err := Write(&second, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("second write differs:\n%s\n---\n%s", first.Bytes(), second.Bytes())
		}
	})
}
