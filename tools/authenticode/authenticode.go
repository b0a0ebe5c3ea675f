package authenticode

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/atomicfile"
)

// Signer signs Windows PE files (.exe, .dll) and MSI packages.
type Signer interface {
	// Sign writes a signed copy of the file at in to out (which may be in).
	Sign(ctx context.Context, in, out string) error
}

// OSSLSigncode signs with osslsigncode and a PKCS#12 key and certificate.
type OSSLSigncode struct {
	PKCS12   []byte // DER PKCS#12 holding the key and the certificate chain
	Password string
	// Description and URL are shown by Windows in the signature details.
	Description, URL string
	// TimestampURLs are RFC 3161 servers tried in order; none for no timestamp.
	TimestampURLs []string
	// Time is the signing time recorded in the signature; zero means now.
	// Set it to the commit time to make signing reproducible.
	Time time.Time
	// LocalTSA timestamps with a local key instead of a server: for tests
	// and air-gapped signing. It excludes TimestampURLs.
	LocalTSA *LocalTSA
	// Tool is the osslsigncode path; empty means look it up on PATH.
	Tool string
}

// LocalTSA is an RFC 3161 timestamping key osslsigncode uses directly.
type LocalTSA struct {
	Certs, Key string // PEM files: the TSA chain and its private key
	Time       time.Time
}

// PKCS12FromEnv decodes a base64 PKCS#12 held in the environment variable name.
func PKCS12FromEnv(getenv func(string) string, name string) ([]byte, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil, fmt.Errorf("environment variable %s is empty; set it to the base64 of the PKCS#12 (.p12/.pfx) file", name)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
	if err != nil {
		return nil, fmt.Errorf("environment variable %s: not base64 (%v); encode the .p12 with 'base64 -w0 cert.p12'", name, err)
	}
	return der, nil
}

// Sign implements Signer.
func (s *OSSLSigncode) Sign(ctx context.Context, in, out string) error {
	if len(s.PKCS12) == 0 {
		return errors.New("authenticode: no PKCS#12 key given")
	}
	if _, err := os.Stat(in); err != nil {
		return fmt.Errorf("sign %s: %w", in, err)
	}
	if s.LocalTSA != nil && len(s.TimestampURLs) > 0 {
		return errors.New("authenticode: give timestamp URLs or a local TSA, not both")
	}
	tool, err := lookTool(s.Tool)
	if err != nil {
		return err
	}
	// The key and password go through private files, never the command line.
	dir, err := os.MkdirTemp("", "relkit-authenticode-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p12, pass, signed := filepath.Join(dir, "key.p12"), filepath.Join(dir, "pass"), filepath.Join(dir, "signed")
	if err := os.WriteFile(p12, s.PKCS12, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pass, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	args := []string{"sign", "-pkcs12", p12, "-readpass", pass, "-h", "sha256"}
	if s.Description != "" {
		args = append(args, "-n", s.Description)
	}
	if s.URL != "" {
		args = append(args, "-i", s.URL)
	}
	if !s.Time.IsZero() {
		args = append(args, "-time", unix(s.Time))
	}
	for _, u := range s.TimestampURLs {
		args = append(args, "-ts", u)
	}
	if t := s.LocalTSA; t != nil {
		args = append(args, "-TSA-certs", t.Certs, "-TSA-key", t.Key, "-TSA-time", unix(t.Time))
	}
	args = append(args, "-in", in, "-out", signed)
	if _, err := run(ctx, tool, args...); err != nil {
		return fmt.Errorf("sign %s: %w", in, err)
	}
	f, err := os.Open(signed)
	if err != nil {
		return err
	}
	defer f.Close()
	return atomicfile.Write(out, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
}

// VerifyOptions say which roots a signature must chain to.
type VerifyOptions struct {
	CAFile    string // PEM roots for the signing certificate; empty: the system roots
	TSACAFile string // PEM roots for the timestamp; empty: the system roots
	Tool      string // osslsigncode path; empty: PATH
}

// Verify checks the Authenticode signature of a PE or MSI file: the digest
// of the file, the certificate chain, and the timestamp when there is one.
// It needs no network: revocation lists are not fetched.
func Verify(ctx context.Context, path string, o VerifyOptions) error {
	tool, err := lookTool(o.Tool)
	if err != nil {
		return err
	}
	args := []string{"verify", "-in", path, "-ignore-cdp"}
	if o.CAFile != "" {
		args = append(args, "-CAfile", o.CAFile)
	}
	if o.TSACAFile != "" {
		args = append(args, "-TSA-CAfile", o.TSACAFile)
	}
	if _, err := run(ctx, tool, args...); err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	return nil
}

func lookTool(tool string) (string, error) {
	if tool != "" {
		return tool, nil
	}
	p, err := exec.LookPath("osslsigncode")
	if err != nil {
		return "", errors.New("osslsigncode not found on PATH; run scripts/install-msi-tools.sh (Debian: apt-get install osslsigncode)")
	}
	return p, nil
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// run executes osslsigncode; on failure the error carries the lines of its
// output that say why.
func run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TZ=UTC", "LC_ALL=C"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("osslsigncode %s: %w%s", args[0], err, reason(out.Bytes()))
	}
	return out.Bytes(), nil
}

// reason picks the lines of osslsigncode output that explain a failure.
func reason(out []byte) string {
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		l := strings.ToLower(line)
		if strings.Contains(l, "mismatch") || strings.Contains(l, "failed") || strings.Contains(l, "error") ||
			strings.Contains(l, "unable") || strings.Contains(l, "no signature") || strings.Contains(l, "unrecognized") {
			keep = append(keep, line)
		}
	}
	if len(keep) > 4 {
		keep = keep[:4]
	}
	if len(keep) == 0 {
		return ""
	}
	return ": " + strings.Join(keep, "; ")
}
