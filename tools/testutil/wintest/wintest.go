// Package wintest builds small Windows executables for tests with the local
// Go toolchain and the standard library only: no network, no modules.
package wintest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const program = `package main

import "fmt"

func main() { fmt.Println("relkit test program") }
`

// Exe cross-compiles a console program for windows/arch into a temporary
// directory of t and returns its path.
func Exe(t testing.TB, arch string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{"go.mod": "module wintest\n\ngo 1.26\n", "main.go": program} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "prog-"+arch+".exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH="+arch, "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross-compile windows/%s test program: %v\n%s", arch, err, b)
	}
	return out
}
