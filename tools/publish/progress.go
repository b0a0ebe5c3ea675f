package publish

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress shows uploads as they happen.
type Progress interface {
	// Start announces a batch of files and bytes.
	Start(files int, bytes int64)
	// Add reports bytes sent.
	Add(n int64)
	// Done reports one file finished: "uploaded" or "skipped".
	Done(key, result string)
	// Finish ends the batch.
	Finish()
}

// NewProgress returns a bar redrawn in place when w is a terminal, else
// one plain line per file.
func NewProgress(w io.Writer) Progress {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return &bar{w: w}
		}
	}
	return &lines{w: w}
}

type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) Start(int, int64) {}
func (l *lines) Add(int64)        {}
func (l *lines) Finish()          {}
func (l *lines) Done(key, result string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "publish: %s %s\n", result, key)
}

type bar struct {
	mu          sync.Mutex
	w           io.Writer
	files, done int
	total, sent int64
	last        time.Time
}

func (b *bar) Start(files int, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files, b.total, b.done, b.sent = files, total, 0, 0
	b.draw(true)
}

func (b *bar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent += n
	b.draw(false)
}

func (b *bar) Done(key, result string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	b.draw(true)
}

func (b *bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(true)
	fmt.Fprintln(b.w)
}

// draw redraws at most ten times a second unless forced.
func (b *bar) draw(force bool) {
	if !force && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	frac := 1.0
	if b.total > 0 {
		frac = min(1, float64(b.sent)/float64(b.total))
	}
	n := int(frac * width)
	fmt.Fprintf(b.w, "\rpublish: [%s%s] %3.0f%% %d/%d files, %s of %s ",
		strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, b.done, b.files, size(b.sent), size(b.total))
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
