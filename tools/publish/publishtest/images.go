package publishtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sbom"
)

// ImagePlatforms are the platforms of ImageTree's archives: the Linux
// ones, whose binaries the images hold.
var ImagePlatforms = []release.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}}

// ImageTree writes an unsigned release tree like Tree, for ImagePlatforms,
// with the container images oci_image_attested adds under images/: a
// linux/amd64 + linux/arm64 index in images/image, a linux/arm64 Lambda
// image in images/lambda with its SBOM images/lambda.sbom.json, and
// images/images.json. The Lambda image holds a real Go binary, whose SBOM
// it is, as relkit image build writes it; it needs the go command.
func ImageTree(t testing.TB, org, repo, tag, baseURL, content string) string {
	t.Helper()
	dir := tree(t, org, repo, tag, baseURL, content, 0, ImagePlatforms)
	tg, err := release.ParseTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	write := func(name, data string) string {
		t.Helper()
		p := filepath.Join(bin, name)
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	created := time.Unix(1700000000, 0)
	spec := oci.Spec{
		Name: repo, Created: created, CACerts: testCA(t),
		Binaries: map[oci.Platform]string{
			oci.LinuxAMD64: write("amd64", "\x7fELF "+content+" amd64"),
			oci.LinuxARM64: write("arm64", "\x7fELF "+content+" arm64"),
		},
		Labels: oci.Labels(created, repo, "", tg.Version(), "", "test connector"),
	}
	idx, err := oci.BuildIndex(spec)
	if err != nil {
		t.Fatal(err)
	}
	lambda := spec
	lambdaBin := GoBinary(t, repo)
	lambda.Binaries = map[oci.Platform]string{oci.LinuxARM64: lambdaBin}
	lambda.Format = oci.Docker
	img, err := oci.BuildImage(lambda, oci.LinuxARM64)
	if err != nil {
		t.Fatal(err)
	}
	summary := map[string]oci.Summary{}
	for name, a := range map[string]oci.Artifact{"image": {Index: idx}, "lambda": {Image: img}} {
		if err := oci.WriteLayout(filepath.Join(dir, "images", name), a); err != nil {
			t.Fatal(err)
		}
		if summary[name], err = oci.Summarize(a); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "images", "images.json"), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := sbom.GenerateAs(context.Background(), lambdaBin, repo, sbom.Options{Created: created, MainVersion: tg.String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "images", "lambda"+release.SBOMSuffix), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// GoBinary builds a tiny Go program (module example.com/NAME) for
// linux/arm64, named name, and returns its path. It needs the go command
// and its build cache only: the module has no requirements.
func GoBinary(t testing.TB, name string) string {
	t.Helper()
	src := t.TempDir()
	for file, data := range map[string]string{
		"go.mod":  "module example.com/" + name + "\n\ngo 1.22\n",
		"main.go": "package main\n\nfunc main() { println(\"lambda\") }\n",
	} {
		if err := os.WriteFile(filepath.Join(src, file), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// testCA is a fixed self-signed certificate for the default base's CA
// bundle.
func testCA(t testing.TB) []byte {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relkit test CA"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(2000000000, 0), IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
