package manifest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Input is a manifest or fragment with where it came from, for messages.
type Input struct {
	Source   string // e.g. the file name
	Manifest *Manifest
}

// Merge returns base with the assets and images of each fragment added.
// Nothing is overwritten: a key present twice with different content is a
// conflict naming the key and both sources; the same content twice is fine.
// A fragment that names a release (name, org or semver) must name base's.
// The attestation summaries are then derived again from the merged content.
// All conflicts are reported at once; base is not modified.
func Merge(base Input, fragments ...Input) (*Manifest, error) {
	out := *base.Manifest
	out.Assets = maps.Clone(base.Manifest.Assets)
	out.Images = maps.Clone(base.Manifest.Images)
	assetFrom := make(map[string]string)
	for k := range out.Assets {
		assetFrom[k] = base.Source
	}
	imageFrom := make(map[string]string)
	for k := range out.Images {
		imageFrom[k] = base.Source
	}

	var conflicts []string
	for _, f := range fragments {
		fm := f.Manifest
		for _, id := range [][3]string{{"name", out.Name, fm.Name}, {"org", out.Org, fm.Org}, {"semver", out.Semver, fm.Semver}} {
			if id[2] != "" && id[2] != id[1] {
				conflicts = append(conflicts, fmt.Sprintf("%s is %q in %s but %q in %s", id[0], id[1], base.Source, id[2], f.Source))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(fm.Assets)) {
			a := fm.Assets[k]
			if prev, ok := out.Assets[k]; ok {
				if !sameAsset(prev, a) {
					conflicts = append(conflicts, fmt.Sprintf("assets[%q] differs between %s and %s", k, assetFrom[k], f.Source))
				}
				continue
			}
			if out.Assets == nil {
				out.Assets = make(map[string]Asset)
			}
			out.Assets[k], assetFrom[k] = a, f.Source
		}
		for _, k := range slices.Sorted(maps.Keys(fm.Images)) {
			im := fm.Images[k]
			if prev, ok := out.Images[k]; ok {
				if prev != im {
					conflicts = append(conflicts, fmt.Sprintf("images[%q] differs between %s and %s", k, imageFrom[k], f.Source))
				}
				continue
			}
			if out.Images == nil {
				out.Images = make(map[string]Image)
			}
			out.Images[k], imageFrom[k] = im, f.Source
		}
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("merge conflict: %s", strings.Join(conflicts, "; "))
	}
	out.summarize()
	if err := out.Validate(); err != nil {
		return nil, errors.Join(errors.New("merged manifest is invalid"), err)
	}
	return &out, nil
}

// sameAsset compares assets, treating no attestations and an empty list alike.
func sameAsset(a, b Asset) bool {
	aa, ba := a.Attestations, b.Attestations
	a.Attestations, b.Attestations = nil, nil
	return reflect.DeepEqual(a, b) && slices.Equal(aa, ba)
}
