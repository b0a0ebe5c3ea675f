package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/macos/notary"
)

func macosSignCmd() *cli.Command {
	var (
		in, out, org, name, ident, trustRoot, tsURL string
		key                                         cli.PKCS12
		required                                    bool
	)
	return &cli.Command{
		Name:    "macos sign",
		Args:    "--in FILE --out FILE (--pkcs12 FILE | --pkcs12-env VAR) --org ORG [flags]",
		Summary: "sign a darwin binary with a Developer ID certificate (hardened runtime)",
		Help: `Signs a darwin/amd64 or darwin/arm64 Go binary from Linux (with quill's
signing code): a SHA-256 code directory with the hardened runtime flag and
the identifier com.<org>.<name>, and a CMS signature carrying the
certificate chain. Any existing signature, such as the ad-hoc one the Go
linker gives darwin/arm64 binaries, is replaced. The result is verified
before it is written.

The key is a PKCS#12 (.p12) from a file or base64 in an environment
variable; its password comes from the environment variable --password-env
and is never logged. The certificate must be a Developer ID Application
certificate chaining to Apple's roots (shipped with quill); --trust-root
replaces Apple's roots with a test CA.

Run it at publish time, before archiving. Without an identity (the
--pkcs12-env variable is empty, e.g. in a fork) the binary is copied
unchanged, keeping the linker's ad-hoc signature, and "not signed" is
printed; --required makes that an error.

Example:
  MACOS_P12_PASSWORD=... relkit macos sign --pkcs12-env MACOS_P12 \
    --org conductorone --in dist/darwin_arm64/baton-okta --out signed/baton-okta`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in, "in", "", "darwin binary to sign (required)")
			fs.StringVar(&out, "out", "", "signed binary to write; may equal --in (required)")
			key.Register(fs, "", "MACOS_P12_PASSWORD", "Developer ID key")
			fs.StringVar(&org, "org", "", "organization for the identifier com.<org>.<name>")
			fs.StringVar(&name, "name", "", "program name for the identifier (default: base name of --in)")
			fs.StringVar(&ident, "identifier", "", "code signing identifier, overriding com.<org>.<name>")
			fs.StringVar(&trustRoot, "trust-root", "", "PEM file of test root certificates to trust instead of Apple's")
			fs.StringVar(&tsURL, "timestamp-url", macos.DefaultTimestampURL, "RFC 3161 timestamp server (notarization needs one); empty for none")
			fs.BoolVar(&required, "required", false, "fail instead of skipping when no identity is given")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if err := cli.Required(map[string]string{"in": in, "out": out}); err != nil {
				return err
			}
			if key.File != "" && key.Env != "" || !key.Given() {
				return cli.Usagef("give exactly one of --pkcs12 FILE and --pkcs12-env VAR")
			}
			if ident == "" {
				if org == "" {
					return cli.Usagef("give --org (for com.<org>.<name>) or --identifier")
				}
				if name == "" {
					name = filepath.Base(in)
				}
				ident = macos.Identifier(org, name)
			}
			bin, err := os.ReadFile(in)
			if err != nil {
				return fmt.Errorf("read --in: %w", err)
			}
			if key.EnvEmpty(env) {
				if required {
					return fmt.Errorf("environment variable %s is empty and --required is set; set it to the base64 of the Developer ID .p12", key.Env)
				}
				if err := atomicfile.WriteBytes(out, 0o755, bin); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "%s is empty: %s keeps the Go linker's ad-hoc signature (arm64) or none (amd64)\n", key.Env, out)
				fmt.Fprintf(env.Stdout, "%s: not signed\n", out)
				return nil
			}
			p12, password, err := key.Load(env)
			if err != nil {
				return err
			}
			var roots *x509.CertPool
			if trustRoot != "" {
				if roots, err = readRoots(trustRoot); err != nil {
					return err
				}
			}
			id, err := macos.LoadIdentity(p12, password, roots, time.Now())
			if err != nil {
				return err
			}
			signed, err := macos.Sign(bin, id, macos.SignOptions{Identifier: ident, TimestampURL: tsURL})
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if err := atomicfile.WriteBytes(out, 0o755, signed); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "signed %s as %s with %q\n", out, ident, id.Leaf().Subject.CommonName)
			fmt.Fprintf(env.Stdout, "%s: signed\n", out)
			return nil
		},
	}
}

func readRoots(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --trust-root: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--trust-root %s: no PEM certificates found", path)
	}
	return pool, nil
}

func macosStripCmd() *cli.Command {
	var in, out string
	var asBuilt bool
	return &cli.Command{
		Name:    "macos strip-signature",
		Args:    "--in FILE --out FILE [--as-built]",
		Summary: "remove a darwin binary's code signature to compare it with a rebuild",
		Help: `Removes the code signature of a darwin/amd64 or darwin/arm64 binary: the
LC_CODE_SIGNATURE load command, the signature bytes, and their share of
the __LINKEDIT segment. A published Developer ID signed binary and a
rebuilt one from the same source strip to identical bytes, whether the
rebuild carries the Go linker's ad-hoc signature (darwin/arm64) or none.

With --as-built the Go linker's ad-hoc signature is put back on arm64
binaries, so the output is byte for byte what 'go build' produced and can
be checked against the unsigned build's checksum directly.

Example (reproduction check of a signed release binary):
  relkit macos strip-signature --as-built --in published/baton-okta --out /tmp/a
  cmp /tmp/a rebuilt/darwin_arm64/baton-okta`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in, "in", "", "signed darwin binary (required)")
			fs.StringVar(&out, "out", "", "unsigned binary to write (required)")
			fs.BoolVar(&asBuilt, "as-built", false, "restore the Go linker's ad-hoc signature on arm64 binaries")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if err := cli.Required(map[string]string{"in": in, "out": out}); err != nil {
				return err
			}
			bin, err := os.ReadFile(in)
			if err != nil {
				return fmt.Errorf("read --in: %w", err)
			}
			b, err := macos.Strip(bin)
			if err == nil && asBuilt {
				b, err = macos.LinkerSign(b)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if err := atomicfile.WriteBytes(out, 0o755, b); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, out)
			return nil
		},
	}
}

