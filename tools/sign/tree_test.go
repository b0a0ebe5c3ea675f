package sign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	sigsign "github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/release"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const (
	testRepo = "baton-test"
	testTag  = "v1.2.3"
)

var testPlatforms = []release.Platform{{OS: "linux", Arch: "amd64"}, {OS: "windows", Arch: "amd64"}}

// writeTree writes a release tree as the build half does: two archives with
// SBOMs, the checksums file, the provenance statement over the archives and
// the checksums file, and manifest.json. Content is fixed.
func writeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tag, err := release.ParseTag(testTag)
	if err != nil {
		t.Fatal(err)
	}
	var archives []string
	for _, p := range testPlatforms {
		name := release.ArchiveName(testRepo, tag, p)
		writeFile(t, dir, name, "archive "+name+"\n")
		archives = append(archives, filepath.Join(dir, name))
	}
	ctx := context.Background()
	lines, err := checksum.Files(ctx, archives)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		writeFile(t, dir, l.Name+release.SBOMSuffix, sbomDoc(l.Name, l.SHA256))
	}
	var buf bytes.Buffer
	if err := checksum.Write(&buf, lines); err != nil {
		t.Fatal(err)
	}
	cs := release.ChecksumsName(testRepo, tag)
	writeFile(t, dir, cs, buf.String())
	writeStatement(t, dir, append(archives, filepath.Join(dir, cs))...)
	m, err := manifest.Build(ctx, manifest.BuildOptions{
		Dir: dir, Org: "ConductorOne", Repo: testRepo, Tag: testTag,
		BaseURL: "https://dist.example.com", Platforms: testPlatforms, ExpectAttestations: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := manifest.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, ManifestFile, buf.String())
	return dir
}

func sbomDoc(name, sum string) string {
	return `{"spdxVersion":"SPDX-2.3","name":"` + name + `","documentNamespace":"https://spdx.relkit.dev/` + name + `-sha256-` + sum + `"}` + "\n"
}

