package publish_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/relkit/relkit/tools/authenticode"
	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/macos/macostest"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/testutil/wintest"
)

// codesignEnv is the local stack and the trees tests/publish/codesign.sh
// prepared.
type codesignEnv struct {
	trees                     []string // release trees of two tags, MSIs included
	base, bucket, endpoint    string
	trustedRoot, signingConf  string
	issuer, tokenURL          string
	macP12, macRoot, macPass  string
	winP12, winCA, winPass    string
	workflowRef, org, example string
}

func newCodesignEnv(t *testing.T) *codesignEnv {
	t.Helper()
	trees := strings.Fields(os.Getenv("RELEASE_TREES"))
	if len(trees) != 2 {
		t.Skip("RELEASE_TREES is not set: run tests/publish/codesign.sh")
	}
	e := &codesignEnv{
		trees: trees, base: os.Getenv("RELKIT_BASE_URL"), bucket: os.Getenv("RELKIT_BUCKET"),
		endpoint: os.Getenv("RELKIT_S3_ENDPOINT"), trustedRoot: os.Getenv("SIGSTORE_TRUSTED_ROOT"),
		signingConf: os.Getenv("SIGSTORE_SIGNING_CONFIG"), issuer: os.Getenv("SIGSTORE_OIDC_ISSUER"),
		tokenURL: os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), workflowRef: "refs/tags/v1.0.0",
		org: "ConductorOne", example: "baton-example",
	}
	dir := t.TempDir()
	mac := macostest.NewPKI(t)
	e.macP12, e.macRoot, e.macPass = filepath.Join(dir, "developer-id.p12"), filepath.Join(dir, "apple-test-root.pem"), mac.Password
	for p, b := range map[string][]byte{e.macP12: mac.PKCS12, e.macRoot: mac.RootPEM} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	win := wintest.NewPKI(t)
	e.winP12, e.winCA, e.winPass = win.PKCS12, win.CA, win.Password
	return e
}

func (e *codesignEnv) tag(tree string) string { return filepath.Base(tree)[len("tree-"):] }

func (e *codesignEnv) dirURL(tag string) string {
	return e.base + "/releases/" + e.org + "/" + e.example + "/" + tag
}

// publish is 'relkit publish' of tree with keyless Sigstore signing and
// both code signing identities; extra flags come last and win.
func (e *codesignEnv) publish(tree, work string, extra ...string) *exec.Cmd {
	tag := e.tag(tree)
	args := append([]string{"publish", "--dir", tree, "--org", e.org, "--repo", e.example, "--tag", tag,
		"--work-dir", work, "--jobs", "1", "--commit", os.Getenv("COMMIT"), "--workflow-run-id", "1",
		"--trusted-root", e.trustedRoot, "--signing-config", e.signingConf,
		"--certificate-oidc-issuer", e.issuer, "--workflow-ref", e.workflowRef, localBuilder,
		"--macos-pkcs12", e.macP12, "--macos-trust-root", e.macRoot, "--macos-timestamp-url", "",
		"--authenticode-pkcs12", e.winP12, "--authenticode-ca", e.winCA}, extra...)
	cmd := exec.Command(relkit, args...)
	token := e.tokenURL + "&repository=" + e.org + "/" + e.example + "&ref=refs/tags/" + tag +
		"&sha=" + os.Getenv("COMMIT") + "&job_workflow_ref=relkit/relkit/.github/workflows/release.yaml@" + e.workflowRef
	cmd.Env = append(os.Environ(), "ACTIONS_ID_TOKEN_REQUEST_URL="+token,
		"MACOS_P12_PASSWORD="+e.macPass, "AUTHENTICODE_PASSWORD="+e.winPass)
	return cmd
}

func (e *codesignEnv) verify(t *testing.T, tag string) {
	t.Helper()
	out, err := exec.Command(relkit, "verify", e.org+"/"+e.example, tag, "--base-url", e.base,
		"--trusted-root", e.trustedRoot, "--certificate-oidc-issuer", e.issuer, "--workflow-ref", e.workflowRef, localBuilder).CombinedOutput()
	if err != nil {
		t.Fatalf("relkit verify %s: %v\n%s", tag, err, out)
	}
}

