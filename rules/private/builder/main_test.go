package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSubstitute(t *testing.T) {
	vals := map[string]string{"VERSION": "1.2.3", "STABLE_GIT_COMMIT": "abc"}
	for in, want := range map[string]string{
		"{VERSION}-{STABLE_GIT_COMMIT}": "1.2.3-abc",
		"plain":                         "plain",
		"{lower}":                       "{lower}",
		"open {":                        "open {",
		"{}{VERSION}":                   "{}1.2.3",
		"{{VERSION}}":                   "{1.2.3}",
	} {
		got, err := substitute(in, vals)
		if err != nil || got != want {
			t.Errorf("substitute(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := substitute("{STABLE_GIT_COMIT}", vals); err == nil {
		t.Errorf("substitute of an unknown key = %q, want an error", got)
	}
}

func TestStampKeepsOnlyNamedKeys(t *testing.T) {
	dir := t.TempDir()
	status := filepath.Join(dir, "stable-status.txt")
	if err := os.WriteFile(status, []byte("BUILD_HOST ci-17\nSTABLE_GIT_COMMIT abc\nSTABLE_COMMIT_EPOCH 1700000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "stamp.txt")
	if err := stamp([]string{"--status", status, "--out", out, "STABLE_GIT_COMMIT", "STABLE_COMMIT_EPOCH"}); err != nil {
		t.Fatalf("stamp() = %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "STABLE_COMMIT_EPOCH 1700000000\nSTABLE_GIT_COMMIT abc\n"; string(got) != want {
		t.Errorf("stamp file = %q, want %q", got, want)
	}
	if err := stamp([]string{"--status", status, "--out", out, "STABLE_COMMIT_DATE"}); err == nil {
		t.Error("stamp() with a key missing from the status file succeeded")
	}
}
