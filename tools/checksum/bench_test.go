package checksum

import (
	"context"
	"github.com/relkit/relkit/tools/testutil/benchdata"
	"testing"
)

func BenchmarkFile(b *testing.B) {
	const size = 64 << 20
	p := benchdata.BinaryFile(b, b.TempDir(), "artifact", size, 0o644)
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
		paths = append(paths, benchdata.BinaryFile(b, dir, string(rune('a'+i)), size, 0o644))
	}
	b.SetBytes(size * n)
	for b.Loop() {
		if _, err := Files(context.Background(), paths); err != nil {
			b.Fatal(err)
		}
	}
}
