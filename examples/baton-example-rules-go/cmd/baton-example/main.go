// Command baton-example is a small connector CLI used to exercise relkit end
// to end: it syncs a fixed set of users and groups into a JSON file.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// Set at link time by the release build (-X main.version=... etc.).
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "version", "-v", "--version":
		fmt.Fprintf(stdout, "baton-example %s (commit %s, built %s)\n", version, commit, date)
		return 0
	case "sync":
		return sync(args[1:], stdout, stderr)
	case "capabilities":
		return capabilities(stdout, stderr)
	case "lambda":
		return lambdaMain(stderr)
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "baton-example: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: baton-example COMMAND [flags]

Commands:
  sync          write the example directory's users and groups as JSON
  capabilities  print the resource types this connector syncs
  version       print version, commit and build date
  lambda        serve as an AWS Lambda function (release builds with baton_lambda_support)
`)
}

type resource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

var directory = []resource{
	{"user", "u-1", "Ada Lovelace"},
	{"user", "u-2", "Grace Hopper"},
	{"group", "g-1", "Engineering"},
}

func sync(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("file", "-", "where to write the sync result (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "baton-example sync: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	rs := append([]resource(nil), directory...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"resources": rs}); err != nil {
		fmt.Fprintf(stderr, "baton-example sync: %v\n", err)
		return 1
	}
	return 0
}

func capabilities(stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"resourceTypes": []string{"group", "user"}}); err != nil {
		fmt.Fprintf(stderr, "baton-example capabilities: %v\n", err)
		return 1
	}
	return 0
}
