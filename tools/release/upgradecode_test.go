package release

import "testing"

func TestUpgradeCodeVectors(t *testing.T) {
	// Vectors from the reference pipeline's documentation (computed independently).
	for name, want := range map[string]string{
		"baton-okta":        "5A97CB0C-9F4A-5E8A-8A12-CB498C89A6AF",
		"baton-foo":         "7ACF93FC-B673-5BC4-B2A4-7AB9DF177579",
		"baton-github-test": "971B17C6-B39B-5844-B0BA-1265F3E85460",
		"baton-runner":      "9C991CCA-D926-59EA-B350-558315AD9134",
	} {
		if got := UpgradeCode(name); got != want {
			t.Errorf("UpgradeCode(%q) = %s, want %s", name, got, want)
		}
	}
}
