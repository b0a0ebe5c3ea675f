package oci

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Platform is an operating system and CPU architecture, e.g. linux/arm64.
type Platform struct {
	OS, Arch string
}

// The platforms relkit builds images for.
var (
	LinuxAMD64 = Platform{OS: "linux", Arch: "amd64"}
	LinuxARM64 = Platform{OS: "linux", Arch: "arm64"}
)

// ParsePlatform parses OS/ARCH.
func ParsePlatform(s string) (Platform, error) {
	os, arch, ok := strings.Cut(s, "/")
	if !ok || os == "" || arch == "" || strings.Contains(arch, "/") {
		return Platform{}, fmt.Errorf("platform %q: want OS/ARCH, e.g. linux/arm64", s)
	}
	return Platform{OS: os, Arch: arch}, nil
}

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// variant is the CPU variant recorded for the default base, as registries
// and runtimes expect for arm64.
func (p Platform) variant() string {
	if p.Arch == "arm64" {
		return "v8"
	}
	return ""
}

// Format selects the media types of an image.
type Format int

const (
	// OCI media types: image index, manifest, config and layers.
	OCI Format = iota
	// Docker v2 schema 2 media types, for consumers that accept nothing
	// else (AWS Lambda).
	Docker
)

func (f Format) manifestType() types.MediaType {
	if f == Docker {
		return types.DockerManifestSchema2
	}
	return types.OCIManifestSchema1
}

func (f Format) configType() types.MediaType {
	if f == Docker {
		return types.DockerConfigJSON
	}
	return types.OCIConfigJSON
}

func (f Format) layerType() types.MediaType {
	if f == Docker {
		return types.DockerLayer
	}
	return types.OCILayer
}

// File is a file to add to an image.
type File struct {
	Src  string // on disk; links are followed
	Dest string // absolute path in the image, e.g. /etc/app/config.yaml
}

// Spec describes an image. The same Spec gives the same image digest.
type Spec struct {
	// Name is the binary's name; it is stored at /<Name>.
	Name string
	// Binaries holds the binary for each platform to build.
	Binaries map[Platform]string
	// Bases are pinned base images; the first with an image for a platform
	// is used. Without bases relkit's default base is used.
	Bases []Base
	// CACerts is the PEM bundle the default base installs as
	// /etc/ssl/certs/ca-certificates.crt. Required without Bases: it is an
	// input rather than the build machine's bundle so builds are hermetic.
	CACerts []byte
	// Files are added beside the binary, in the same layer.
	Files []File
	// Env entries KEY=VALUE are added to (and override) the base's.
	Env []string
	// WorkDir, when set, replaces the base's working directory.
	WorkDir string
	// User runs the entrypoint. Empty means 65532:65532 with the default
	// base and the base's user otherwise.
	User string
	// Entrypoint defaults to ["/<Name>"]. The base's Cmd is dropped.
	Entrypoint []string
	// Labels are added to (and override) the base's.
	Labels map[string]string
	// Created is the image creation time, normally the commit time. It
	// also dates every file of the binary's layer.
	Created time.Time
	// Format selects OCI or Docker media types.
	Format Format
}