// objects maps the keys of a release directory to their bytes.
func (e *codesignEnv) objects(t *testing.T, tag string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	c := s3.New(s3.Options{
		Region: os.Getenv("AWS_REGION"), BaseEndpoint: aws.String(e.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
	})
	prefix := "releases/" + e.org + "/" + e.example + "/" + tag + "/"
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out[strings.TrimPrefix(aws.ToString(o.Key), prefix)] = download(t, e.dirURL(tag)+"/"+strings.TrimPrefix(aws.ToString(o.Key), prefix))
		}
	}
	return out
}

func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %v", url, resp.StatusCode, err)
	}
	return b
}

// TestPublishCodesign publishes the example release with macOS and
// Authenticode signing on, checks what users download, resumes a publish
// killed after the signed darwin zip was uploaded, and refuses bad keys
// and a tree without the installer recipe.
func TestPublishCodesign(t *testing.T) {
	e := newCodesignEnv(t)
	first, second := e.trees[0], e.trees[1]

	t.Run("bad input", func(t *testing.T) {
		noRecipe := filepath.Join(t.TempDir(), "tree-"+e.tag(first))
		if err := os.CopyFS(noRecipe, os.DirFS(first)); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(noRecipe, "index.json")); err != nil {
			t.Fatal(err)
		}
		missing := filepath.Join(t.TempDir(), "missing.p12")
		for _, tc := range []struct {
			name string
			cmd  func(work string) *exec.Cmd
			want []string
		}{
			{"wrong p12 password", func(w string) *exec.Cmd {
				c := e.publish(first, w)
				c.Env = append(c.Env, "MACOS_P12_PASSWORD=not the password")
				return c
			}, []string{"--macos-pkcs12 " + e.macP12 + ": wrong password in environment variable MACOS_P12_PASSWORD (--macos-password-env)"}},
			{"p12 file missing", func(w string) *exec.Cmd {
				return e.publish(first, w, "--authenticode-pkcs12", missing)
			}, []string{"--authenticode-pkcs12: open " + missing + ": no such file or directory"}},
			{"no installer recipe", func(w string) *exec.Cmd {
				return e.publish(noRecipe, w)
			}, []string{"codesign: ", "index.json has no installer recipe for baton-example_" + e.tag(first) + "_windows_amd64.msi"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var stderr bytes.Buffer
				cmd := tc.cmd(filepath.Join(t.TempDir(), "work"))
				cmd.Stderr = &stderr
				err := cmd.Run()
				if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
					t.Fatalf("exit: %v; want status 1\n%s", err, stderr.String())
				}
				msg := strings.TrimSpace(stderr.String())
				last := msg[strings.LastIndex(msg, "\n")+1:]
				for _, want := range tc.want {
					if !strings.Contains(last, want) {
						t.Errorf("last line %q; want one line containing %q", last, want)
					}
				}
				if strings.Contains(msg, e.macPass) || strings.Contains(msg, e.winPass) {
					t.Errorf("a password was printed:\n%s", msg)
				}
				if objs := e.objects(t, e.tag(first)); len(objs) != 0 {
					t.Errorf("left in the bucket: %d objects", len(objs))
				}
			})
		}
	})

	t.Run("publish and verify", func(t *testing.T) {
		tag := e.tag(first)
		if out, err := e.publish(first, filepath.Join(t.TempDir(), "work")).CombinedOutput(); err != nil {
			t.Fatalf("publish: %v\n%s", err, out)
		}
		e.verify(t, tag)
		e.checkSigned(t, tag, e.objects(t, tag))
	})

	t.Run("resume after a kill", func(t *testing.T) {
		tag := e.tag(second)
		darwin := e.example + "-" + tag + "-darwin-amd64.zip"
		cmd := e.publish(second, filepath.Join(t.TempDir(), "killed"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill it as soon as the signed darwin zip is in the bucket.
		killed := false
		for !killed {
			select {
			case err := <-done:
				t.Fatalf("publish ended (%v) before the darwin zip was seen in the bucket\n%s", err, out.String())
			case <-time.After(5 * time.Millisecond):
			}
			if resp, err := http.Head(e.dirURL(tag) + "/" + darwin); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					killed = true
				}
			}
		}
		<-done
		before := e.objects(t, tag)
		if _, ok := before["manifest.json"]; ok {
			t.Fatal("manifest.json was published before the kill: nothing left to resume")
		}
		if _, ok := before[darwin]; !ok {
			t.Fatal("the darwin zip is not in the bucket after the kill")
		}
		t.Logf("killed with %d objects published", len(before))

		// A new machine: a fresh work directory, the same tree.
		rerun, err := e.publish(second, filepath.Join(t.TempDir(), "fresh")).CombinedOutput()
		if err != nil {
			t.Fatalf("re-run after the kill: %v\n%s", err, rerun)
		}
		if !bytes.Contains(rerun, []byte(darwin+": using the signed archive an earlier attempt published")) {
			t.Errorf("the re-run did not reuse the published darwin zip:\n%s", rerun)
		}
		after := e.objects(t, tag)
		for name, b := range before {
			if !bytes.Equal(after[name], b) {
				t.Errorf("%s changed in the bucket", name)
			}
		}
		e.verify(t, tag)
		e.checkSigned(t, tag, after)
	})
}

