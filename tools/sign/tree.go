package sign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	sigsign "github.com/sigstore/sigstore-go/pkg/sign"
	"golang.org/x/sync/errgroup"

	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/provenance"
	"github.com/relkit/relkit/tools/release"
)

// Names in a release tree besides those of package release.
const (
	// StatementFile is the unsigned provenance statement of the tree.
	StatementFile = "provenance.intoto.json"
	// ManifestFile is the release manifest, signed like an artifact.
	ManifestFile = "manifest.json"
	// BundleSuffix names the bundle of a file's own signature.
	BundleSuffix = ".sigstore.json"
)

// In-toto and predicate types of the attestations.
const (
	StatementType = provenance.StatementType
	SLSAPredicate = provenance.PredicateType
	SPDXPredicate = manifest.SPDXPredicate
	// inTotoPayload is the DSSE payload type of in-toto statements.
	inTotoPayload = "application/vnd.in-toto+json"
)

// DefaultJobs bounds concurrent signatures. Each mostly waits on Rekor
// (about a second per entry for its checkpoint) and holds its file in
// memory, so a handful in flight hides the latency.
const DefaultJobs = 8

// TreeOptions configure SignTree.
type TreeOptions struct {
	// Jobs bounds concurrent signatures; 0 means DefaultJobs.
	Jobs int
	// Progress receives one line per signature made or kept; nil discards.
	Progress io.Writer
}

// TreeReport lists the files SignTree wrote, kept and removed, sorted.
type TreeReport struct {
	Written, Kept, Removed []string
}

