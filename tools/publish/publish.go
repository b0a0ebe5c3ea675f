// Package publish turns a built release tree into a published release.
//
// Run is a pipeline of small steps, each named in errors and progress:
//
//	check tree        the tree is the release asked for (org, repo, tag, URLs)
//	check published   manifest.json in the bucket means the release is
//	                  complete: nothing is uploaded again
//	lock              a lock object keeps concurrent publishes of one tag apart
//	stage             the tree is copied to a work directory (the build's
//	                  output stays read-only)
//	fetch signatures  signature files an earlier attempt published are
//	                  downloaded into the work directory
//	codesign          darwin and Windows binaries are signed inside their
//	                  archives, MSIs rebuilt and signed, and the files that
//	                  depend on their bytes updated (see package codesign);
//	                  signed archives an earlier attempt published are used
//	                  as they are
//	prepare images    the tree's container images are added to the
//	                  manifest, and statements about them prepared
//	sign              Sigstore signatures and attestation bundles, for
//	                  the images too
//	check signed tree every URL in the manifest names a file about to be
//	                  uploaded, with the hash and size the manifest says,
//	                  and manifest.json's signature passes the check the
//	                  verify step makes (see Options.CheckSignature)
//	upload artifacts  every artifact and its side files, in parallel
//	upload checksums  the checksums file and its side files
//	push images       each image under its tag, with its provenance, SBOM
//	                  and signature as OCI referrers (see ImageOptions)
//	upload manifest   manifest.json's signature files, then manifest.json
//	record            the registry API (idempotent)
//	verify            the published release, as a user would
//
// Every upload is write-once (see package s3store), so a re-run after a
// failure resumes where it stopped, and manifest.json is never visible
// while anything it lists is missing. Signatures are not reproducible, so a
// re-run that lost the work directory (another machine, a new CI job)
// fetches the ones already published and the signer keeps those that
// verify; .sig and .cert files, derived from a bundle, are uploaded after
// it so that a published .sig always has its bundle beside it.
package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/relkit/relkit/tools/checksum"
	"github.com/relkit/relkit/tools/codesign"
	"github.com/relkit/relkit/tools/manifest"
	"github.com/relkit/relkit/tools/oci"
	"github.com/relkit/relkit/tools/registryapi"
	"github.com/relkit/relkit/tools/release"
	"github.com/relkit/relkit/tools/s3store"
)

// ManifestFile is the release manifest; its presence in the bucket marks a
// complete release.
const ManifestFile = "manifest.json"

// bundleSuffix names the Sigstore bundle of a file's own signature.
const bundleSuffix = ".sigstore.json"

// Signer signs a staged release tree in place.
type Signer interface {
	SignTree(ctx context.Context, dir string) error
}

// Options configure Run.
type Options struct {
	Dir            string // the built release tree
	Org, Repo, Tag string
	// BaseURL is the public download root: files are served at
	// BaseURL/KEY for their bucket KEY.
	BaseURL string
	// Prefix is prepended to every key; empty for the bucket root.
	Prefix string
	// WorkDir receives the staged, signed tree; it is kept so that a
	// re-run reuses the signatures. Empty means a directory under the
	// system temporary directory named after the release.
	WorkDir string

	Store *s3store.Store
	// Codesign signs the binaries of the staged tree with Apple and
	// Authenticode identities; nil publishes them as built. Its Published
	// is set by Run.
	Codesign *codesign.Options
	// Signer signs the staged tree; nil means the tree is already signed.
	Signer Signer
	// Registry records the release; nil skips the step.
	Registry     *registryapi.Client
	RegistryMeta registryapi.Metadata
	// Images configures pushing the tree's container images.
	Images ImageOptions
	// Verify checks the published release at its manifest URL; nil skips.
	Verify func(ctx context.Context, manifestURL string) error
	// CheckSignature checks a staged file against its Sigstore bundle with
	// the identity Verify demands; nil skips. Run checks manifest.json's
	// before uploading anything: a signer Verify would refuse (an identity
	// token for another ref or repository) must fail the release while the
	// write-once bucket still holds nothing of it.
	CheckSignature func(data, bundle []byte) error

	Jobs    int           // concurrent uploads; 0 means 8
	LockTTL time.Duration // 0 means 30 minutes
	Owner   string        // names this run in the lock, e.g. a CI run URL
	// Progress shows uploads; nil shows nothing.
	Progress Progress
	// Log receives one line per step; nil discards.
	Log io.Writer
}

