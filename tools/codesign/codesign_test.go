package codesign_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"archive/zip"

	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"

	msitemplates "github.com/relkit/relkit/templates/msi"
	"github.com/relkit/relkit/tools/archive"
	"github.com/relkit/relkit/tools/authenticode"
	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/codesign"
	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/macos/macostest"
	"github.com/relkit/relkit/tools/macos/notary"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/msi"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/sbom"
	"github.com/relkit/relkit/tools/testutil/wintest"
)

const (
	org   = "ConductorOne"
	repo  = "baton-demo"
	tag   = "v1.2.3"
	epoch = 1767225601 // odd: zip times round it down, the MSI and SBOM keep it
)

var platforms = []release.Platform{{OS: "darwin", Arch: "arm64"}, {OS: "linux", Arch: "amd64"}, {OS: "windows", Arch: "amd64"}}

var (
	treeOnce sync.Once
	treeDir  string
	treeErr  error
)

// builtTree makes, once, the unsigned release tree the build writes: a
// Go binary per platform in its archive with an SBOM, the MSI with its
// recipe in index.json, checksums, provenance and manifest. Each test
// gets its own copy.
func builtTree(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"osslsigncode", "wixl", "msiextract", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: run scripts/install-msi-tools.sh", tool)
		}
	}
	treeOnce.Do(func() {
		treeDir, treeErr = os.MkdirTemp("", "relkit-codesign-tree-")
		if treeErr == nil {
			treeErr = writeTree(treeDir)
		}
	})
	if treeErr != nil {
		t.Fatal(treeErr)
	}
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.CopyFS(dir, os.DirFS(treeDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if treeDir != "" {
		os.RemoveAll(treeDir)
	}
	os.Exit(code)
}

func writeTree(dir string) error {
	ctx, err := sbom.Prepare(context.Background())
	if err != nil {
		return err
	}
	tg, _ := release.ParseTag(tag)
	bins, err := os.MkdirTemp("", "relkit-codesign-bins-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bins)
	var assets []string
	var exe string
	for _, p := range platforms {
		bin := filepath.Join(bins, p.Key(), p.BinaryName(repo))
		if err := goBuild(p, bin); err != nil {
			return err
		}
		if p.OS == "windows" {
			exe = bin
		}
		name := release.ArchiveName(repo, tg, p)
		err := archive.WriteFile(filepath.Join(dir, name), []archive.Entry{{Name: p.BinaryName(repo), Path: bin}},
			archive.Options{Format: archive.Format(p.ArchiveFormat()), MTime: time.Unix(epoch, 0)})
		if err != nil {
			return err
		}
		doc, err := sbom.Generate(ctx, filepath.Join(dir, name), sbom.Options{Created: time.Unix(epoch, 0)})
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+release.SBOMSuffix), doc, 0o644); err != nil {
			return err
		}
		assets = append(assets, filepath.Join(dir, name))
	}
	msiName := release.MSIName(repo, tg, "amd64")
	tmpl, _ := msitemplates.FS.ReadFile("default.wxs")
	if err := os.WriteFile(filepath.Join(dir, msiName+".wxs"), tmpl, 0o644); err != nil {
		return err
	}
	vars, err := msi.NewVars(repo, "", org, tg, "amd64")
	if err != nil {
		return err
	}
	if _, err := msi.Build(ctx, filepath.Join(dir, msiName), msi.Options{Vars: vars, Binary: exe, Template: tmpl, TemplateName: "default.wxs", Epoch: epoch}); err != nil {
		return err
	}
	assets = append(assets, filepath.Join(dir, msiName))
	index := map[string]any{"installers": []codesign.Installer{{Arch: "amd64", MSI: msiName, Name: repo, Vendor: org, Template: msiName + ".wxs"}}}
	b, _ := json.MarshalIndent(index, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, codesign.IndexFile), b, 0o644); err != nil {
		return err
	}
	lines, err := checksum.Files(ctx, assets)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := checksum.Write(&buf, lines); err != nil {
		return err
	}
	cs := filepath.Join(dir, release.ChecksumsName(repo, tg))
	if err := os.WriteFile(cs, buf.Bytes(), 0o644); err != nil {
		return err
	}
	subjects, err := provenance.Subjects(ctx, append(assets, cs))
	if err != nil {
		return err
	}
	st, err := provenance.Statement(subjects, provenance.BuildFacts{Repository: org + "/" + repo, Tag: tag, Commit: strings.Repeat("ab", 20), Toolchains: map[string]string{"go": "go1.26.8"}})
	if err != nil {
		return err
	}
	buf.Reset()
	if err := provenance.Write(&buf, st); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "provenance.intoto.json"), buf.Bytes(), 0o644); err != nil {
		return err
	}
	m, err := manifest.Build(ctx, manifest.BuildOptions{Dir: dir, Org: org, Repo: repo, Tag: tag, BaseURL: "https://dist.example.com", Platforms: platforms, ExpectAttestations: true})
	if err != nil {
		return err
	}
	buf.Reset()
	if err := manifest.Write(&buf, m); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), buf.Bytes(), 0o644)
}

