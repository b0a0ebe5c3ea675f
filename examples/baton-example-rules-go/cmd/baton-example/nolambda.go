//go:build !baton_lambda_support

package main

import (
	"fmt"
	"io"
)

func lambdaMain(stderr io.Writer) int {
	fmt.Fprintln(stderr, "baton-example lambda: this build has no Lambda support; use the release's Lambda image (built with -tags baton_lambda_support)")
	return 1
}