// Report says what Run did.
type Report struct {
	// AlreadyPublished is set when manifest.json was in the bucket.
	AlreadyPublished bool
	ManifestURL      string
	Uploaded         []string // keys, sorted
	Skipped          []string // keys already there with the same bytes
	Registry         *registryapi.Status
	Codesign         *codesign.Report
	Images           []oci.Pushed
}

// StepError names the step that failed.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

type run struct {
	Options
	tag       release.Tag
	dirKey    string // key of the release directory, without trailing slash
	dirURL    string
	manifest  *manifest.Manifest
	published []byte // manifest.json found in the bucket
	stage     string
	plan      plan
	images    []*treeImage
	report    Report
}

type step struct {
	name string
	run  func(*run, context.Context) error
	// always runs the step for a release published before.
	always bool
}

var steps = []step{
	{"check tree", (*run).checkTree, true},
	{"check published", (*run).checkPublished, true},
	{"lock", nil, false}, // held around the steps up to the manifest upload
	{"stage", (*run).stageTree, false},
	{"fetch signatures", (*run).fetchSignatures, false},
	{"codesign", (*run).codesign, false},
	{"prepare images", (*run).prepareImages, false},
	{"sign", (*run).sign, false},
	{"check signed tree", (*run).checkSigned, false},
	{"upload artifacts", (*run).uploadArtifacts, false},
	{"upload checksums", (*run).uploadChecksums, false},
	{"push images", (*run).pushImages, false},
	{"upload manifest", (*run).uploadManifest, false},
	{"record", (*run).record, true},
	{"verify", (*run).verify, true},
}

// Run publishes the release (see the package documentation).
func Run(ctx context.Context, o Options) (*Report, error) {
	r := &run{Options: o}
	if r.Jobs <= 0 {
		r.Jobs = 8
	}
	if r.LockTTL <= 0 {
		r.LockTTL = 30 * time.Minute
	}
	if r.Log == nil {
		r.Log = io.Discard
	}
	var lock *s3store.Lock
	defer func() {
		if lock != nil {
			if err := lock.Unlock(context.WithoutCancel(ctx)); err != nil {
				r.logf("warning: %v", err)
			}
		}
	}()
	for _, s := range steps {
		if r.report.AlreadyPublished && !s.always {
			continue
		}
		var err error
		switch s.name {
		case "lock":
			lock, err = r.lock(ctx)
			if err == nil && r.report.AlreadyPublished {
				// Completed by another run while we waited.
				continue
			}
		case "record":
			// The release is public now; the lock is no longer needed.
			if lock != nil {
				if err := lock.Unlock(ctx); err != nil {
					r.logf("warning: %v", err)
				}
				lock = nil
			}
			err = s.run(r, ctx)
		default:
			err = s.run(r, ctx)
		}
		if err != nil {
			return &r.report, &StepError{Step: s.name, Err: err}
		}
	}
	return &r.report, nil
}

func (r *run) logf(format string, a ...any) { fmt.Fprintf(r.Log, "publish: "+format+"\n", a...) }

func (r *run) key(name string) string { return r.dirKey + "/" + name }

