// Package benchdata makes benchmark inputs that look like release artifacts.
package benchdata

import (
	"os"
	"path/filepath"
	"testing"
)

// BinaryFile writes dir/name holding size bytes of a real Go binary (the
// running test executable, repeated), so hashing and compression speeds
// match what releases carry.
func BinaryFile(tb testing.TB, dir, name string, size int, perm os.FileMode) string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	chunk, err := os.ReadFile(exe)
	if err != nil {
		tb.Fatal(err)
	}
	data := make([]byte, 0, size)
	for len(data) < size {
		data = append(data, chunk[:min(len(chunk), size-len(data))]...)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, perm); err != nil {
		tb.Fatal(err)
	}
	return p
}
