package codesign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/relkit/relkit/tools/release"
)

// IndexFile lists the files of a release tree for the publish step; the
// build writes it (connector_release, scripts/build-example-tree.sh).
const IndexFile = "index.json"

// Installer is how the build made one MSI: the inputs of 'relkit msi
// build' other than the executable, so that publishing can build it again
// around the signed executable.
type Installer struct {
	Arch       string `json:"arch"`        // amd64 or arm64
	MSI        string `json:"msi"`         // file name in the tree
	Name       string `json:"name"`        // --name
	BinaryName string `json:"binary_name"` // --binary-name; empty: Name
	Vendor     string `json:"vendor"`      // --vendor
	// Template is the WiX source the build used, copied into the tree
	// under this name. It is not a release asset and is not uploaded.
	Template           string `json:"template"`
	ServiceName        string `json:"service_name,omitempty"`
	ServiceDisplayName string `json:"service_display_name,omitempty"`
	ServiceDescription string `json:"service_description,omitempty"`
	ServiceArgs        string `json:"service_args,omitempty"`
	// Epoch is --epoch when the index knows it; 0 means the creation
	// time of the SBOM of the windows archive of Arch, which the build
	// made with the same epoch.
	Epoch int64 `json:"epoch,omitempty"`
}

// Index is the part of index.json that code signing reads.
type Index struct {
	Installers []Installer `json:"installers"`
}

// ReadIndex parses index.json and checks its installer recipes. Fields it
// does not use are ignored.
func ReadIndex(r io.Reader) (*Index, error) {
	var ix Index
	dec := json.NewDecoder(r)
	if err := dec.Decode(&ix); err != nil {
		return nil, fmt.Errorf("want a JSON object: %w", err)
	}
	seen := map[string]bool{}
	var errs []error
	for i, in := range ix.Installers {
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("installers[%d]: "+format, append([]any{i}, a...)...))
		}
		if in.Arch != "amd64" && in.Arch != "arm64" {
			bad("arch %q: want amd64 or arm64", in.Arch)
		} else if seen[in.Arch] {
			bad("a second installer for windows/%s", in.Arch)
		}
		seen[in.Arch] = true
		for what, name := range map[string]string{"msi": in.MSI, "template": in.Template} {
			if name == "" {
				bad("%s: missing; the tree was built without the installer recipe (rebuild it with this relkit)", what)
			} else if err := release.CheckName(what, name); err != nil {
				bad("%v", err)
			}
		}
		if in.Name == "" || in.Vendor == "" {
			bad("name and vendor are required (the msi_package's connector_name and vendor)")
		}
		if in.Epoch < 0 {
			bad("epoch %d: want seconds since 1970", in.Epoch)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &ix, nil
}

// installer returns the recipe for windows/arch.
func (ix *Index) installer(arch string) (Installer, bool) {
	if ix == nil {
		return Installer{}, false
	}
	for _, in := range ix.Installers {
		if in.Arch == arch {
			return in, true
		}
	}
	return Installer{}, false
}
