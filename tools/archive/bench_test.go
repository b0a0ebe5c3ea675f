package archive

import (
	"github.com/relkit/relkit/tools/testutil/benchdata"
	"io"
	"testing"
)

// countingWriter counts the compressed bytes.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func BenchmarkWrite(b *testing.B) {
	const size = 64 << 20
	src := benchdata.BinaryFile(b, b.TempDir(), "tool", size, 0o755)
	for _, format := range []Format{TarGz, Zip} {
		b.Run(string(format), func(b *testing.B) {
			b.SetBytes(size)
			var out countingWriter
			for b.Loop() {
				out.n = 0
				if err := Write(&out, []Entry{{"tool", src}}, Options{Format: format, MTime: mtime}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(out.n)/size, "ratio")
		})
	}
}

// BenchmarkStreaming2GB archives a 2 GiB sparse file and reports the peak
// heap growth, which stays around 1 MiB: nothing is buffered per file.
func BenchmarkStreaming2GB(b *testing.B) {
	const size = 2 << 30
	src := sparseFile(b, size)
	for _, format := range []Format{TarGz, Zip} {
		b.Run(string(format), func(b *testing.B) {
			b.SetBytes(size)
			var peak uint64
			for b.Loop() {
				growth, err := peakHeapGrowth(func() error {
					return Write(io.Discard, []Entry{{"big", src}}, Options{Format: format, MTime: mtime})
				})
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, growth)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
