package oci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Artifact is a built image: exactly one of Index and Image is set.
type Artifact struct {
	Index v1.ImageIndex
	Image v1.Image
}

// Digest returns the digest of the index or image manifest.
func (a Artifact) Digest() (v1.Hash, error) {
	if a.Index != nil {
		return a.Index.Digest()
	}
	return a.Image.Digest()
}

func (a Artifact) descriptor() (v1.Descriptor, error) {
	var d v1.Descriptor
	var err error
	var m interface {
		MediaType() (types.MediaType, error)
		Digest() (v1.Hash, error)
		Size() (int64, error)
	} = a.Image
	if a.Index != nil {
		m = a.Index
	}
	if d.MediaType, err = m.MediaType(); err != nil {
		return d, err
	}
	if d.Digest, err = m.Digest(); err != nil {
		return d, err
	}
	d.Size, err = m.Size()
	return d, err
}

// WriteLayout writes a as an OCI image layout in dir, replacing what dir
// held. index.json lists a alone, without annotations. The layout is
// written beside dir and renamed into place, so dir is never half-written.
func WriteLayout(dir string, a Artifact) (err error) {
	desc, err := a.descriptor()
	if err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	lp, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	if a.Index != nil {
		err = lp.WriteIndex(a.Index)
	} else {
		err = lp.WriteImage(a.Image)
	}
	if err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	if err := lp.AppendDescriptor(desc); err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// ReadLayout reads the one image or index of an OCI layout written by
// WriteLayout.
func ReadLayout(dir string) (Artifact, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return Artifact{}, fmt.Errorf("read layout %s: %w", dir, err)
	}
	ii, err := lp.ImageIndex()
	if err != nil {
		return Artifact{}, fmt.Errorf("read layout %s: %w", dir, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return Artifact{}, fmt.Errorf("read layout %s: %w", dir, err)
	}
	if len(im.Manifests) != 1 {
		return Artifact{}, fmt.Errorf("read layout %s: index.json lists %d manifests, want the 1 that 'relkit image build' writes", dir, len(im.Manifests))
	}
	d := im.Manifests[0]
	switch {
	case d.MediaType.IsIndex():
		idx, err := ii.ImageIndex(d.Digest)
		return Artifact{Index: idx}, err
	case d.MediaType.IsImage():
		img, err := ii.Image(d.Digest)
		return Artifact{Image: img}, err
	}
	return Artifact{}, fmt.Errorf("read layout %s: manifest has media type %q, want an image or index", dir, d.MediaType)
}

// Summary is the JSON description of a built image: what a release needs
// to know without reading the layout.
type Summary struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	// Platforms maps OS/ARCH to the platform's image manifest digest.
	Platforms map[string]string `json:"platforms"`
}

// Summarize describes a.
func Summarize(a Artifact) (Summary, error) {
	desc, err := a.descriptor()
	if err != nil {
		return Summary{}, err
	}
	s := Summary{MediaType: string(desc.MediaType), Digest: desc.Digest.String(), Platforms: map[string]string{}}
	if a.Image != nil {
		cf, err := a.Image.ConfigFile()
		if err != nil {
			return Summary{}, err
		}
		s.Platforms[Platform{OS: cf.OS, Arch: cf.Architecture}.String()] = s.Digest
		return s, nil
	}
	im, err := a.Index.IndexManifest()
	if err != nil {
		return Summary{}, err
	}
	for _, m := range im.Manifests {
		if m.Platform == nil {
			return Summary{}, errors.New("index has a manifest without a platform")
		}
		s.Platforms[Platform{OS: m.Platform.OS, Arch: m.Platform.Architecture}.String()] = m.Digest.String()
	}
	return s, nil
}