func writeStatement(t *testing.T, dir string, paths ...string) {
	t.Helper()
	subjects, err := provenance.Subjects(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	st, err := provenance.Statement(subjects, provenance.BuildFacts{
		Repository: "ConductorOne/" + testRepo, Tag: testTag, Commit: strings.Repeat("ab", 20),
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := provenance.Write(&buf, st); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, StatementFile, buf.String())
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func offlineSigner(t *testing.T, k *ecdsa.PrivateKey) Signer {
	t.Helper()
	s, err := NewKeySigner(k, KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// listing maps every file in dir to its content.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func sameListing(t *testing.T, before, after map[string]string) {
	t.Helper()
	for name, content := range after {
		if old, ok := before[name]; !ok {
			t.Errorf("%s was written", name)
		} else if old != content {
			t.Errorf("%s was changed", name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("%s was removed", name)
		}
	}
}

func signTree(t *testing.T, dir string, s Signer) *TreeReport {
	t.Helper()
	rep, err := SignTree(context.Background(), dir, s, TreeOptions{})
	if err != nil {
		t.Fatalf("SignTree() = %v", err)
	}
	return rep
}

func TestSignTreeWritesEveryFile(t *testing.T) {
	dir := writeTree(t)
	key := testKey(t)
	s := offlineSigner(t, key)
	rep := signTree(t, dir, s)

	tag, _ := release.ParseTag(testTag)
	cs := release.ChecksumsName(testRepo, tag)
	var want []string
	for _, p := range testPlatforms {
		a := release.ArchiveName(testRepo, tag, p)
		want = append(want, a+release.SigSuffix, a+BundleSuffix, a+release.ProvenanceSuffix, a+release.SBOMBundleSuffix)
	}
	want = append(want, cs+release.SigSuffix, cs+BundleSuffix, cs+release.ProvenanceSuffix,
		ManifestFile+release.SigSuffix, ManifestFile+BundleSuffix)
	sort.Strings(want)
	if strings.Join(rep.Written, "\n") != strings.Join(want, "\n") {
		t.Errorf("written:\n%s\nwant:\n%s", strings.Join(rep.Written, "\n"), strings.Join(want, "\n"))
	}
	files := listing(t, dir)
	for name := range files {
		if strings.HasSuffix(name, release.CertSuffix) {
			t.Errorf("key mode wrote certificate %s", name)
		}
		if strings.Contains(name, ".tmp-") {
			t.Errorf("temporary file %s left behind", name)
		}
	}

	// Each .sig is the base64 ECDSA signature over the file, as cosign writes it.
	for _, name := range []string{cs, ManifestFile, release.ArchiveName(testRepo, tag, testPlatforms[0])} {
		sig, err := base64.StdEncoding.DecodeString(files[name+release.SigSuffix])
		if err != nil {
			t.Fatalf("%s.sig: %v", name, err)
		}
		sum := sha256.Sum256([]byte(files[name]))
		if !ecdsa.VerifyASN1(&key.PublicKey, sum[:], sig) {
			t.Errorf("%s.sig does not verify over %s", name, name)
		}
	}

	// The provenance bundles of all subjects are one bundle of the statement.
	a0 := release.ArchiveName(testRepo, tag, testPlatforms[0])
	if files[a0+release.ProvenanceSuffix] != files[cs+release.ProvenanceSuffix] {
		t.Error("provenance bundles of one statement differ")
	}
	v, err := s.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadBundle([]byte(files[a0+release.ProvenanceSuffix]))
	if err != nil {
		t.Fatal(err)
	}
	st, err := v.VerifyAttestation(b, checksumOf(files[a0]), SLSAPredicate)
	if err != nil {
		t.Fatalf("VerifyAttestation(provenance) = %v", err)
	}
	if string(st.Payload) != files[StatementFile] {
		t.Error("the provenance bundle does not hold provenance.intoto.json as built")
	}
	b, err = ReadBundle([]byte(files[a0+release.SBOMBundleSuffix]))
	if err != nil {
		t.Fatal(err)
	}
	st, err = v.VerifyAttestation(b, checksumOf(files[a0]), SPDXPredicate)
	if err != nil {
		t.Fatalf("VerifyAttestation(SBOM) = %v", err)
	}
	wantPayload, err := sbomStatement(a0, checksumOf(files[a0]), []byte(files[a0+release.SBOMSuffix]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(st.Payload, wantPayload) {
		t.Errorf("SBOM statement = %s, want %s", st.Payload, wantPayload)
	}
}

func checksumOf(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// The SBOM statement is part of what users verify: its form is fixed.
func TestSBOMStatementGolden(t *testing.T) {
	doc := `{"spdxVersion":"SPDX-2.3","name":"a <&> b.tar.gz"}`
	got, err := sbomStatement("a.tar.gz", strings.Repeat("0f", 32), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "sbom_statement.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("sbomStatement() =\n%s\nwant\n%s", got, want)
	}
}

func TestSignTreeRerunKeepsValidBundles(t *testing.T) {
	dir := writeTree(t)
	s := offlineSigner(t, testKey(t))
	signTree(t, dir, s)
	before := listing(t, dir)

	rep := signTree(t, dir, s)
	if len(rep.Written) != 0 {
		t.Errorf("re-run wrote %v", rep.Written)
	}
	sameListing(t, before, listing(t, dir))

	// A lost bundle is restored without signing again: the provenance
	// bundle is shared, the blob's .sig comes from its bundle.
	tag, _ := release.ParseTag(testTag)
	a0 := release.ArchiveName(testRepo, tag, testPlatforms[0])
	for _, f := range []string{a0 + release.ProvenanceSuffix, a0 + release.SigSuffix} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	counting := &countingSigner{Signer: s}
	rep, err := SignTree(context.Background(), dir, counting, TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := counting.calls.Load(); n != 0 {
		t.Errorf("restoring copies signed %d times, want 0", n)
	}
	if strings.Join(rep.Written, " ") != a0+release.ProvenanceSuffix+" "+a0+release.SigSuffix {
		t.Errorf("written = %v", rep.Written)
	}
	sameListing(t, before, listing(t, dir))

	// A changed SBOM is attested again; nothing else is touched.
	writeFile(t, dir, a0+release.SBOMSuffix, sbomDoc(a0+" v2", checksumOf(before[a0])))
	rep, err = SignTree(context.Background(), dir, counting, TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := counting.calls.Load(); n != 1 || strings.Join(rep.Written, " ") != a0+release.SBOMBundleSuffix {
		t.Errorf("after an SBOM change: %d signatures, written %v; want 1, [%s]", n, rep.Written, a0+release.SBOMBundleSuffix)
	}
}

// A bundle from another key is not kept: the re-run signs with the new one.
func TestSignTreeResignsForAnotherKey(t *testing.T) {
	dir := writeTree(t)
	signTree(t, dir, offlineSigner(t, testKey(t)))
	rep := signTree(t, dir, offlineSigner(t, testKey(t)))
	if len(rep.Kept) != 0 {
		t.Errorf("kept %v signed by another key", rep.Kept)
	}
}

func TestSignTreeRemovesStaleCertificate(t *testing.T) {
	dir := writeTree(t)
	writeFile(t, dir, ManifestFile+release.CertSuffix, "-----BEGIN CERTIFICATE-----\n")
	rep := signTree(t, dir, offlineSigner(t, testKey(t)))
	if strings.Join(rep.Removed, " ") != ManifestFile+release.CertSuffix {
		t.Errorf("removed = %v", rep.Removed)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile+release.CertSuffix)); err == nil {
		t.Error("stale certificate left beside a key-mode signature")
	}
}

func TestSignTreeRefusesInconsistentTrees(t *testing.T) {
	tag, _ := release.ParseTag(testTag)
	a0 := release.ArchiveName(testRepo, tag, testPlatforms[0])
	a1 := release.ArchiveName(testRepo, tag, testPlatforms[1])
	cs := release.ChecksumsName(testRepo, tag)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		want   string
	}{
		{"tampered artifact", func(t *testing.T, dir string) {
			writeFile(t, dir, a0, "tampered\n")
		}, a0 + ": sha256 differs from " + cs},
		{"missing artifact", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, a1))
		}, a1 + ": listed in " + cs + " but missing"},
		{"statement digest", func(t *testing.T, dir string) {
			st := readFile(t, dir, StatementFile)
			st = strings.Replace(st, checksumOf(readFile(t, dir, a0)), strings.Repeat("0", 64), 1)
			writeFile(t, dir, StatementFile, st)
		}, "subject " + a0 + " has sha256 " + strings.Repeat("0", 64)},
		{"statement misses an artifact", func(t *testing.T, dir string) {
			writeStatement(t, dir, filepath.Join(dir, a0))
		}, "does not cover " + a1},
		{"statement missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, StatementFile))
		}, StatementFile + ": missing"},
		{"sbom of another artifact", func(t *testing.T, dir string) {
			writeFile(t, dir, a0+release.SBOMSuffix, sbomDoc(a0, strings.Repeat("1", 64)))
		}, a0 + release.SBOMSuffix + ": describes an artifact with sha256 " + strings.Repeat("1", 64)},
		{"sbom not spdx", func(t *testing.T, dir string) {
			writeFile(t, dir, a0+release.SBOMSuffix, `{"bomFormat":"CycloneDX"}`)
		}, "spdxVersion is \"\""},
		{"manifest digest", func(t *testing.T, dir string) {
			m := readFile(t, dir, ManifestFile)
			writeFile(t, dir, ManifestFile, strings.Replace(m, checksumOf(readFile(t, dir, a1)), strings.Repeat("2", 64), 1))
		}, "sha256 " + strings.Repeat("2", 64) + ", the file has"},
		{"no checksums", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, cs))
		}, "no *_checksums.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t)
			tc.change(t, dir)
			before := listing(t, dir)
			_, err := SignTree(context.Background(), dir, offlineSigner(t, testKey(t)), TreeOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SignTree() = %v, want an error containing %q", err, tc.want)
			}
			sameListing(t, before, listing(t, dir))
		})
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A signature failing midway (Rekor down, say) leaves no file behind, even
// though other signatures succeeded.
func TestSignTreeFailureWritesNothing(t *testing.T) {
	dir := writeTree(t)
	before := listing(t, dir)
	s := &countingSigner{Signer: offlineSigner(t, testKey(t)), failAt: 4}
	_, err := SignTree(context.Background(), dir, s, TreeOptions{Jobs: 1})
	if err == nil || !strings.Contains(err.Error(), "rekor unreachable") {
		t.Fatalf("SignTree() = %v, want the signer's error", err)
	}
	sameListing(t, before, listing(t, dir))
}

func TestSignTreeBoundsConcurrency(t *testing.T) {
	dir := writeTree(t)
	s := &countingSigner{Signer: offlineSigner(t, testKey(t)), delay: 20 * time.Millisecond}
	if _, err := SignTree(context.Background(), dir, s, TreeOptions{Jobs: 2}); err != nil {
		t.Fatal(err)
	}
	if s.max > 2 {
		t.Errorf("%d signatures in flight, want at most 2", s.max)
	}
	if s.max < 2 {
		t.Errorf("at most %d signature in flight, want 2 (parallel)", s.max)
	}
}

// countingSigner counts signatures, can fail the nth, and records how many
// ran at once.
type countingSigner struct {
	Signer
	failAt int64
	delay  time.Duration

	calls    atomic.Int64
	mu       sync.Mutex
	inFlight int
	max      int
}

func (c *countingSigner) Sign(ctx context.Context, content sigsign.Content) (*protobundle.Bundle, error) {
	n := c.calls.Add(1)
	c.mu.Lock()
	c.inFlight++
	c.max = max(c.max, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	time.Sleep(c.delay)
	if n == c.failAt {
		return nil, errors.New("rekor unreachable")
	}
	return c.Signer.Sign(ctx, content)
}
