package authenticode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// CheckSigned checks that the file signed is exactly the file unsigned with
// an Authenticode signature added, that the signature verifies (o), and,
// when leaf is not nil, that leaf made it. It moves the signature of signed
// onto a copy of unsigned with osslsigncode, which verifies it, and compares
// the result with signed byte for byte: a signed file that differs from
// unsigned anywhere else fails. Publishing uses it to accept a signed file
// an earlier attempt uploaded instead of signing again.
func CheckSigned(ctx context.Context, signed, unsigned string, leaf *x509.Certificate, o VerifyOptions) error {
	tool, err := lookTool(o.Tool)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "relkit-authenticode-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sig, out := filepath.Join(dir, "sig.p7"), filepath.Join(dir, "attached")
	if _, err := run(ctx, tool, "extract-signature", "-in", signed, "-out", sig); err != nil {
		return fmt.Errorf("%s: %w", signed, err)
	}
	args := []string{"attach-signature", "-sigin", sig}
	if o.CAFile != "" {
		args = append(args, "-CAfile", o.CAFile)
	}
	if o.TSACAFile != "" {
		args = append(args, "-TSA-CAfile", o.TSACAFile)
	}
	if leaf != nil {
		sum := sha256.Sum256(leaf.Raw)
		args = append(args, "-require-leaf-hash", "sha256:"+hex.EncodeToString(sum[:]))
	}
	args = append(args, "-in", unsigned, "-out", out)
	if _, err := run(ctx, tool, args...); err != nil {
		return fmt.Errorf("the signature of %s does not verify over %s with the expected certificate: %w", signed, unsigned, err)
	}
	a, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(signed)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%s is not %s with a signature added: the signed content differs", signed, unsigned)
	}
	return nil
}
