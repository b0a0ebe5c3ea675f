package release

import (
	"strings"
	"testing"
)

func TestParseTagAccepts(t *testing.T) {
	for _, s := range []string{"v1.2.3", "v1.2.3-rc.1", "v0.1.122-test.8", "v0.0.0", "v10.20.30-alpha-beta.0.x1", "v1.0.0-0a"} {
		tag, err := ParseTag(s)
		if err != nil {
			t.Errorf("ParseTag(%q) = %v, want ok", s, err)
			continue
		}
		if tag.String() != s {
			t.Errorf("ParseTag(%q).String() = %q", s, tag.String())
		}
	}
}

func TestParseTagRejects(t *testing.T) {
	for s, want := range map[string]string{
		"":                          "empty",
		"1.2.3":                     "lowercase 'v'",
		"V1.2.3":                    "lowercase 'v'",
		"v01.2.3":                   "leading zero",
		"v1.2":                      "MAJOR.MINOR.PATCH",
		"v1.2.3.4":                  "MAJOR.MINOR.PATCH",
		"v1.2.3-01":                 "leading zero",
		"v1.2.3-":                   "empty pre-release",
		"v1.2.3-rc..1":              "is empty",
		"v1.2.3-rc_1":               "only [0-9A-Za-z-]",
		"v1.2.3+build.1":            "build metadata",
		"v1.2.3-rc.1+b":             "build metadata",
		"v1.x.3":                    "must be a number",
		"v99999999999999999999.0.0": "too large",
	} {
		_, err := ParseTag(s)
		if err == nil {
			t.Errorf("ParseTag(%q) accepted, want error containing %q", s, want)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "tag") {
			t.Errorf("ParseTag(%q) = %q, want it to contain %q", s, err, want)
		}
	}
}

func TestForms(t *testing.T) {
	tag, err := ParseTag("v1.2.3-rc.1")
	if err != nil {
		t.Fatal(err)
	}
	got := tag.Forms()
	want := Forms{Tag: "v1.2.3-rc.1", Version: "1.2.3-rc.1", MSIVersion: "1.2.3.0"}
	if got != want {
		t.Fatalf("Forms() = %+v, want %+v", got, want)
	}
}

func TestMSIVersionLimits(t *testing.T) {
	for s, ok := range map[string]bool{
		"v255.255.65535": true,
		"v256.0.0":       false,
		"v1.256.0":       false,
		"v1.2.65536":     false,
	} {
		tag, err := ParseTag(s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tag.MSIVersion()
		if (err == nil) != ok {
			t.Errorf("MSIVersion(%s) err = %v, want ok=%v", s, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "Windows Installer limits") {
			t.Errorf("MSIVersion(%s) error %q does not state the limits", s, err)
		}
	}
}

func TestCompare(t *testing.T) {
	// Ordered as in the semver 2.0.0 specification, section 11.
	order := []string{"v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta", "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.0.1", "v1.1.0", "v2.0.0"}
	for i := range order {
		for j := range order {
			a, _ := ParseTag(order[i])
			b, _ := ParseTag(order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
}

func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"v1.2.3", "v1.2.3-rc.1", "v1.2.3+b", "v01.2.3", "v1.2.3-", "1.2.3", "v0.0.0-0.a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := ParseTag(s)
		if err != nil {
			if !strings.Contains(err.Error(), "tag") {
				t.Fatalf("error %q does not name the tag", err)
			}
			return
		}
		// Anything accepted round-trips exactly and never carries '+'.
		if tag.String() != s {
			t.Fatalf("ParseTag(%q).String() = %q", s, tag.String())
		}
		if strings.Contains(s, "+") {
			t.Fatalf("accepted build metadata in %q", s)
		}
		if tag.Compare(tag) != 0 {
			t.Fatalf("%q does not compare equal to itself", s)
		}
	})
}
