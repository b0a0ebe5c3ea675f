// Command builder is relkit's action helper (package actionhelper) as a
// program of its own: the Go SDK repository rule compiles it where relkit is
// built from source, since no relkit binary exists yet to run the actions.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/relkit/relkit/tools/actionhelper"
)

func main() {
	// Bazel interrupts a cancelled action; the helper then cleans up.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := actionhelper.Main(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}
