package msi

import (
	"bytes"
	"strings"
	"testing"
)

const componentIDT = "Component\tComponentId\tDirectory_\tAttributes\tCondition\tKeyPath\r\n" +
	"s72\tS38\ts72\ti2\tS255\tS72\r\n" +
	"Component\tComponent\r\n" +
	"Exe\t{EB309DF9-1F51-5727-AC30-57F21B75EC76}\tINSTALLFOLDER\t256\t\tExeFile\r\n" +
	"PathEntry\t{0697CBEE-93FF-52ED-BAA3-6A482D1E0555}\tINSTALLFOLDER\t260\t\x19x\x10y\treg1\r\n"

func TestParseIDTRoundTrip(t *testing.T) {
	tb, err := ParseIDT([]byte(componentIDT))
	if err != nil {
		t.Fatal(err)
	}
	row := tb.Find("Component", "PathEntry")
	if tb.Name != "Component" || len(tb.Rows) != 2 || row == nil || tb.Get(row, "Directory_") != "INSTALLFOLDER" {
		t.Fatalf("parsed %+v", tb)
	}
	if got := tb.Get(row, "Condition"); got != "\nx\ty" {
		t.Errorf("Condition = %q, want the control characters decoded", got)
	}
	if !bytes.Equal(tb.IDT(), []byte(componentIDT)) {
		t.Errorf("IDT() =\n%q\nwant\n%q", tb.IDT(), componentIDT)
	}
}

func TestParseIDTErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a\tb\r\n", "want 3 header lines"},
		{"a\tb\r\ns72\r\nT\ta\r\n", "line 2: 1 types for 2 columns"},
		{"a\r\ns72\r\nT\tz\r\n", `key "z" is not a column`},
		{"a\r\ns72\r\n\ta\r\n", "want the table name first"},
		{"a\tb\r\ns72\ts72\r\nT\ta\r\nonly\r\n", "line 4: 1 fields for 2 columns"},
	} {
		_, err := ParseIDT([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseIDT(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}

func FuzzParseIDT(f *testing.F) {
	f.Add([]byte(componentIDT))
	f.Add([]byte("a\r\ns72\r\nT\ta\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := ParseIDT(data)
		if err != nil {
			return
		}
		// What parses writes back and parses to the same table.
		again, err := ParseIDT(tb.IDT())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", tb.IDT(), err)
		}
		if !bytes.Equal(again.IDT(), tb.IDT()) {
			t.Fatalf("round trip changed %q to %q", tb.IDT(), again.IDT())
		}
	})
}
