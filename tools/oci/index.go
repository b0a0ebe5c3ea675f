package oci

import (
	"bytes"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type child struct {
	img      v1.Image
	platform v1.Platform
}

// index is an OCI image index whose JSON relkit writes itself: each
// descriptor has exactly media type, digest, size and platform, so the
// digest does not change with the descriptor fields a library version adds.
type index struct {
	raw    []byte
	m      *v1.IndexManifest
	images map[v1.Hash]v1.Image
}

func newIndex(children []child) (*index, error) {
	ix := &index{
		m:      &v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex},
		images: make(map[v1.Hash]v1.Image),
	}
	for _, c := range children {
		mt, err := c.img.MediaType()
		if err != nil {
			return nil, err
		}
		d, err := c.img.Digest()
		if err != nil {
			return nil, err
		}
		n, err := c.img.Size()
		if err != nil {
			return nil, err
		}
		p := c.platform
		ix.m.Manifests = append(ix.m.Manifests, v1.Descriptor{MediaType: mt, Digest: d, Size: n, Platform: &p})
		ix.images[d] = c.img
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ix.m); err != nil {
		return nil, err
	}
	ix.raw = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return ix, nil
}

func (ix *index) MediaType() (types.MediaType, error) { return ix.m.MediaType, nil }
func (ix *index) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(ix.raw))
	return h, err
}
func (ix *index) Size() (int64, error)                      { return int64(len(ix.raw)), nil }
func (ix *index) IndexManifest() (*v1.IndexManifest, error) { return ix.m.DeepCopy(), nil }
func (ix *index) RawManifest() ([]byte, error)              { return ix.raw, nil }

func (ix *index) Image(h v1.Hash) (v1.Image, error) {
	if img, ok := ix.images[h]; ok {
		return img, nil
	}
	return nil, fmt.Errorf("image %s is not in the index", h)
}

func (ix *index) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, fmt.Errorf("index %s is not in the index: it holds only images", h)
}