// checkSigned checks the published binaries: darwin ones carry the test
// Developer ID signature, windows ones and the MSIs verify with
// osslsigncode, each MSI installs its zip's exe, and the manifest's
// digests are those of the published files.
func (e *codesignEnv) checkSigned(t *testing.T, tag string, objs map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	mac, err := os.ReadFile(e.macRoot)
	if err != nil {
		t.Fatal(err)
	}
	roots := macostestRoots(t, mac)
	m, err := manifest.Read(bytes.NewReader(objs["manifest.json"]))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		darwin := entry(t, objs[fmt.Sprintf("%s-%s-darwin-%s.zip", e.example, tag, arch)], e.example)
		sig, err := macos.Verify(darwin, roots)
		if err != nil || sig.Identifier != "com.conductorone."+e.example || !sig.HardenedRuntime {
			t.Errorf("darwin/%s: %v %+v", arch, err, sig)
		}
		exe := filepath.Join(tmp, arch+".exe")
		if err := os.WriteFile(exe, entry(t, objs[fmt.Sprintf("%s-%s-windows-%s.zip", e.example, tag, arch)], e.example+".exe"), 0o644); err != nil {
			t.Fatal(err)
		}
		msiName := fmt.Sprintf("%s_%s_windows_%s.msi", e.example, tag, arch)
		msiPath := filepath.Join(tmp, msiName)
		if err := os.WriteFile(msiPath, objs[msiName], 0o644); err != nil {
			t.Fatal(err)
		}
		installed := filepath.Join(tmp, arch+"-installed.exe")
		if err := os.WriteFile(installed, msiInstalledExe(t, msiPath), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{exe, msiPath, installed} {
			if err := authenticode.Verify(ctx, f, authenticode.VerifyOptions{CAFile: e.winCA}); err != nil {
				t.Errorf("authenticode: %v", err)
			}
		}
		if a, b := readAll(t, exe), readAll(t, installed); !bytes.Equal(a, b) {
			t.Errorf("%s does not install the signed exe of the windows/%s zip", msiName, arch)
		}
	}
	if _, ok := objs[fmt.Sprintf("%s_%s_windows_amd64.msi.wxs", e.example, tag)]; ok {
		t.Errorf("the installer template was uploaded")
	}
	for key, a := range m.Assets {
		b, ok := objs[a.Filename]
		if !ok || int64(len(b)) != a.SizeBytes {
			t.Errorf("manifest %s: %s has %d bytes, the manifest says %d", key, a.Filename, len(b), a.SizeBytes)
		}
	}
}

func macostestRoots(t *testing.T, pemBytes []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no root in the test PEM")
	}
	return pool
}

// entry returns the content of the archive entry name.
func entry(t *testing.T, zipData []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func msiInstalledExe(t *testing.T, path string) []byte {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("msiextract", "-C", dir, path).CombinedOutput(); err != nil {
		t.Fatalf("msiextract: %v\n%s", err, out)
	}
	var exe []byte
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
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

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
