package sign

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	sigsign "github.com/sigstore/sigstore-go/pkg/sign"
	"golang.org/x/sync/errgroup"
)

// Attestation is an in-toto statement to sign into a bundle file, such as
// one about a container image.
type Attestation struct {
	// File is the bundle's file name in the directory.
	File string
	// SHA256 is the subject digest (64 hex digits) the bundle must be about.
	SHA256        string
	PredicateType string
	// Statement is the in-toto statement, signed exactly as given.
	Statement []byte
	// Reuse holds bundles published before. Signatures are not
	// reproducible, so one that verifies for the same statement is kept
	// rather than signing again.
	Reuse [][]byte
}

// SignAttestations signs each statement as a DSSE bundle into dir/File.
// A bundle already in File, or else one of Reuse, that s.Verifier accepts
// for the same statement and subject is kept. Like SignTree, it writes
// nothing unless every bundle was made.
func SignAttestations(ctx context.Context, dir string, s Signer, atts []Attestation, o TreeOptions) (*TreeReport, error) {
	for _, a := range atts {
		if a.File == "" || a.File != filepath.Base(a.File) || a.File == "." || a.File == ".." {
			return nil, fmt.Errorf("attestation bundle %q: want a plain file name", a.File)
		}
	}
	v, err := s.Verifier()
	if err != nil {
		return nil, err
	}
	jobs, progress := o.jobs(), o.progress()
	var mu sync.Mutex // guards out, kept and progress
	out := map[string][]byte{}
	var kept []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, a := range atts {
		g.Go(func() error {
			data, verb, err := attest(gctx, dir, s, v, a)
			if err != nil {
				return fmt.Errorf("sign %s: %w", a.File, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if verb == "kept" {
				kept = append(kept, a.File)
			} else {
				out[a.File] = data
			}
			fmt.Fprintf(progress, "%s %s\n", verb, a.File)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	written, err := commit(dir, out, nil)
	if err != nil {
		return nil, err
	}
	sort.Strings(kept)
	return &TreeReport{Written: written, Kept: kept}, nil
}

// attest returns the bundle for a and what was done: "kept" (the file is
// valid), "restored" (a Reuse bundle is) or "signed".
func attest(ctx context.Context, dir string, s Signer, v *Verifier, a Attestation) ([]byte, string, error) {
	check := func(data []byte) error {
		b, err := ReadBundle(data)
		if err != nil {
			return err
		}
		st, err := v.VerifyAttestation(b, a.SHA256, a.PredicateType)
		if err != nil {
			return err
		}
		if !bytes.Equal(st.Payload, a.Statement) {
			return fmt.Errorf("%w: the signed statement differs from the one to sign", ErrVerification)
		}
		return nil
	}
	if data, err := os.ReadFile(filepath.Join(dir, a.File)); err == nil && check(data) == nil {
		return data, "kept", nil
	}
	for _, data := range a.Reuse {
		if check(data) == nil {
			return data, "restored", nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	pb, err := s.Sign(ctx, &sigsign.DSSEData{Data: a.Statement, PayloadType: inTotoPayload})
	if err != nil {
		return nil, "", err
	}
	data, err := marshalBundle(pb)
	if err != nil {
		return nil, "", err
	}
	if err := check(data); err != nil {
		return nil, "", fmt.Errorf("the new bundle does not verify: %w", err)
	}
	return data, "signed", nil
}
