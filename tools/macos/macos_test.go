package macos_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anchore/quill/quill/extract"

	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/macos/macostest"
)

var archs = []string{"arm64", "amd64"}

// builds holds two independent builds per architecture, made once.
var (
	buildOnce sync.Once
	builds    map[string][2][]byte
)

func darwinBuilds(t *testing.T) map[string][2][]byte {
	t.Helper()
	buildOnce.Do(func() {
		builds = map[string][2][]byte{}
		for _, arch := range archs {
			var pair [2][]byte
			for i := range pair {
				b, err := os.ReadFile(macostest.Build(t, arch, t.TempDir()))
				if err != nil {
					t.Fatal(err)
				}
				pair[i] = b
			}
			builds[arch] = pair
		}
	})
	if builds == nil {
		t.Fatal("darwin builds failed")
	}
	return builds
}

var (
	pkiOnce sync.Once
	testPKI *macostest.PKI
)

func pki(t *testing.T) *macostest.PKI {
	pkiOnce.Do(func() { testPKI = macostest.NewPKI(t) })
	return testPKI
}

var signTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func identity(t *testing.T) *macos.Identity {
	t.Helper()
	p := pki(t)
	id, err := macos.LoadIdentity(p.PKCS12, p.Password, p.Roots, signTime)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSignVerify(t *testing.T) {
	b := darwinBuilds(t)
	id := identity(t)
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			signed, err := macos.Sign(b[arch][0], id, macos.SignOptions{Identifier: "com.acme.hello"})
			if err != nil {
				t.Fatal(err)
			}
			sig, err := macos.Verify(signed, pki(t).Roots)
			if err != nil {
				t.Fatal(err)
			}
			if sig.Arch != arch || sig.Identifier != "com.acme.hello" || !sig.HardenedRuntime || sig.Flags&0x2 != 0 {
				t.Errorf("signature: arch %s, identifier %q, hardened runtime %v, flags %#x; want %s, com.acme.hello, true, not ad-hoc",
					sig.Arch, sig.Identifier, sig.HardenedRuntime, sig.Flags, arch)
			}
			if len(sig.Chain) != 3 || !sig.Chain[0].Equal(pki(t).Leaf) || !sig.Chain[2].Equal(pki(t).Root) {
				t.Errorf("verified chain has %d certificates, want leaf, intermediate, test root", len(sig.Chain))
			}
			crossCheckWithQuill(t, signed, sig)

			// Apple's roots do not trust the test CA.
			if _, err := macos.Verify(signed, nil); err == nil || !strings.Contains(err.Error(), "unknown authority") {
				t.Errorf("Verify with Apple's roots: got %v, want an unknown authority error", err)
			}
			// Any change to the code breaks a page hash.
			tampered := bytes.Clone(signed)
			tampered[0x2000] ^= 1
			if _, err := macos.Verify(tampered, pki(t).Roots); err == nil || !strings.Contains(err.Error(), "page 2 ") {
				t.Errorf("Verify of a modified binary: got %v, want a page 2 hash mismatch", err)
			}
		})
	}
}

// crossCheckWithQuill reads the signature with quill's own parser, as
// 'quill describe' does.
func crossCheckWithQuill(t *testing.T, signed []byte, sig *macos.Signature) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signed")
	if err := os.WriteFile(path, signed, 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := extract.NewFile(path)
	if err != nil || len(files) != 1 {
		t.Fatalf("quill extract: %v (%d files)", err, len(files))
	}
	d := extract.ParseDetails(*files[0])
	if d.SuperBlob == nil || len(d.SuperBlob.CodeDirectories) != 1 || len(d.SuperBlob.Signatures) != 1 {
		t.Fatalf("quill sees no single code directory and CMS signature: %+v", d.SuperBlob)
	}
	cd := d.SuperBlob.CodeDirectories[0]
	if cd.ID != sig.Identifier || !strings.Contains(cd.Flags.Description, "runtime") {
		t.Errorf("quill describe: identifier %q, flags %q; want %q with runtime", cd.ID, cd.Flags.Description, sig.Identifier)
	}
}