// BuildIndex builds an image per platform of spec.Binaries and returns the
// OCI image index of them, ordered by platform.
func BuildIndex(spec Spec) (v1.ImageIndex, error) {
	if spec.Format != OCI {
		return nil, fmt.Errorf("multi-platform images use OCI media types; Docker media types are for single images")
	}
	if len(spec.Binaries) == 0 {
		return nil, fmt.Errorf("no binaries: give one per platform")
	}
	plats := slices.SortedFunc(func(yield func(Platform) bool) {
		for p := range spec.Binaries {
			if !yield(p) {
				return
			}
		}
	}, func(a, b Platform) int { return strings.Compare(a.String(), b.String()) })
	// Platforms are built in parallel (compressing the binaries is most of
	// the work); the first error in platform order is reported.
	children := make([]child, len(plats))
	errs := make([]error, len(plats))
	var wg sync.WaitGroup
	for i, p := range plats {
		wg.Go(func() {
			img, err := BuildImage(spec, p)
			if err != nil {
				errs[i] = err
				return
			}
			cf, err := img.ConfigFile()
			if err != nil {
				errs[i] = err
				return
			}
			children[i] = child{img: img, platform: v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return newIndex(children)
}

// BuildImage builds the image of spec for platform p.
func BuildImage(spec Spec, p Platform) (v1.Image, error) {
	if spec.Name == "" || strings.ContainsAny(spec.Name, "/\\ ") {
		return nil, fmt.Errorf("binary name %q: want a plain file name like baton-foo", spec.Name)
	}
	if spec.Created.IsZero() {
		return nil, fmt.Errorf("no creation time: set it to the commit time (SOURCE_DATE_EPOCH)")
	}
	bin, ok := spec.Binaries[p]
	if !ok {
		return nil, fmt.Errorf("no binary for %s", p)
	}
	created := time.Unix(spec.Created.Unix(), 0).UTC()

	var adds []mutate.Addendum
	cf := &v1.ConfigFile{}
	if len(spec.Bases) > 0 {
		base, err := baseFor(spec.Bases, p)
		if err != nil {
			return nil, err
		}
		if adds, cf, err = baseLayers(base, spec.Format); err != nil {
			return nil, err
		}
	} else {
		entries, err := defaultBaseEntries(spec.CACerts)
		if err != nil {
			return nil, err
		}
		l, err := layer(entries, baseTime, spec.Format.layerType())
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{
			Created: v1.Time{Time: baseTime.UTC()}, CreatedBy: "relkit: default base", Comment: "CA certificates, nonroot user"}})
		cf.Config.User = fmt.Sprintf("%d:%d", NonrootUID, NonrootGID)
		cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		cf.Variant = p.variant()
	}

	binEntry, err := fileEntry(bin, "/"+spec.Name)
	if err != nil {
		return nil, fmt.Errorf("binary for %s: %w", p, err)
	}
	binEntry.mode = 0o755
	entries := []entry{binEntry}
	for _, f := range spec.Files {
		e, err := fileEntry(f.Src, f.Dest)
		if err != nil {
			return nil, fmt.Errorf("extra file: %w", err)
		}
		entries = append(entries, e)
	}
	app, err := layer(entries, created, spec.Format.layerType())
	if err != nil {
		return nil, err
	}
	adds = append(adds, mutate.Addendum{Layer: app, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "relkit: /" + spec.Name}})

	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, spec.Format.manifestType()), spec.Format.configType())
	if img, err = mutate.Append(img, adds...); err != nil {
		return nil, err
	}
	layered, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf.RootFS, cf.History = layered.RootFS, layered.History
	cf.OS, cf.Architecture = p.OS, p.Arch
	cf.Created = v1.Time{Time: created}
	cf.Container, cf.DockerVersion, cf.Author = "", "", ""
	c := &cf.Config
	c.Entrypoint = spec.Entrypoint
	if len(c.Entrypoint) == 0 {
		c.Entrypoint = []string{"/" + spec.Name}
	}
	c.Cmd = nil
	c.Env, err = mergeEnv(c.Env, spec.Env)
	if err != nil {
		return nil, err
	}
	if spec.WorkDir != "" {
		if err := checkImagePath(spec.WorkDir); err != nil {
			return nil, fmt.Errorf("workdir: %w", err)
		}
		c.WorkingDir = spec.WorkDir
	}
	if spec.User != "" {
		c.User = spec.User
	}
	if len(spec.Labels) > 0 && c.Labels == nil {
		c.Labels = make(map[string]string)
	}
	for k, v := range spec.Labels {
		c.Labels[k] = v
	}
	return mutate.ConfigFile(img, cf)
}

// baseLayers returns the base's layers as addenda with media types of
// format f, and a copy of its configuration without layers and history.
func baseLayers(base v1.Image, f Format) ([]mutate.Addendum, *v1.ConfigFile, error) {
	bcf, err := base.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("base: read config: %w", err)
	}
	layers, err := base.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("base: read layers: %w", err)
	}
	var hist []v1.History
	for _, h := range bcf.History {
		if !h.EmptyLayer {
			hist = append(hist, h)
		}
	}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, nil, fmt.Errorf("base: layer %d: %w", i, err)
		}
		if mt, err = convertLayerType(mt, f); err != nil {
			return nil, nil, fmt.Errorf("base: layer %d: %w", i, err)
		}
		h := v1.History{Created: bcf.Created, CreatedBy: "base layer"}
		if len(hist) == len(layers) {
			h = hist[i]
		}
		adds[i] = mutate.Addendum{Layer: l, MediaType: mt, History: h}
	}
	cf := bcf.DeepCopy()
	cf.RootFS, cf.History = v1.RootFS{}, nil
	return adds, cf, nil
}

// convertLayerType maps a gzip'd tar layer type to format f. Other
// compressions have no Docker media type.
func convertLayerType(mt types.MediaType, f Format) (types.MediaType, error) {
	switch mt {
	case types.OCILayer, types.DockerLayer:
		return f.layerType(), nil
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer:
		if f == Docker {
			return types.DockerUncompressedLayer, nil
		}
		return types.OCIUncompressedLayer, nil
	}
	if f == Docker {
		return "", fmt.Errorf("media type %q has no Docker v2 equivalent; use a base with gzip layers", mt)
	}
	return mt, nil
}

// mergeEnv returns base with each KEY=VALUE of add set, keeping order.
func mergeEnv(base, add []string) ([]string, error) {
	out := slices.Clone(base)
	for _, kv := range add {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("env %q: want KEY=VALUE", kv)
		}
		i := slices.IndexFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		if i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out, nil
}

// Standard OCI annotation keys relkit sets as labels.
const (
	LabelCreated     = "org.opencontainers.image.created"
	LabelTitle       = "org.opencontainers.image.title"
	LabelRevision    = "org.opencontainers.image.revision"
	LabelVersion     = "org.opencontainers.image.version"
	LabelSource      = "org.opencontainers.image.source"
	LabelDescription = "org.opencontainers.image.description"
)

// Labels returns the labels of a release image: created (RFC 3339, UTC),
// title, revision (the full commit), version (VER), source (the git URL)
// and description. Empty values are left out.
func Labels(created time.Time, title, revision, version, source, description string) map[string]string {
	l := map[string]string{LabelCreated: created.UTC().Format(time.RFC3339)}
	for k, v := range map[string]string{LabelTitle: title, LabelRevision: revision, LabelVersion: version, LabelSource: source, LabelDescription: description} {
		if v != "" {
			l[k] = v
		}
	}
	return l
}
