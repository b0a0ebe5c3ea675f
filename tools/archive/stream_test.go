package archive

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// sparseFile creates a file of size bytes that takes no disk space.
func sparseFile(t testing.TB, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sparse")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// peakHeapGrowth runs fn and returns the largest growth of the in-use heap
// seen while it ran, sampled every few milliseconds.
func peakHeapGrowth(fn func() error) (uint64, error) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	})
	err := fn()
	close(done)
	wg.Wait()
	return peak - base, err
}

// TestStreaming archives a 512 MiB file and checks that the heap stays far
// below its size. BenchmarkStreaming2GB does the same for 2 GiB.
func TestStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const size = 512 << 20
	const limit = 16 << 20
	src := sparseFile(t, size)
	for _, format := range []Format{TarGz, Zip} {
		growth, err := peakHeapGrowth(func() error {
			return Write(io.Discard, []Entry{{"big", src}}, Options{Format: format, MTime: mtime})
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: heap grew by at most %d KiB for a %d MiB file", format, growth>>10, size>>20)
		if growth > limit {
			t.Errorf("%s: heap grew by %d MiB for a %d MiB file, want at most %d MiB", format, growth>>20, size>>20, limit>>20)
		}
	}
}
