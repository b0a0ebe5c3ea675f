package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/codesign"
	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/macos/notary"
)

// codesignFlags are publish's flags for signing binaries with Apple and
// Authenticode identities (the codesign step).
type codesignFlags struct {
	macKey                      cli.PKCS12
	macTrustRoot, macTimestamp  string
	macIdentifier               string
	winKey                      cli.PKCS12
	winTimestamps               cli.StringList
	winCA, winTSACA             string
	notaryIssuer, notaryKeyID   string
	notaryKeyFile, notaryKeyEnv string
	notaryURL                   string
	notaryTimeout               time.Duration
	sbomMainVersion             string
}

const codesignHelp = `Code signing (the codesign step, off unless a key is given): with
--macos-pkcs12 or --macos-pkcs12-env the binary of each darwin zip is signed
with the Developer ID identity (identifier com.<org>.<repo>, hardened
runtime); with --authenticode-pkcs12 or --authenticode-pkcs12-env the .exe of
each windows zip is signed, and each MSI is rebuilt around it from the
recipe in index.json and signed too. The archives are re-written exactly as
the build wrote them; SBOMs, checksums, provenance subjects and the manifest
follow. Passwords come from the --*-password-env variables and are never
logged; a key variable that is empty (a fork without secrets) leaves those
binaries unsigned, with a warning. A signed archive or MSI an earlier
attempt uploaded is checked (signature by this identity, same binary
underneath) and used instead of signing again. Notarization needs an App
Store Connect key (--notary-issuer, --notary-key-id, --notary-key or
--notary-key-env); without one the darwin zips are reported "not
notarized". A ticket cannot be stapled to a bare binary.`

func (c *codesignFlags) register(f *flag.FlagSet) {
	c.macKey.Register(f, "macos-", "MACOS_P12_PASSWORD", "codesign: Developer ID key")
	f.StringVar(&c.macTrustRoot, "macos-trust-root", "", "codesign: PEM `FILE` of roots to trust instead of Apple's (tests)")
	f.StringVar(&c.macTimestamp, "macos-timestamp-url", macos.DefaultTimestampURL, "codesign: RFC 3161 server for darwin signatures (notarization needs one); empty for none")
	f.StringVar(&c.macIdentifier, "macos-identifier", "", "codesign: code signing identifier (default com.<org>.<repo>)")
	c.winKey.Register(f, "authenticode-", "AUTHENTICODE_PASSWORD", "codesign: Authenticode key")
	f.Var(&c.winTimestamps, "authenticode-timestamp-url", "codesign: RFC 3161 server for Authenticode; repeat to try several (default none: signed at the commit time)")
	f.StringVar(&c.winCA, "authenticode-ca", "", "codesign: PEM `FILE` of roots Authenticode signatures must chain to (default system roots)")
	f.StringVar(&c.winTSACA, "authenticode-tsa-ca", "", "codesign: PEM `FILE` of roots for Authenticode timestamps (default system roots)")
	f.StringVar(&c.notaryIssuer, "notary-issuer", "", "codesign: App Store Connect issuer `ID`; notarizes the signed darwin zips")
	f.StringVar(&c.notaryKeyID, "notary-key-id", "", "codesign: App Store Connect API key `ID`")
	f.StringVar(&c.notaryKeyFile, "notary-key", "", "codesign: the API key's .p8 `FILE`")
	f.StringVar(&c.notaryKeyEnv, "notary-key-env", "", "codesign: environment variable `NAME` holding the .p8 file's contents")
	f.StringVar(&c.notaryURL, "notary-url", notary.DefaultBaseURL, "codesign: notary API base `URL`")
	f.DurationVar(&c.notaryTimeout, "notary-timeout", 30*time.Minute, "codesign: how long to wait for Apple's verdict on each zip")
	f.StringVar(&c.sbomMainVersion, "sbom-main-version", "", "codesign: the --main-version the build gave 'relkit sbom', if any")
}

// options returns the codesign step's options; nil when no key is given.
func (c *codesignFlags) options(env *cli.Env) (*codesign.Options, error) {
	o := &codesign.Options{SBOMMainVersion: c.sbomMainVersion}
	if c.macKey.EnvEmpty(env) {
		fmt.Fprintf(env.Stderr, "publish: warning: %s is empty: darwin binaries are published unsigned and not notarized\n", c.macKey.Env)
	} else if c.macKey.Given() {
		p12, password, err := c.macKey.Load(env)
		if err != nil {
			return nil, err
		}
		var roots *x509.CertPool
		if c.macTrustRoot != "" {
			if roots, err = readRoots(c.macTrustRoot); err != nil {
				return nil, fmt.Errorf("--macos-trust-root: %w", err)
			}
		}
		id, err := macos.LoadIdentity(p12, password, roots, time.Now())
		if err != nil {
			return nil, fmt.Errorf("--macos-pkcs12: %w", err)
		}
		o.MacOS = &codesign.MacOS{Identity: id, Roots: roots, Identifier: c.macIdentifier, TimestampURL: c.macTimestamp}
	}
	if c.winKey.EnvEmpty(env) {
		fmt.Fprintf(env.Stderr, "publish: warning: %s is empty: windows binaries and installers are published unsigned\n", c.winKey.Env)
	} else if c.winKey.Given() {
		p12, password, err := c.winKey.Load(env)
		if err != nil {
			return nil, err
		}
		for flag, f := range map[string]string{"authenticode-ca": c.winCA, "authenticode-tsa-ca": c.winTSACA} {
			if _, err := os.Stat(f); f != "" && err != nil {
				return nil, fmt.Errorf("--%s: %w", flag, err)
			}
		}
		o.Windows = &codesign.Windows{PKCS12: p12, Password: password, TimestampURLs: c.winTimestamps, CAFile: c.winCA, TSACAFile: c.winTSACA}
	}
	n, err := c.notary(env)
	if err != nil {
		return nil, err
	}
	if n != nil && o.MacOS == nil {
		return nil, cli.Usagef("--notary-* notarizes signed darwin binaries: give --macos-pkcs12 or --macos-pkcs12-env too")
	}
	o.Notary = n
	if o.MacOS == nil && o.Windows == nil {
		return nil, nil
	}
	return o, nil
}

func (c *codesignFlags) notary(env *cli.Env) (*codesign.Notary, error) {
	var p8 []byte
	if c.notaryKeyEnv != "" {
		p8 = []byte(env.Env(c.notaryKeyEnv))
	}
	if c.notaryIssuer == "" && c.notaryKeyID == "" && c.notaryKeyFile == "" && len(p8) == 0 {
		return nil, nil
	}
	if c.notaryKeyFile != "" && c.notaryKeyEnv != "" {
		return nil, cli.Usagef("give --notary-key FILE or --notary-key-env NAME, not both")
	}
	if c.notaryKeyFile != "" {
		var err error
		if p8, err = os.ReadFile(c.notaryKeyFile); err != nil {
			return nil, fmt.Errorf("--notary-key: %w", err)
		}
	}
	if c.notaryIssuer == "" || c.notaryKeyID == "" || len(p8) == 0 {
		return nil, cli.Usagef("notarization needs all of --notary-issuer, --notary-key-id and --notary-key or a non-empty --notary-key-env variable")
	}
	key, err := notary.ParseAPIKey(c.notaryIssuer, c.notaryKeyID, p8)
	if err != nil {
		return nil, fmt.Errorf("notary key: %w", err)
	}
	return &codesign.Notary{Client: &notary.Client{Key: key, BaseURL: c.notaryURL, Progress: prefixed{env, "notary: "}}, Timeout: c.notaryTimeout}, nil
}
