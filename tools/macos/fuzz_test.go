package macos

import (
	"bytes"
	"testing"
)

// tinyMachO is a minimal unsigned arm64 Mach-O: a __TEXT and a __LINKEDIT
// segment, no sections.
func tinyMachO() []byte {
	b := make([]byte, 0x1100)
	le.PutUint32(b[0:], magic64)
	le.PutUint32(b[4:], cpuARM64)
	le.PutUint32(b[12:], 2) // MH_EXECUTE
	le.PutUint32(b[16:], 2)
	le.PutUint32(b[20:], 2*72)
	seg := func(off int, name string, fileoff, size uint64) {
		le.PutUint32(b[off:], lcSegment64)
		le.PutUint32(b[off+4:], 72)
		copy(b[off+8:], name)
		le.PutUint64(b[off+32:], size)
		le.PutUint64(b[off+40:], fileoff)
		le.PutUint64(b[off+48:], size)
	}
	seg(32, "__TEXT", 0, 0x1000)
	seg(32+72, "__LINKEDIT", 0x1000, 0x100)
	return b
}

func FuzzMachO(f *testing.F) {
	unsigned := tinyMachO()
	signed, err := LinkerSign(unsigned)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(unsigned)
	f.Add(signed)
	f.Fuzz(func(t *testing.T, b []byte) {
		Verify(b, nil) // must not panic
		s, err := Strip(b)
		if err != nil {
			return
		}
		again, err := Strip(s)
		if err != nil || !bytes.Equal(again, s) {
			t.Fatalf("Strip is not idempotent: %v", err)
		}
		l, err := LinkerSign(s)
		if err != nil {
			return
		}
		// Restoring the linker's signature after stripping it is exact.
		back, err := Strip(l)
		if err != nil {
			t.Fatalf("Strip(LinkerSign(x)): %v", err)
		}
		if l2, err := LinkerSign(back); err != nil || !bytes.Equal(l2, l) {
			t.Fatalf("LinkerSign(Strip(y)) != y for a linker-signed y: %v", err)
		}
	})
}

func TestTinyMachORoundTrip(t *testing.T) {
	signed, err := LinkerSign(tinyMachO())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(signed, nil); err == nil || err.Error() != `ad-hoc signature only (identifier "a.out"): no Developer ID signature` {
		t.Fatalf("Verify: %v", err)
	}
	back, err := Strip(signed)
	if err != nil || !bytes.Equal(back, tinyMachO()) {
		t.Fatalf("Strip(LinkerSign(x)) != x: %v", err)
	}
}