func (r *run) checkTree(ctx context.Context) error {
	tag, err := release.ParseTag(r.Tag)
	if err != nil {
		return err
	}
	if err := errors.Join(release.CheckName("org", r.Org), release.CheckName("repo", r.Repo)); err != nil {
		return err
	}
	if r.Store == nil {
		return errors.New("no bucket configured")
	}
	r.tag = tag
	r.dirKey = path.Join(strings.Trim(r.Prefix, "/"), "releases", r.Org, r.Repo, tag.String())
	if !strings.HasPrefix(r.BaseURL, "https://") && !strings.HasPrefix(r.BaseURL, "http://") {
		return fmt.Errorf("base URL %q: want an http(s) URL of the public download root", r.BaseURL)
	}
	r.dirURL = strings.TrimSuffix(r.BaseURL, "/") + "/" + r.dirKey
	r.report.ManifestURL = r.dirURL + "/" + ManifestFile
	if st, err := os.Stat(r.Dir); err != nil || !st.IsDir() {
		return fmt.Errorf("release tree %s does not exist: build it with 'bazel build //:release' and give its directory", r.Dir)
	}
	m, err := readManifest(filepath.Join(r.Dir, ManifestFile))
	if err != nil {
		return fmt.Errorf("%w (is %s the tree 'bazel build //:release' wrote?)", err, r.Dir)
	}
	if m.Org != r.Org || m.Name != r.Repo || m.Semver != tag.String() {
		return fmt.Errorf("%s is the release of %s/%s %s, not %s/%s %s", r.Dir, m.Org, m.Name, m.Semver, r.Org, r.Repo, tag)
	}
	if err := r.checkURLs(m); err != nil {
		return err
	}
	r.manifest = m
	return nil
}

// checkURLs makes sure every URL the manifest gives is where this publish
// puts the file.
func (r *run) checkURLs(m *manifest.Manifest) error {
	var errs []error
	check := func(what, u string) {
		if u == "" {
			return
		}
		name, ok := strings.CutPrefix(u, r.dirURL+"/")
		if !ok || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("%s %s is not under %s/: the tree was built for another base URL or prefix; rebuild with --base-url %s", what, u, r.dirURL, strings.TrimSuffix(r.BaseURL, "/")))
		}
	}
	check("signatureHref", m.SignatureHref)
	check("certificateHref", m.CertificateHref)
	for _, key := range slices.Sorted(maps.Keys(m.Assets)) {
		a := m.Assets[key]
		check(fmt.Sprintf("assets[%q].href", key), a.Href)
		for i, at := range a.Attestations {
			check(fmt.Sprintf("assets[%q].attestations[%d].bundleHref", key, i), at.BundleHref)
		}
	}
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
	}
	return errors.Join(errs...)
}

func readManifest(p string) (*manifest.Manifest, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := manifest.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

func (r *run) checkPublished(ctx context.Context) error {
	data, ok, err := r.Store.Get(ctx, r.key(ManifestFile))
	if err != nil || !ok {
		return err
	}
	m, err := manifest.Read(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("published %s: %w", r.report.ManifestURL, err)
	}
	r.published, r.manifest = data, m
	r.report.AlreadyPublished = true
	r.logf("%s/%s %s is already published (%s); nothing to upload", r.Org, r.Repo, r.tag, r.report.ManifestURL)
	return nil
}

func (r *run) lock(ctx context.Context) (*s3store.Lock, error) {
	key := path.Join(strings.Trim(r.Prefix, "/"), ".relkit", "locks", r.Org, r.Repo, r.tag.String()+".lock")
	l, err := r.Store.Lock(ctx, key, r.Owner, r.LockTTL)
	if err != nil {
		return nil, err
	}
	r.logf("locked s3://%s/%s", r.Store.Bucket(), key)
	// Another run may have finished while we waited for the lock.
	if err := r.checkPublished(ctx); err != nil {
		return l, err
	}
	return l, nil
}

func (r *run) stageTree(ctx context.Context) error {
	if r.WorkDir == "" {
		r.WorkDir = filepath.Join(os.TempDir(), "relkit-publish", r.Org, r.Repo, r.tag.String())
	}
	r.stage = r.WorkDir
	if err := os.MkdirAll(r.stage, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		if err := copyFile(filepath.Join(r.Dir, e.Name()), filepath.Join(r.stage, e.Name())); err != nil {
			return err
		}
	}
	r.logf("staged %d files in %s", len(entries), r.stage)
	return nil
}

// copyFile copies src over dst unless dst already has the same bytes, so a
// re-run keeps what signing added before.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeFile(dst, data)
}