// goBuild cross-compiles a small module-aware program as a release does.
func goBuild(p release.Platform, out string) error {
	src, err := os.MkdirTemp("", "relkit-codesign-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	files := map[string]string{
		"go.mod":  "module example.com/" + repo + "\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"demo connector\") }\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS="+p.OS, "GOARCH="+p.Arch, "CGO_ENABLED=0", "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOTOOLCHAIN=local", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", p, err, b)
	}
	return nil
}

// keys are the test identities of one test.
type keys struct {
	mac *macostest.PKI
	win wintest.PKI
}

func newKeys(t *testing.T) keys {
	t.Helper()
	return keys{mac: macostest.NewPKI(t), win: wintest.NewPKI(t)}
}

func (k keys) options(t *testing.T) codesign.Options {
	t.Helper()
	id, err := macos.LoadIdentity(k.mac.PKCS12, k.mac.Password, k.mac.Roots, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p12, err := os.ReadFile(k.win.PKCS12)
	if err != nil {
		t.Fatal(err)
	}
	return codesign.Options{
		MacOS:   &codesign.MacOS{Identity: id, Roots: k.mac.Roots},
		Windows: &codesign.Windows{PKCS12: p12, Password: k.win.Password, CAFile: k.win.CA},
	}
}

func names(tg release.Tag) (darwin, linux, windows, msiName, cs string) {
	return release.ArchiveName(repo, tg, platforms[0]), release.ArchiveName(repo, tg, platforms[1]),
		release.ArchiveName(repo, tg, platforms[2]), release.MSIName(repo, tg, "amd64"), release.ChecksumsName(repo, tg)
}

func TestResignWithoutIdentitiesChangesNothing(t *testing.T) {
	dir := builtTree(t)
	before := digests(t, dir)
	rep, err := codesign.Resign(context.Background(), dir, codesign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if after := digests(t, dir); !equalMaps(before, after) {
		t.Errorf("the tree changed without identities")
	}
	if len(rep.Signed)+len(rep.Reused)+len(rep.Updated) != 0 || len(rep.Notarization) != 1 || rep.Notarization[0].Status != notary.NotNotarized {
		t.Errorf("report %+v", rep)
	}
}

func TestResignSignsAndUpdatesEverything(t *testing.T) {
	dir := builtTree(t)
	tg, _ := release.ParseTag(tag)
	darwin, linux, windows, msiName, cs := names(tg)
	before := digests(t, dir)
	k := newKeys(t)
	rep, err := codesign.Resign(context.Background(), dir, k.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{darwin, windows, msiName}; !slices.Equal(rep.Signed, slices.Sorted(slices.Values(want))) {
		t.Errorf("signed %v, want %v", rep.Signed, want)
	}
	after := digests(t, dir)
	for _, name := range []string{darwin, windows, msiName, cs, darwin + ".sbom.json", windows + ".sbom.json", "provenance.intoto.json", "manifest.json"} {
		if before[name] == after[name] {
			t.Errorf("%s did not change", name)
		}
	}
	for _, name := range []string{linux, linux + ".sbom.json", codesign.IndexFile, msiName + ".wxs"} {
		if before[name] != after[name] {
			t.Errorf("%s changed", name)
		}
	}
	k.checkTree(t, dir)
}

// checkTree checks what users rely on in a signed tree.
func (k keys) checkTree(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	tg, _ := release.ParseTag(tag)
	darwin, _, windows, msiName, cs := names(tg)

	// The darwin binary is signed by the identity, and is the built one.
	name, bin, mtime := onlyEntry(t, filepath.Join(dir, darwin))
	sig, err := macos.Verify(bin, k.mac.Roots)
	if err != nil {
		t.Fatalf("%s: %v", darwin, err)
	}
	if sig.Identifier != "com.conductorone."+repo || !sig.HardenedRuntime || !sig.Chain[0].Equal(k.mac.Leaf) {
		t.Errorf("darwin signature: identifier %q, hardened runtime %v", sig.Identifier, sig.HardenedRuntime)
	}
	if !sig.SigningTime.Equal(time.Unix(epoch, 0)) {
		t.Errorf("darwin signing time %s, want the commit time", sig.SigningTime)
	}
	if name != repo || mtime.Unix() != epoch-1 {
		t.Errorf("darwin zip entry %q at %s", name, mtime)
	}

	// The windows exe and the MSI verify with osslsigncode, and the MSI
	// installs the zip's signed exe.
	_, exe, _ := onlyEntry(t, filepath.Join(dir, windows))
	exePath := filepath.Join(t.TempDir(), repo+".exe")
	if err := os.WriteFile(exePath, exe, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{exePath, filepath.Join(dir, msiName)} {
		if err := authenticode.Verify(ctx, f, authenticode.VerifyOptions{CAFile: k.win.CA}); err != nil {
			t.Errorf("authenticode: %v", err)
		}
	}
	if installed := msiExe(t, filepath.Join(dir, msiName)); !bytes.Equal(installed, exe) {
		t.Errorf("the MSI does not install the zip's signed exe")
	}
	if err := authenticode.Verify(ctx, exePath, authenticode.VerifyOptions{CAFile: k.win.CA}); err != nil {
		t.Errorf("the exe inside the MSI: %v", err)
	}

	// Checksums, SBOMs, provenance and manifest agree with the files.
	raw, err := os.ReadFile(filepath.Join(dir, cs))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := checksum.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if got := sha(t, filepath.Join(dir, l.Name)); got != l.SHA256 {
			t.Errorf("checksums: %s is %s, the file has %s", l.Name, l.SHA256, got)
		}
	}
	for _, a := range []string{darwin, windows} {
		doc, err := os.ReadFile(filepath.Join(dir, a+".sbom.json"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := sbom.Generate(ctx, filepath.Join(dir, a), sbom.Options{Created: time.Unix(epoch, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(doc, want) || !bytes.Contains(doc, []byte(sbom.NamespacePrefix+a+"-sha256-"+sha(t, filepath.Join(dir, a)))) {
			t.Errorf("%s.sbom.json is not the SBOM of the signed archive", a)
		}
	}
	var st provenance.StatementV1
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "provenance.intoto.json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Subject) != 5 || st.Predicate.BuildDefinition.InternalParameters.Toolchains["go"] != "go1.26.8" {
		t.Errorf("provenance lost subjects or fields: %+v", st)
	}
	for _, s := range st.Subject {
		if got := sha(t, filepath.Join(dir, s.Name)); s.Digest["sha256"] != got {
			t.Errorf("provenance subject %s: %s, the file has %s", s.Name, s.Digest["sha256"], got)
		}
	}
	m, err := manifest.Read(bytes.NewReader(readFile(t, filepath.Join(dir, "manifest.json"))))
	if err != nil {
		t.Fatal(err)
	}
	for key, a := range m.Assets {
		data := readFile(t, filepath.Join(dir, a.Filename))
		if a.SHA256 != sha(t, filepath.Join(dir, a.Filename)) || a.SizeBytes != int64(len(data)) {
			t.Errorf("manifest %s: sha256 %s size %d do not match %s", key, a.SHA256, a.SizeBytes, a.Filename)
		}
	}
}

func TestResignResumesFromPublishedFiles(t *testing.T) {
	ctx := context.Background()
	tg, _ := release.ParseTag(tag)
	darwin, _, windows, msiName, _ := names(tg)
	k := newKeys(t)

	// A first attempt signs and publishes the darwin zip and the MSI, not
	// the windows zip, then dies.
	first := builtTree(t)
	if _, err := codesign.Resign(ctx, first, k.options(t)); err != nil {
		t.Fatal(err)
	}
	published := map[string][]byte{darwin: readFile(t, filepath.Join(first, darwin)), msiName: readFile(t, filepath.Join(first, msiName))}
	var asked []string
	o := k.options(t)
	o.Published = func(_ context.Context, name string) ([]byte, bool, error) {
		asked = append(asked, name)
		b, ok := published[name]
		return b, ok, nil
	}

	// A second attempt from a fresh copy keeps both and signs nothing the
	// first published again.
	second := builtTree(t)
	rep, err := codesign.Resign(ctx, second, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Reused, []string{darwin, msiName}) {
		t.Errorf("reused %v, want the darwin zip and the MSI", rep.Reused)
	}
	for name, b := range published {
		if !bytes.Equal(readFile(t, filepath.Join(second, name)), b) {
			t.Errorf("%s is not the published one", name)
		}
	}
	// The windows zip is built around the exe of the published MSI.
	_, exe, _ := onlyEntry(t, filepath.Join(second, windows))
	if !bytes.Equal(exe, msiExe(t, filepath.Join(second, msiName))) {
		t.Errorf("the windows zip's exe is not the published MSI's")
	}
	k.checkTree(t, second)

	// A third attempt with everything published writes the same tree.
	for _, name := range []string{windows} {
		published[name] = readFile(t, filepath.Join(second, name))
	}
	third := builtTree(t)
	if _, err := codesign.Resign(ctx, third, o); err != nil {
		t.Fatal(err)
	}
	if a, b := digests(t, second), digests(t, third); !equalMaps(a, b) {
		t.Errorf("resuming with everything published did not give the same tree")
	}
}

func TestResignRefusesForeignPublishedFiles(t *testing.T) {
	ctx := context.Background()
	tg, _ := release.ParseTag(tag)
	darwin, _, windows, _, _ := names(tg)
	// Signed by other keys: neither may be used.
	other := newKeys(t)
	signedElsewhere := builtTree(t)
	if _, err := codesign.Resign(ctx, signedElsewhere, other.options(t)); err != nil {
		t.Fatal(err)
	}
	k := newKeys(t)
	for _, name := range []string{darwin, windows} {
		t.Run(name, func(t *testing.T) {
			o := k.options(t)
			o.Published = func(_ context.Context, n string) ([]byte, bool, error) {
				if n == name {
					return readFile(t, filepath.Join(signedElsewhere, n)), true, nil
				}
				return nil, false, nil
			}
			_, err := codesign.Resign(ctx, builtTree(t), o)
			if err == nil || !strings.Contains(err.Error(), "published") || !strings.Contains(err.Error(), "never replaced") {
				t.Fatalf("got %v, want an error about the published file", err)
			}
		})
	}
}

func TestResignNeedsTheInstallerRecipe(t *testing.T) {
	dir := builtTree(t)
	if err := os.Remove(filepath.Join(dir, codesign.IndexFile)); err != nil {
		t.Fatal(err)
	}
	_, err := codesign.Resign(context.Background(), dir, newKeys(t).options(t))
	if err == nil || !strings.Contains(err.Error(), "index.json has no installer recipe for "+release.MSIName(repo, mustTag(t), "amd64")) {
		t.Fatalf("got %v, want an error naming index.json and the MSI", err)
	}
}

func TestResignNotarizes(t *testing.T) {
	tg, _ := release.ParseTag(tag)
	darwin, _, _, _, _ := names(tg)
	for _, verdict := range []string{"Accepted", "Invalid"} {
		t.Run(verdict, func(t *testing.T) {
			dir := builtTree(t)
			var mu sync.Mutex
			var uploaded []byte
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.Method == http.MethodPost && r.URL.Path == "/notary/v2/submissions":
					fmt.Fprint(w, `{"data":{"id":"sub-1","attributes":{"awsAccessKeyId":"a","awsSecretAccessKey":"s","awsSessionToken":"t","bucket":"b","object":"o.zip"}}}`)
				case r.Method == http.MethodPut && r.URL.Path == "/b/o.zip":
					buf := new(bytes.Buffer)
					buf.ReadFrom(r.Body)
					uploaded = buf.Bytes()
				case r.Method == http.MethodGet && r.URL.Path == "/notary/v2/submissions/sub-1":
					fmt.Fprintf(w, `{"data":{"attributes":{"status":%q}}}`, verdict)
				case r.Method == http.MethodGet && r.URL.Path == "/notary/v2/submissions/sub-1/logs":
					fmt.Fprintf(w, `{"data":{"attributes":{"developerLogUrl":"%s/log.json"}}}`, srv.URL)
				case r.URL.Path == "/log.json":
					fmt.Fprint(w, `{"issues":[{"message":"The signature does not include a secure timestamp."}]}`)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			key, err := notary.ParseAPIKey("issuer", "KEYID12345", p8(t))
			if err != nil {
				t.Fatal(err)
			}
			o := newKeys(t).options(t)
			o.Notary = &codesign.Notary{Client: &notary.Client{Key: key, BaseURL: srv.URL + "/notary/v2", S3Endpoint: srv.URL, Poll: time.Millisecond}}
			rep, err := codesign.Resign(context.Background(), dir, o)
			if verdict == "Invalid" {
				if err == nil || !strings.Contains(err.Error(), "notarize "+darwin) || !strings.Contains(err.Error(), "secure timestamp") {
					t.Fatalf("got %v, want the rejection with Apple's log", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Notarization) != 1 || rep.Notarization[0] != (codesign.Notarization{File: darwin, Status: "Accepted", ID: "sub-1"}) {
				t.Errorf("notarization %+v", rep.Notarization)
			}
			if !bytes.Equal(uploaded, readFile(t, filepath.Join(dir, darwin))) {
				t.Errorf("the notary did not get the signed darwin zip")
			}
		})
	}
}

func p8(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func FuzzReadIndex(f *testing.F) {
	f.Add([]byte(`{"installers":[{"arch":"amd64","msi":"a_v1.0.0_windows_amd64.msi","name":"a","vendor":"V","template":"a.wxs"}]}`))
	f.Add([]byte(`{"installers":[{"arch":"x86"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := codesign.ReadIndex(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, in := range ix.Installers {
			if in.Name == "" || in.Vendor == "" || strings.ContainsAny(in.MSI+in.Template, `/\`) || (in.Arch != "amd64" && in.Arch != "arm64") {
				t.Fatalf("accepted a bad recipe %+v", in)
			}
		}
	})
}

func mustTag(t *testing.T) release.Tag {
	t.Helper()
	tg, err := release.ParseTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func onlyEntry(t *testing.T, path string) (string, []byte, time.Time) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		t.Fatalf("%s has %d entries", path, len(zr.File))
	}
	f := zr.File[0]
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return f.Name, buf.Bytes(), f.Modified
}

// msiExe extracts the executable an MSI installs.
func msiExe(t *testing.T, path string) []byte {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("msiextract", "-C", dir, path).CombinedOutput(); err != nil {
		t.Fatalf("msiextract: %v\n%s", err, out)
	}
	var exe []byte
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".exe") {
			exe, err = os.ReadFile(p)
		}
		return err
	})
	if exe == nil {
		t.Fatalf("%s installs no .exe", path)
	}
	return exe
}

func digests(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[e.Name()] = sha(t, filepath.Join(dir, e.Name()))
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func sha(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(readFile(t, path))
	return hex.EncodeToString(sum[:])
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