// SignTree signs the release tree in dir (see the package documentation).
// It checks every digest first: the checksums file against the artifacts,
// provenance.intoto.json, the SBOMs and manifest.json against both. Then it
// signs in parallel with at most o.Jobs signatures in flight, keeping every
// existing bundle that s.Verifier accepts for the same bytes. Files are
// written only when every signature was made: first all to temporary names,
// then renamed into place.
func SignTree(ctx context.Context, dir string, s Signer, o TreeOptions) (*TreeReport, error) {
	t, err := readTree(ctx, dir)
	if err != nil {
		return nil, err
	}
	v, err := s.Verifier()
	if err != nil {
		return nil, err
	}
	jobs, progress := o.jobs(), o.progress()
	var mu sync.Mutex // guards out and progress
	out := map[string][]byte{}
	var kept []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, j := range t.jobs() {
		g.Go(func() error {
			r, err := j.run(gctx, t, s, v)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for name, data := range r.files {
				out[name] = data
			}
			kept = append(kept, r.kept...)
			verb := "kept"
			switch {
			case r.signed:
				verb = "signed"
			case len(r.files) > 0:
				verb = "restored"
			}
			fmt.Fprintf(progress, "%s %s\n", verb, j.what)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// A certificate beside a key-mode signature would name the wrong signer.
	var remove []string
	for _, name := range t.signed() {
		cert := name + release.CertSuffix
		if _, written := out[cert]; !written && !slices.Contains(kept, cert) && t.exists(cert) {
			remove = append(remove, cert)
		}
	}
	written, err := commit(dir, out, remove)
	if err != nil {
		return nil, err
	}
	sort.Strings(kept)
	return &TreeReport{Written: written, Kept: kept, Removed: remove}, nil
}

// tree is a release directory whose digests were checked.
type tree struct {
	dir       string
	checksums string            // checksums file name
	artifacts []string          // names listed in the checksums file, sorted
	digests   map[string]string // sha256 of every file that gets signed
	statement []byte            // provenance.intoto.json as built
	subjects  []string          // statement subjects, sorted
	sboms     map[string][]byte // artifact name => its SPDX document
	manifest  bool              // manifest.json is present
}

// signed lists the files that get a signature of their own.
func (t *tree) signed() []string {
	names := append(slices.Clone(t.artifacts), t.checksums)
	if t.manifest {
		names = append(names, ManifestFile)
	}
	sort.Strings(names)
	return names
}

func (t *tree) exists(name string) bool {
	_, err := os.Lstat(filepath.Join(t.dir, name))
	return err == nil
}

// job makes one signature and writes it to one or more bundles.
type job struct {
	what    string   // for progress and errors, e.g. "x.zip" or "SBOM of x.zip"
	bundles []string // bundle files; all hold the same bundle
	blob    string   // for a signature over a file: its name; it also gets .sig and .cert
	content func() (sigsign.Content, error)
	// check verifies a bundle for one of the bundle files.
	check func(v *Verifier, file string, b *bundle.Bundle) error
}

func (t *tree) jobs() []*job {
	var jobs []*job
	for _, name := range t.signed() {
		jobs = append(jobs, t.blobJob(name))
	}
	var prov []string
	for _, s := range t.subjects {
		prov = append(prov, s+release.ProvenanceSuffix)
	}
	jobs = append(jobs, &job{
		what:    fmt.Sprintf("provenance of %d artifacts", len(t.subjects)),
		bundles: prov,
		content: func() (sigsign.Content, error) {
			return &sigsign.DSSEData{Data: t.statement, PayloadType: inTotoPayload}, nil
		},
		check: func(v *Verifier, file string, b *bundle.Bundle) error {
			return t.checkAttestation(v, b, strings.TrimSuffix(file, release.ProvenanceSuffix), SLSAPredicate, t.statement)
		},
	})
	for _, a := range t.artifacts {
		if doc, ok := t.sboms[a]; ok {
			jobs = append(jobs, t.sbomJob(a, doc))
		}
	}
	return jobs
}

// blobJob signs the bytes of a file. The file is read once, when the job
// runs, and must still have the digest checked at the start.
func (t *tree) blobJob(name string) *job {
	var data []byte
	load := func() ([]byte, error) {
		if data == nil {
			d, err := os.ReadFile(filepath.Join(t.dir, name))
			if err != nil {
				return nil, err
			}
			if sum := sha256.Sum256(d); hex.EncodeToString(sum[:]) != t.digests[name] {
				return nil, fmt.Errorf("%s changed while signing: run again", filepath.Join(t.dir, name))
			}
			data = d
		}
		return data, nil
	}
	return &job{
		what:    name,
		bundles: []string{name + BundleSuffix},
		blob:    name,
		content: func() (sigsign.Content, error) {
			d, err := load()
			return &sigsign.PlainData{Data: d}, err
		},
		check: func(v *Verifier, _ string, b *bundle.Bundle) error {
			d, err := load()
			if err != nil {
				return err
			}
			return v.VerifyBlob(b, d)
		},
	}
}

// sbomJob attests the SPDX document of artifact a: a statement with the
// artifact as subject and the whole document as predicate.
func (t *tree) sbomJob(a string, doc []byte) *job {
	payload, err := sbomStatement(a, t.digests[a], doc)
	return &job{
		what:    "SBOM of " + a,
		bundles: []string{a + release.SBOMBundleSuffix},
		content: func() (sigsign.Content, error) {
			return &sigsign.DSSEData{Data: payload, PayloadType: inTotoPayload}, err
		},
		check: func(v *Verifier, _ string, b *bundle.Bundle) error {
			if err != nil {
				return err
			}
			return t.checkAttestation(v, b, a, SPDXPredicate, payload)
		},
	}
}

// checkAttestation verifies an attestation bundle for artifact a and
// requires its payload to be exactly payload.
func (t *tree) checkAttestation(v *Verifier, b *bundle.Bundle, a, predicateType string, payload []byte) error {
	st, err := v.VerifyAttestation(b, t.digests[a], predicateType)
	if err != nil {
		return err
	}
	if !bytes.Equal(st.Payload, payload) {
		return fmt.Errorf("%w: the signed statement differs from the one in the tree", ErrVerification)
	}
	return nil
}

// result is what a job produced: files to write, files kept as they are,
// and whether a new signature was made (rather than a kept bundle copied).
type result struct {
	files  map[string][]byte
	kept   []string
	signed bool
}

func (j *job) run(ctx context.Context, t *tree, s Signer, v *Verifier) (*result, error) {
	// Keep bundles that still verify; any one of them serves the others.
	r := &result{files: map[string][]byte{}}
	var good []byte
	var stale []string
	for _, file := range j.bundles {
		if data, ok := t.validBundle(v, j, file); ok {
			good = data
			r.kept = append(r.kept, file)
		} else {
			stale = append(stale, file)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if good == nil {
		var err error
		if good, err = j.sign(ctx, s, v); err != nil {
			return nil, fmt.Errorf("sign %s: %w", j.what, err)
		}
		r.signed = true
	}
	for _, file := range stale {
		r.files[file] = good
	}
	if j.blob != "" {
		side, err := sideFiles(good)
		if err != nil {
			return nil, fmt.Errorf("sign %s: %w", j.what, err)
		}
		for suffix, data := range side {
			file := j.blob + suffix
			if old, err := os.ReadFile(filepath.Join(t.dir, file)); err == nil && bytes.Equal(old, data) {
				r.kept = append(r.kept, file)
			} else {
				r.files[file] = data
			}
		}
	}
	return r, nil
}

// sign makes the job's bundle and checks it as verifiers will: with the
// signer's identity, not only against the trusted root.
func (j *job) sign(ctx context.Context, s Signer, v *Verifier) ([]byte, error) {
	content, err := j.content()
	if err != nil {
		return nil, err
	}
	pb, err := s.Sign(ctx, content)
	if err != nil {
		return nil, err
	}
	data, err := marshalBundle(pb)
	if err != nil {
		return nil, err
	}
	b, err := ReadBundle(data)
	if err == nil {
		err = j.check(v, j.bundles[0], b)
	}
	if err != nil {
		return nil, fmt.Errorf("the new bundle does not verify: %w", err)
	}
	return data, nil
}

// validBundle reads file and reports whether it holds a bundle check accepts.
func (t *tree) validBundle(v *Verifier, j *job, file string) ([]byte, bool) {
	data, err := os.ReadFile(filepath.Join(t.dir, file))
	if err != nil {
		return nil, false
	}
	b, err := ReadBundle(data)
	if err != nil {
		return nil, false
	}
	return data, j.check(v, file, b) == nil
}

// marshalBundle writes a bundle as compact JSON. protojson varies its
// spacing on purpose; compacting makes the form stable.
func marshalBundle(pb *protobundle.Bundle) ([]byte, error) {
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, err
	}
	raw, err := b.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// sideFiles derives .sig (base64 signature, as cosign writes it) and, for a
// certificate-bearing bundle, .cert (PEM) from a message-signature bundle.
func sideFiles(bundleJSON []byte) (map[string][]byte, error) {
	b, err := ReadBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	ms := b.GetMessageSignature()
	if ms == nil {
		return nil, errors.New("bundle holds no message signature")
	}
	files := map[string][]byte{
		release.SigSuffix: []byte(base64.StdEncoding.EncodeToString(ms.GetSignature())),
	}
	vm := b.GetVerificationMaterial()
	der := vm.GetCertificate().GetRawBytes()
	if chain := vm.GetX509CertificateChain().GetCertificates(); der == nil && len(chain) > 0 {
		der = chain[0].GetRawBytes()
	}
	if der != nil {
		files[release.CertSuffix] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	return files, nil
}

// sbomStatement is the in-toto statement attesting doc for artifact a.
func sbomStatement(a, sha256hex string, doc []byte) ([]byte, error) {
	st := struct {
		Type          string          `json:"_type"`
		Subject       []subject       `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}{StatementType, []subject{{a, map[string]string{"sha256": sha256hex}}}, SPDXPredicate, doc}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st); err != nil {
		return nil, fmt.Errorf("SBOM statement of %s: %w", a, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// commit writes every file to a temporary name, then renames them all into
// place and removes the stale ones. Nothing is renamed unless every file
// was written.
func commit(dir string, files map[string][]byte, remove []string) (written []string, err error) {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	temps := map[string]string{}
	defer func() {
		for _, tmp := range temps {
			os.Remove(tmp)
		}
	}()
	for _, name := range names {
		tmp, err := writeTemp(dir, name, files[name])
		if err != nil {
			return nil, err
		}
		temps[name] = tmp
	}
	for _, name := range names {
		if err := os.Rename(temps[name], filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("rename into %s: %w", filepath.Join(dir, name), err)
		}
		delete(temps, name)
	}
	for _, name := range remove {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale %s: %w", filepath.Join(dir, name), err)
		}
	}
	return names, nil
}

func writeTemp(dir, name string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Join(dir, name), err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return f.Name(), nil
}

// jobs is Jobs, or DefaultJobs when unset.
func (o TreeOptions) jobs() int {
	if o.Jobs <= 0 {
		return DefaultJobs
	}
	return o.Jobs
}

// progress is Progress, or a writer that discards.
func (o TreeOptions) progress() io.Writer {
	if o.Progress == nil {
		return io.Discard
	}
	return o.Progress
}
