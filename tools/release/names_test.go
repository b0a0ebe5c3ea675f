package release

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	tag, _ := ParseTag("v1.0.0")
	for _, c := range []struct{ got, want string }{
		{ArchiveName("baton-foo", tag, Platform{"linux", "amd64"}), "baton-foo-v1.0.0-linux-amd64.tar.gz"},
		{ArchiveName("baton-foo", tag, Platform{"darwin", "arm64"}), "baton-foo-v1.0.0-darwin-arm64.zip"},
		{ArchiveName("baton-foo", tag, Platform{"windows", "arm64"}), "baton-foo-v1.0.0-windows-arm64.zip"},
		{MSIName("baton-foo", tag, "amd64"), "baton-foo_v1.0.0_windows_amd64.msi"},
		{MSIKey("arm64"), "windows-arm64-msi"},
		{ChecksumsName("baton-foo", tag), "baton-foo_1.0.0_checksums.txt"},
		{Platform{"windows", "amd64"}.BinaryName("baton-foo"), "baton-foo.exe"},
		{Platform{"linux", "arm64"}.BinaryName("baton-foo"), "baton-foo"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for _, s := range []string{"linux/amd64", "windows-arm64", "darwin/arm64"} {
		if _, err := ParsePlatform(s); err != nil {
			t.Errorf("ParsePlatform(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"linux/386", "plan9/amd64", "linux", ""} {
		_, err := ParsePlatform(s)
		if err == nil || !strings.Contains(err.Error(), "supported: darwin/amd64") {
			t.Errorf("ParsePlatform(%q) = %v, want an error listing supported platforms", s, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, s := range []string{"baton-okta", "ConductorOne", "a", "x.y_z"} {
		if err := CheckName("repo", s); err != nil {
			t.Errorf("CheckName(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "-x", "a/b", "a b", ".hidden", strings.Repeat("a", 101)} {
		if err := CheckName("repo", s); err == nil {
			t.Errorf("CheckName(%q) accepted", s)
		}
	}
}