func TestStripMatchesRebuild(t *testing.T) {
	b := darwinBuilds(t)
	id := identity(t)
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			built, rebuilt := b[arch][0], b[arch][1]
			if !bytes.Equal(built, rebuilt) {
				t.Fatal("two darwin builds differ: the test build is not reproducible")
			}
			signed, err := macos.Sign(built, id, macos.SignOptions{Identifier: "com.acme.hello"})
			if err != nil {
				t.Fatal(err)
			}
			stripped := mustStrip(t, signed)
			if !bytes.Equal(stripped, mustStrip(t, rebuilt)) {
				t.Fatal("stripped signed binary differs from the stripped rebuild")
			}
			restored, err := macos.LinkerSign(stripped)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(restored, rebuilt) {
				t.Fatal("stripped signed binary with the linker's ad-hoc signature differs from the rebuild")
			}
			if arch == "amd64" && !bytes.Equal(stripped, rebuilt) {
				t.Fatal("darwin/amd64: stripped signed binary differs from the unsigned rebuild")
			}
			if arch == "arm64" && bytes.Equal(stripped, rebuilt) {
				t.Fatal("darwin/arm64: expected the linker's ad-hoc signature to be stripped")
			}
			// Signing again replaces the signature instead of stacking one.
			again, err := macos.Sign(signed, id, macos.SignOptions{Identifier: "com.acme.other"})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mustStrip(t, again), stripped) {
				t.Fatal("re-signed binary does not strip to the same bytes")
			}
		})
	}
}

func mustStrip(t *testing.T, b []byte) []byte {
	t.Helper()
	s, err := macos.Strip(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyRejectsAdHoc(t *testing.T) {
	b := darwinBuilds(t)
	if _, err := macos.Verify(b["arm64"][0], nil); err == nil || !strings.Contains(err.Error(), `ad-hoc signature only (identifier "a.out")`) {
		t.Errorf("Verify of the linker-signed arm64 binary: got %v, want ad-hoc error", err)
	}
	if _, err := macos.Verify(b["amd64"][0], nil); err == nil || err.Error() != "binary is not signed" {
		t.Errorf("Verify of the unsigned amd64 binary: got %v, want not signed", err)
	}
}

func TestLoadIdentityErrors(t *testing.T) {
	p := pki(t)
	other := macostest.NewPKI(t).Roots
	tests := []struct {
		name     string
		password string
		roots    *x509.CertPool
		now      time.Time
		want     string
	}{
		{"wrong password", "nope", p.Roots, signTime, "pkcs12: wrong password"},
		{"apple roots", p.Password, nil, signTime, "is not a Developer ID Application certificate"},
		{"untrusted", p.Password, other, signTime, "does not chain to the given roots"},
		{"expired", p.Password, p.Roots, macostest.NotAfter.Add(time.Hour), "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := macos.LoadIdentity(p.PKCS12, tt.password, tt.roots, tt.now)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), p.Password) {
				t.Fatal("error reveals the password")
			}
		})
	}
	if _, err := macos.LoadIdentity([]byte("not a p12"), "", p.Roots, signTime); err == nil {
		t.Fatal("LoadIdentity accepted garbage")
	}
}

func TestSignRejects(t *testing.T) {
	id := identity(t)
	b := darwinBuilds(t)
	if _, err := macos.Sign(b["arm64"][0], id, macos.SignOptions{Identifier: "com.acme/hello"}); err == nil || !strings.Contains(err.Error(), `identifier "com.acme/hello"`) {
		t.Errorf("bad identifier: got %v", err)
	}
	if _, err := macos.Sign([]byte("\x7fELF not mach-o data here......"), id, macos.SignOptions{Identifier: "com.acme.hello"}); err == nil || !strings.Contains(err.Error(), "GOOS=darwin") {
		t.Errorf("ELF input: got %v", err)
	}
	fat := append([]byte{0xca, 0xfe, 0xba, 0xbe}, make([]byte, 60)...)
	if _, err := macos.Strip(fat); err == nil || !strings.Contains(err.Error(), "universal") {
		t.Errorf("fat input: got %v", err)
	}
}

func TestIdentifier(t *testing.T) {
	if got := macos.Identifier("ConductorOne", "baton-okta"); got != "com.conductorone.baton-okta" {
		t.Errorf("Identifier = %q", got)
	}
}
