package oci

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// baseTime dates every entry of the default base layer. It is fixed rather
// than the commit time so that all images built with the same CA bundle
// share one base layer blob.
var baseTime = time.Unix(0, 0)

// defaultBaseEntries is the default base: CA certificates, root and the
// distroless "nonroot" user (65532) without a login shell, their home
// directories and /tmp. There is no shell or any other program.
func defaultBaseEntries(caPEM []byte) ([]entry, error) {
	if err := checkCerts(caPEM); err != nil {
		return nil, err
	}
	return []entry{
		{name: "/etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "/etc/passwd", mode: 0o644, data: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\n" +
				"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "/etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caPEM},
		{name: "/home/nonroot", dir: true, mode: 0o700, uid: NonrootUID, gid: NonrootGID},
		{name: "/root", dir: true, mode: 0o700},
		{name: "/tmp", dir: true, mode: 0o1777},
	}, nil
}

// checkCerts accepts a PEM bundle of at least one X.509 certificate and
// nothing else, so a wrong file is caught at build time.
func checkCerts(data []byte) error {
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if strings.TrimSpace(string(rest)) != "" {
				return errors.New("CA bundle: has data that is not PEM after certificate " + fmt.Sprint(n))
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("CA bundle: block %d is %q, want CERTIFICATE", n+1, b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("CA bundle: certificate %d: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return errors.New("CA bundle: no PEM certificates; want a bundle like Debian's /etc/ssl/certs/ca-certificates.crt")
	}
	return nil
}

// Base is a base image in an OCI image layout directory or an image
// tarball (as written by 'docker save' or 'crane pull'), pinned by the
// digest of its manifest or index.
type Base struct {
	Path   string
	Digest v1.Hash
}

// ParseBase parses PATH@sha256:HEX.
func ParseBase(s string) (Base, error) {
	i := strings.LastIndex(s, "@")
	if i <= 0 {
		return Base{}, fmt.Errorf("base %q: want PATH@sha256:<64 hex> (an OCI layout directory or image tarball, pinned by digest)", s)
	}
	h, err := parseDigest(s[i+1:])
	if err != nil {
		return Base{}, fmt.Errorf("base %q: %w", s, err)
	}
	return Base{Path: s[:i], Digest: h}, nil
}

func (b Base) String() string { return b.Path + "@" + b.Digest.String() }

// images returns the images the pinned digest stands for: the image itself,
// or the images of an index.
func (b Base) images() ([]v1.Image, error) {
	fi, err := os.Stat(b.Path)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b, err)
	}
	if !fi.IsDir() {
		img, err := tarball.ImageFromPath(b.Path, nil)
		if err != nil {
			return nil, fmt.Errorf("base %s: read image tarball: %w", b, err)
		}
		if d, err := img.Digest(); err != nil || d != b.Digest {
			return nil, fmt.Errorf("base %s: the tarball's image has digest %s, not the pinned one", b, d)
		}
		return []v1.Image{img}, nil
	}
	lp, err := layout.FromPath(b.Path)
	if err != nil {
		return nil, fmt.Errorf("base %s: not an OCI layout: %w", b, err)
	}
	raw, err := lp.Bytes(b.Digest)
	if err != nil {
		return nil, fmt.Errorf("base %s: digest not in the layout: %w", b, err)
	}
	if got, _, _ := v1.SHA256(bytes.NewReader(raw)); got != b.Digest {
		return nil, fmt.Errorf("base %s: blob content has digest %s; the layout is corrupt", b, got)
	}
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("base %s: pinned blob is not a manifest: %w", b, err)
	}
	ii, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b, err)
	}
	if probe.MediaType.IsImage() {
		img, err := ii.Image(b.Digest)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", b, err)
		}
		return []v1.Image{img}, nil
	}
	if !probe.MediaType.IsIndex() {
		return nil, fmt.Errorf("base %s: pinned blob has media type %q, want an image manifest or index", b, probe.MediaType)
	}
	idx, err := ii.ImageIndex(b.Digest)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b, err)
	}
	var imgs []v1.Image
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("base %s: image %s: %w", b, d.Digest, err)
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// baseFor returns the image of bases that runs on p, looking at each
// image's configuration (not only at index descriptors).
func baseFor(bases []Base, p Platform) (v1.Image, error) {
	var seen []string
	for _, b := range bases {
		imgs, err := b.images()
		if err != nil {
			return nil, err
		}
		for _, img := range imgs {
			cf, err := img.ConfigFile()
			if err != nil {
				return nil, fmt.Errorf("base %s: read config: %w", b, err)
			}
			got := Platform{OS: cf.OS, Arch: cf.Architecture}
			if got == p {
				return img, nil
			}
			seen = append(seen, got.String())
		}
	}
	return nil, fmt.Errorf("base: no image for %s in %s (found: %s); give a base built for %s", p, basesString(bases), strings.Join(seen, ", "), p)
}

func basesString(bases []Base) string {
	s := make([]string, len(bases))
	for i, b := range bases {
		s[i] = b.String()
	}
	return strings.Join(s, ", ")
}

func parseDigest(s string) (v1.Hash, error) {
	h, err := v1.NewHash(s)
	if err != nil || h.Algorithm != "sha256" || len(h.Hex) != 64 || strings.ToLower(h.Hex) != h.Hex {
		return v1.Hash{}, fmt.Errorf("digest %q: want sha256:<64 lower-case hex>", s)
	}
	return h, nil
}