// writeFile replaces dst with data through a temporary file, unless dst
// already holds data.
func writeFile(dst string, data []byte) error {
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// signingSuffixes name the files signing adds beside a signed file.
var signingSuffixes = []string{release.SigSuffix, release.CertSuffix, bundleSuffix, release.ProvenanceSuffix, release.SBOMBundleSuffix}

// fetchSignatures downloads the signing outputs already in the bucket for
// this release into the work directory, replacing any local ones: a
// published object is what any re-run must match. The signer then keeps
// every bundle that verifies over the same bytes, so the upload finds the
// same objects instead of new signatures that conflict with them.
func (r *run) fetchSignatures(ctx context.Context) error {
	if r.Signer == nil {
		return nil
	}
	signed := map[string]bool{}
	for _, name := range append(r.assetFiles(), ManifestFile) {
		for _, suf := range signingSuffixes {
			signed[name+suf] = true
		}
	}
	keys, err := r.Store.List(ctx, r.dirKey+"/")
	if err != nil {
		return err
	}
	var fetch []string
	for _, k := range keys {
		if name := strings.TrimPrefix(k, r.dirKey+"/"); signed[name] {
			fetch = append(fetch, name)
		}
	}
	if len(fetch) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.Jobs)
	for _, name := range fetch {
		g.Go(func() error {
			data, ok, err := r.Store.Get(gctx, r.key(name))
			if err != nil || !ok {
				return err
			}
			return writeFile(filepath.Join(r.stage, name), data)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	r.logf("fetched %d signature files an earlier attempt published", len(fetch))
	return nil
}

// assetFiles lists the file names of the manifest's assets, sorted.
func (r *run) assetFiles() []string {
	var names []string
	for _, a := range r.manifest.Assets {
		names = append(names, a.Filename)
	}
	slices.Sort(names)
	return names
}

// codesign signs the binaries. A signed archive or MSI already in the
// bucket is fetched and checked instead of signed again: its signature may
// carry a timestamp and could never be made again, and objects are
// write-once.
func (r *run) codesign(ctx context.Context) error {
	if r.Codesign == nil {
		return nil
	}
	o := *r.Codesign
	o.Published = func(ctx context.Context, name string) ([]byte, bool, error) {
		return r.Store.Get(ctx, r.key(name))
	}
	if o.Log == nil {
		o.Log = r.Log
	}
	rep, err := codesign.Resign(ctx, r.stage, o)
	if err != nil {
		return err
	}
	r.report.Codesign = rep
	r.logf("codesign: %d files signed, %d signed files kept from an earlier attempt", len(rep.Signed), len(rep.Reused))
	return nil
}

func (r *run) sign(ctx context.Context) error {
	if r.Signer == nil {
		r.logf("not signing: the tree is used as signed")
		return nil
	}
	if err := r.Signer.SignTree(ctx, r.stage); err != nil {
		return err
	}
	return r.signImages(ctx)
}

// plan is the upload order: artifacts with their side files, then the
// checksums file with its side files, then the manifest's side files, then
// manifest.json.
type plan struct {
	artifacts, checksums, manifestSide []s3store.Object
	manifest                           s3store.Object
}

// sideSuffixes are the files published beside an artifact when present.
var sideSuffixes = []string{release.SigSuffix, release.CertSuffix, bundleSuffix, release.ProvenanceSuffix, release.SBOMBundleSuffix, release.SBOMSuffix}

func (r *run) checkSigned(ctx context.Context) error {
	m, err := readManifest(filepath.Join(r.stage, ManifestFile))
	if err != nil {
		return err
	}
	files := map[string]bool{}
	object := func(name string) (s3store.Object, error) {
		p := filepath.Join(r.stage, name)
		sum, size, err := checksum.File(p)
		if err != nil {
			return s3store.Object{}, err
		}
		files[name] = true
		return s3store.Object{Key: r.key(name), Path: p, SHA256: sum, Size: size, ContentType: ContentType(name), CacheControl: CacheControl}, nil
	}
	// sides adds name's side files that exist; required ones must.
	sides := func(name string, required ...string) ([]s3store.Object, error) {
		var out []s3store.Object
		for _, suf := range sideSuffixes {
			_, err := os.Stat(filepath.Join(r.stage, name+suf))
			if errors.Is(err, os.ErrNotExist) {
				if slices.Contains(required, suf) {
					return nil, fmt.Errorf("%s%s is missing: was the tree signed?", name, suf)
				}
				continue
			}
			o, err := object(name + suf)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	var p plan
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(m.Assets)) {
		a := m.Assets[key]
		o, err := object(a.Filename)
		if err != nil {
			errs = append(errs, fmt.Errorf("assets[%q]: %w", key, err))
			continue
		}
		if o.SHA256 != a.SHA256 || o.Size != a.SizeBytes {
			errs = append(errs, fmt.Errorf("assets[%q]: %s has sha256 %s and %d bytes, the manifest says %s and %d", key, a.Filename, o.SHA256, o.Size, a.SHA256, a.SizeBytes))
			continue
		}
		if !slices.ContainsFunc(a.Attestations, func(d manifest.AttestationDescriptor) bool { return d.PredicateType == manifest.SLSAPredicate }) {
			errs = append(errs, fmt.Errorf("assets[%q]: the manifest declares no SLSA provenance bundle; build it with 'relkit manifest build --expect-attestations'", key))
			continue
		}
		side, err := sides(a.Filename, release.SigSuffix, bundleSuffix)
		if err != nil {
			errs = append(errs, fmt.Errorf("assets[%q]: %w", key, err))
			continue
		}
		if key == release.ChecksumsKey {
			p.checksums = append(append(p.checksums, o), side...)
		} else {
			p.artifacts = append(append(p.artifacts, o), side...)
		}
	}
	if p.manifest, err = object(ManifestFile); err != nil {
		errs = append(errs, err)
	}
	if p.manifestSide, err = sides(ManifestFile, release.SigSuffix, bundleSuffix); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Every URL of the manifest must name a file that is uploaded.
	var missing []string
	need := func(u string) {
		if name, ok := strings.CutPrefix(u, r.dirURL+"/"); ok && !files[name] {
			missing = append(missing, name)
		}
	}
	for _, a := range m.Assets {
		need(a.Href)
		need(a.SignatureHref)
		if _, err := os.Stat(filepath.Join(r.stage, ManifestFile+release.CertSuffix)); err == nil {
			need(a.CertificateHref) // keyless signing writes certificates
		}
		for _, at := range a.Attestations {
			need(at.BundleHref)
		}
	}
	need(m.SignatureHref)
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("the manifest names files the signed tree lacks: %s", strings.Join(slices.Compact(missing), ", "))
	}
	if r.CheckSignature != nil {
		if err := r.checkManifestSignature(); err != nil {
			return err
		}
	}
	r.manifest, r.plan = m, p
	if extra := r.unpublished(files); len(extra) > 0 {
		r.logf("not published (not part of the release): %s", strings.Join(extra, ", "))
	}
	return nil
}

// checkManifestSignature runs CheckSignature on the staged manifest.json and
// its bundle, the signature a verification of the release starts from.
func (r *run) checkManifestSignature() error {
	data, err := os.ReadFile(filepath.Join(r.stage, ManifestFile))
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(r.stage, ManifestFile+bundleSuffix))
	if err != nil {
		return err
	}
	if err := r.CheckSignature(data, b); err != nil {
		return fmt.Errorf("%s%s would fail verification, so nothing is uploaded: %w; sign with the identity verification expects (an identity token for the release's repository and tag)", ManifestFile, bundleSuffix, err)
	}
	return nil
}

// unpublished lists staged files that are not uploaded.
func (r *run) unpublished(files map[string]bool) []string {
	entries, _ := os.ReadDir(r.stage)
	var out []string
	for _, e := range entries {
		if !files[e.Name()] && e.Name() != imagesDir {
			out = append(out, e.Name())
		}
	}
	return out
}

func (r *run) uploadArtifacts(ctx context.Context) error {
	return r.upload(ctx, r.plan.artifacts)
}

func (r *run) uploadChecksums(ctx context.Context) error {
	return r.upload(ctx, r.plan.checksums)
}

func (r *run) uploadManifest(ctx context.Context) error {
	if err := r.upload(ctx, r.plan.manifestSide); err != nil {
		return err
	}
	if err := r.upload(ctx, []s3store.Object{r.plan.manifest}); err != nil {
		return err
	}
	r.logf("published %s", r.report.ManifestURL)
	return nil
}

// upload puts objs with at most Jobs in flight, .sig and .cert files after
// the others (see the package documentation). It stops at the first
// error, after the uploads in flight end.
func (r *run) upload(ctx context.Context, objs []s3store.Object) error {
	var total int64
	for _, o := range objs {
		total += o.Size
	}
	prog := r.Progress
	if prog == nil {
		prog = nopProgress{}
	}
	prog.Start(len(objs), total)
	defer prog.Finish()
	derived := func(o s3store.Object) bool {
		return strings.HasSuffix(o.Key, release.SigSuffix) || strings.HasSuffix(o.Key, release.CertSuffix)
	}
	bundles := slices.DeleteFunc(slices.Clone(objs), derived)
	sigs := slices.DeleteFunc(slices.Clone(objs), func(o s3store.Object) bool { return !derived(o) })
	for _, wave := range [][]s3store.Object{bundles, sigs} {
		if err := r.uploadWave(ctx, wave, prog); err != nil {
			return err
		}
	}
	slices.Sort(r.report.Uploaded)
	slices.Sort(r.report.Skipped)
	return nil
}

func (r *run) uploadWave(ctx context.Context, objs []s3store.Object, prog Progress) error {
	results := make([]s3store.Result, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.Jobs)
	for i, o := range objs {
		g.Go(func() error {
			res, err := r.Store.Put(gctx, o, prog.Add)
			if err != nil {
				return err
			}
			if res == s3store.Skipped {
				prog.Add(o.Size)
			}
			results[i] = res
			prog.Done(o.Key, res.String())
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, o := range objs {
		if results[i] == s3store.Skipped {
			r.report.Skipped = append(r.report.Skipped, o.Key)
		} else {
			r.report.Uploaded = append(r.report.Uploaded, o.Key)
		}
	}
	return nil
}

type nopProgress struct{}

func (nopProgress) Start(int, int64)    {}
func (nopProgress) Add(int64)           {}
func (nopProgress) Done(string, string) {}
func (nopProgress) Finish()             {}

func (r *run) record(ctx context.Context) error {
	if r.Registry == nil {
		return nil
	}
	req, err := registryapi.FromManifest(r.manifest, r.RegistryMeta)
	if err != nil {
		return err
	}
	st, err := r.Registry.Record(ctx, req)
	if err != nil {
		return err
	}
	r.report.Registry = st
	r.logf("registry: %s %s (HTTP %d)", st.Version, st.Status, st.Code)
	return nil
}

func (r *run) verify(ctx context.Context) error {
	if r.Verify == nil {
		return nil
	}
	return r.Verify(ctx, r.report.ManifestURL)
}
