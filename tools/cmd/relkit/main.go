// Command relkit builds, signs and publishes reproducible releases of Go
// connector CLIs. Each verb is a thin layer over one package under tools/.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/relkit/relkit/tools/actionhelper"
	"github.com/relkit/relkit/tools/cli"
)

func app() *cli.App {
	return &cli.App{
		Name:    "relkit",
		Summary: "reproducible release toolchain for Go connector CLIs",
		Commands: []*cli.Command{
			validateInputsCmd(),
			versionFormsCmd(),
			upgradeCodeCmd(),
			archiveCmd(),
			checksumsCmd(),
			sbomCmd(),
			provenanceCmd(),
			manifestBuildCmd(),
			manifestMergeCmd(),
			signCmd(),
			msiBuildCmd(),
			authenticodeSignCmd(),
			authenticodeVerifyCmd(),
			macosSignCmd(),
			macosStripCmd(),
			macosNotarizeCmd(),
			imageBuildCmd(),
			imagePushCmd(),
			publishCmd(),
			registryServeCmd(),
			verifyCmd(),
			notifyCmd(),
			goSDKUnpackCmd(),
		},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	if len(os.Args) > 1 && os.Args[1] == actionhelper.Command {
		// relkit's Bazel rules run a prebuilt relkit as their action helper;
		// the arguments are the helper's own, written by the rules.
		code = actionhelper.Main(ctx, os.Args[2:], os.Stderr)
	} else {
		code = app().Main(ctx, &cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:])
	}
	stop()
	os.Exit(code)
}
