package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSyncListsResourcesSorted(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"sync"}, &out, &errb); code != 0 {
		t.Fatalf("sync exit %d: %s", code, errb.String())
	}
	if i, j := strings.Index(out.String(), `"g-1"`), strings.Index(out.String(), `"u-1"`); i < 0 || j < 0 || i > j {
		t.Fatalf("sync output not sorted by id:\n%s", out.String())
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"nope"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}
