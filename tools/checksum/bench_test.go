package checksum

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// benchFile writes size bytes of a real Go binary (the test executable,
// repeated) so throughput reflects release artifacts.
func benchFile(b *testing.B, dir, name string, size int) string {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	chunk, err := os.ReadFile(exe)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 0, size)
	for len(data) < size {
		data = append(data, chunk[:min(len(chunk), size-len(data))]...)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkFile(b *testing.B) {
	const size = 64 << 20
	p := benchFile(b, b.TempDir(), "artifact", size)
	b.SetBytes(size)
	for b.Loop() {
		if _, _, err := File(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFiles hashes six artifacts, as in a release, in parallel.
func BenchmarkFiles(b *testing.B) {
	const size, n = 32 << 20, 6
	dir := b.TempDir()
	var paths []string
	for i := range n {
		paths = append(paths, benchFile(b, dir, string(rune('a'+i)), size))
	}
	b.SetBytes(size * n)
	for b.Loop() {
		if _, err := Files(context.Background(), paths); err != nil {
			b.Fatal(err)
		}
	}
}
