package msi

import (
	"bytes"
	"fmt"
	"strings"
)

// Table is one database table in the text archive form (IDT) that
// `msiinfo export` prints and `msibuild -i` imports.
type Table struct {
	Name    string
	Columns []string
	Types   []string // e.g. s72 (string), l255 (localizable), i2 (integer); upper case is nullable
	Keys    []string // primary key columns
	Rows    [][]string
}

// IDT control characters stand for the tab, CR and LF a value may hold.
var idtUnescape = strings.NewReplacer("\x10", "\t", "\x11", "\r", "\x19", "\n")
var idtEscape = strings.NewReplacer("\t", "\x10", "\r", "\x11", "\n", "\x19")

// ParseIDT reads a table in IDT form: column names, column types, the table
// name followed by its key columns, then one row per line, tab-separated.
func ParseIDT(data []byte) (*Table, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("idt: want 3 header lines (columns, types, table and keys), got %d lines", len(lines))
	}
	t := &Table{Columns: strings.Split(lines[0], "\t"), Types: strings.Split(lines[1], "\t")}
	head := strings.Split(lines[2], "\t")
	t.Name, t.Keys = head[0], head[1:]
	if t.Name == "" {
		return nil, fmt.Errorf("idt: line 3: want the table name first, got an empty field")
	}
	if len(t.Types) != len(t.Columns) {
		return nil, fmt.Errorf("idt table %s: line 2: %d types for %d columns", t.Name, len(t.Types), len(t.Columns))
	}
	for _, k := range t.Keys {
		if t.column(k) < 0 {
			return nil, fmt.Errorf("idt table %s: line 3: key %q is not a column", t.Name, k)
		}
	}
	for i, line := range lines[3:] {
		row := strings.Split(line, "\t")
		if len(row) != len(t.Columns) {
			return nil, fmt.Errorf("idt table %s: line %d: %d fields for %d columns", t.Name, i+4, len(row), len(t.Columns))
		}
		for j := range row {
			row[j] = idtUnescape.Replace(row[j])
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// IDT returns the table in the form msibuild -i imports.
func (t *Table) IDT() []byte {
	var b bytes.Buffer
	line := func(fields []string) {
		b.WriteString(strings.Join(fields, "\t"))
		b.WriteString("\r\n")
	}
	line(t.Columns)
	line(t.Types)
	line(append([]string{t.Name}, t.Keys...))
	for _, row := range t.Rows {
		esc := make([]string, len(row))
		for i, v := range row {
			esc[i] = idtEscape.Replace(v)
		}
		line(esc)
	}
	return b.Bytes()
}

// Get returns the value of column col in row, or "" when there is no such column.
func (t *Table) Get(row []string, col string) string {
	if i := t.column(col); i >= 0 {
		return row[i]
	}
	return ""
}

// Find returns the first row whose column col equals value, or nil.
func (t *Table) Find(col, value string) []string {
	i := t.column(col)
	if i < 0 {
		return nil
	}
	for _, row := range t.Rows {
		if row[i] == value {
			return row
		}
	}
	return nil
}

func (t *Table) column(name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}
