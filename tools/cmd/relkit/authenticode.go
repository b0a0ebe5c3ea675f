package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/relkit/relkit/tools/authenticode"
	"github.com/relkit/relkit/tools/cli"
)

func authenticodeSignCmd() *cli.Command {
	var (
		in, out, desc, url, signTime string
		key                          cli.PKCS12
		tsURLs                       cli.StringList
	)
	return &cli.Command{
		Name:    "authenticode sign",
		Args:    "--in FILE --out FILE (--pkcs12 FILE | --pkcs12-env VAR) [flags]",
		Summary: "sign a Windows executable or MSI with Authenticode",
		Help: `Signs a PE file (.exe, .dll) or an MSI package with Authenticode using
osslsigncode and a PKCS#12 (.p12/.pfx) key: from a file, or base64-encoded in
an environment variable (for CI secrets). The password is read from the
environment variable --password-env and never passed on a command line.

Sign the .exe before it goes into the zip and the MSI, and the MSI after it
is built. With --time and no timestamp server, signing is reproducible (with
an RSA key); an RFC 3161 timestamp (--timestamp-url) keeps the signature
valid after the certificate expires but makes the output differ each time.

Example:
  AUTHENTICODE_PASSWORD=... relkit authenticode sign --pkcs12-env AUTHENTICODE_P12 \
    --name baton-okta --timestamp-url http://timestamp.digicert.com \
    --in baton-okta.exe --out baton-okta.exe`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in, "in", "", "file to sign (required)")
			fs.StringVar(&out, "out", "", "signed file to write; may equal --in (required)")
			key.Register(fs, "", "AUTHENTICODE_PASSWORD", "signing key")
			fs.StringVar(&desc, "name", "", "program name shown in the signature details")
			fs.StringVar(&url, "url", "", "program URL shown in the signature details")
			fs.Var(&tsURLs, "timestamp-url", "RFC 3161 timestamp server; repeat to try several in order")
			fs.StringVar(&signTime, "time", "", "signing time in seconds since 1970, e.g. the commit time (default: now)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if err := cli.Required(map[string]string{"in": in, "out": out}); err != nil {
				return err
			}
			s := &authenticode.OSSLSigncode{Description: desc, URL: url, TimestampURLs: tsURLs}
			var err error
			if s.PKCS12, s.Password, err = key.Load(env); err != nil {
				return err
			}
			if signTime != "" {
				secs, err := cli.ParseEpoch("time", signTime)
				if err != nil {
					return err
				}
				s.Time = time.Unix(secs, 0)
			}
			if err := s.Sign(ctx, in, out); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "signed %s\n", out)
			fmt.Fprintln(env.Stdout, out)
			return nil
		},
	}
}

func authenticodeVerifyCmd() *cli.Command {
	var o authenticode.VerifyOptions
	return &cli.Command{
		Name:    "authenticode verify",
		Args:    "[--ca FILE] [--tsa-ca FILE] FILE...",
		Summary: "verify the Authenticode signature of executables or MSIs",
		Help: `Checks each file's Authenticode signature with osslsigncode: the digest of
the file, the certificate chain up to --ca (default: the system roots) and
the timestamp, if any, up to --tsa-ca. Revocation lists are not fetched.
Fails on the first file that does not verify.

Example:
  relkit authenticode verify --ca test-root.pem baton-okta.exe baton-okta_v1.2.3_windows_amd64.msi`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.CAFile, "ca", "", "PEM file of trusted roots for the signing certificate (default: system roots)")
			fs.StringVar(&o.TSACAFile, "tsa-ca", "", "PEM file of trusted roots for timestamps (default: system roots)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) == 0 {
				return cli.Usagef("want at least one FILE to verify")
			}
			for _, f := range args {
				if err := authenticode.Verify(ctx, f, o); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "%s: signature verified\n", f)
			}
			return nil
		},
	}
}