func macosNotarizeCmd() *cli.Command {
	var (
		in, issuer, keyID, keyFile, keyEnv, baseURL string
		timeout                                     time.Duration
		jsonOut                                     bool
	)
	return &cli.Command{
		Name:    "macos notarize",
		Args:    "--in FILE.zip --issuer ID --key-id ID (--key FILE.p8 | --key-env VAR) [flags]",
		Summary: "notarize a signed darwin zip with Apple's notary service",
		Help: `Submits a zip (or dmg/pkg) holding Developer ID signed binaries to Apple's
notary service with an App Store Connect API key: an ES256 token from the
issuer ID, key ID and .p8 key, the submission, the upload, then status
polls with exponential backoff until Apple decides or --timeout passes. A
rejected submission fails with Apple's log.

A ticket cannot be stapled to a bare binary or a zip: macOS checks the
notarization online the first time the binary runs.

Notarization is off unless credentials are given: with none of --issuer,
--key-id, --key and the --key-env variable set, the command prints
"not notarized" and succeeds, for the release summary.

Example:
  APPLE_API_KEY="$(cat AuthKey_2X9R4HXF34.p8)" relkit macos notarize \
    --issuer 69a6de7e-... --key-id 2X9R4HXF34 --key-env APPLE_API_KEY \
    --in baton-okta_v1.2.3_darwin_arm64.zip`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in, "in", "", "zip, dmg or pkg to notarize (required)")
			fs.StringVar(&issuer, "issuer", "", "App Store Connect issuer ID")
			fs.StringVar(&keyID, "key-id", "", "App Store Connect API key ID")
			fs.StringVar(&keyFile, "key", "", "the API key's .p8 file")
			fs.StringVar(&keyEnv, "key-env", "", "environment variable holding the .p8 file's contents")
			fs.DurationVar(&timeout, "timeout", 30*time.Minute, "how long to wait for Apple's verdict")
			fs.StringVar(&baseURL, "notary-url", notary.DefaultBaseURL, "notary API base URL")
			fs.BoolVar(&jsonOut, "json", false, "print the result as JSON")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if in == "" {
				return cli.Usagef("missing required flag(s): --in")
			}
			var p8 []byte
			if keyEnv != "" {
				p8 = []byte(env.Env(keyEnv))
			}
			if issuer == "" && keyID == "" && keyFile == "" && len(p8) == 0 {
				fmt.Fprintf(env.Stderr, "no App Store Connect API key given: %s is %s\n", in, notary.NotNotarized)
				return printNotary(env, jsonOut, in, &notary.Result{Status: notary.NotNotarized})
			}
			if keyFile != "" && keyEnv != "" {
				return cli.Usagef("give --key FILE or --key-env VAR, not both")
			}
			if keyFile != "" {
				var err error
				if p8, err = os.ReadFile(keyFile); err != nil {
					return fmt.Errorf("read --key: %w", err)
				}
			}
			if issuer == "" || keyID == "" || len(p8) == 0 {
				return cli.Usagef("notarization needs all of --issuer, --key-id and --key or a non-empty --key-env variable")
			}
			switch strings.ToLower(filepath.Ext(in)) {
			case ".zip", ".dmg", ".pkg":
			default:
				return cli.Usagef("--in %s: Apple notarizes .zip, .dmg and .pkg files; put the binary in a zip first (relkit archive)", in)
			}
			key, err := notary.ParseAPIKey(issuer, keyID, p8)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(in)
			if err != nil {
				return fmt.Errorf("read --in: %w", err)
			}
			ctx, cancel := context.WithTimeoutCause(ctx, timeout, errors.New("--timeout reached"))
			defer cancel()
			c := &notary.Client{Key: key, BaseURL: baseURL, Progress: env.Stderr}
			res, err := c.Submit(ctx, filepath.Base(in), data)
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			fmt.Fprintf(env.Stderr, "note: %s\n", notary.StapleNote)
			return printNotary(env, jsonOut, in, res)
		},
	}
}

func printNotary(env *cli.Env, jsonOut bool, in string, res *notary.Result) error {
	if jsonOut {
		b, err := json.Marshal(struct {
			File string `json:"file"`
			*notary.Result
		}{in, res})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
		return nil
	}
	if res.ID == "" {
		fmt.Fprintf(env.Stdout, "%s: %s\n", in, res.Status)
	} else {
		fmt.Fprintf(env.Stdout, "%s: %s (submission %s)\n", in, strings.ToLower(res.Status), res.ID)
	}
	return nil
}
