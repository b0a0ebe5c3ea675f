package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	msitemplates "github.com/relkit/relkit/templates/msi"
	"github.com/relkit/relkit/tools/atomicfile"
	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/msi"
	"github.com/relkit/relkit/tools/release"
)

func msiBuildCmd() *cli.Command {
	var (
		name, binaryName, vendor, tag, arch, binary, tmpl, out, epoch string
		svcName, svcDisplay, svcDesc, svcArgs                         string
		wxsOut                                                        string
		asJSON                                                        bool
	)
	return &cli.Command{
		Name:    "msi build",
		Args:    "--binary EXE --name NAME --vendor VENDOR --tag TAG [flags]",
		Summary: "build a reproducible Windows installer (MSI) with wixl",
		Help: `Builds a Windows Installer package for a windows/amd64 or windows/arm64
executable from a WiX v3 template, on Linux, with wixl and msitools
(install them with scripts/install-msi-tools.sh).

--template is "default" (per-machine install into Program Files\VENDOR\NAME,
the folder appended to the system PATH, upgrades replace, downgrades refused,
no UI), "service" (the same plus a Windows service; the executable must
implement the service protocol), or the path of a custom template. Every
template gets the same variables; templates/msi/default.wxs documents them.
Elements wixl cannot build (Environment, UI, SetProperty, extensions) are
reported before building.

The output is byte-identical for the same inputs: ProductCode and PackageCode
are derived from the UpgradeCode, the version and the digests of the inputs,
and every stored time is --epoch. The MSI is written to --out, its path
printed on stdout (with --json: path, manifest key, sha256, size and codes).

With WiX v3 on Windows: --wxs-out writes the rendered template (same
ProductCode, PackageCode and variables); add the PATH Environment element
the template header shows, then run candle and light.

Example:
  relkit msi build --binary dist/baton-okta.exe --name baton-okta \
    --vendor ConductorOne --tag v1.2.3 --arch amd64 --epoch "$(git log -1 --format=%ct)"`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&binary, "binary", "", "windows executable to install (required)")
			fs.StringVar(&name, "name", "", "connector name: ProductName, UpgradeCode source (required)")
			fs.StringVar(&binaryName, "binary-name", "", "installed executable name without .exe (default: --name)")
			fs.StringVar(&vendor, "vendor", "", "Manufacturer and folder under Program Files (required)")
			fs.StringVar(&tag, "tag", "", "release tag, e.g. v1.2.3 (required)")
			fs.StringVar(&arch, "arch", "amd64", "executable architecture: amd64 or arm64")
			fs.StringVar(&tmpl, "template", "default", `"default", "service" or the path of a WiX v3 template`)
			fs.StringVar(&out, "out", "", "output file (default: NAME_TAG_windows_ARCH.msi in the current directory)")
			fs.StringVar(&epoch, "epoch", "", "time stored in the package, in seconds since 1970 (default: $SOURCE_DATE_EPOCH)")
			fs.StringVar(&svcName, "service-name", "", "service key name for the service template (default: --name)")
			fs.StringVar(&svcDisplay, "service-display-name", "", "service name shown in services.msc (default: --name)")
			fs.StringVar(&svcDesc, "service-description", "", `service description (default: "NAME service")`)
			fs.StringVar(&svcArgs, "service-args", "", `service command line arguments, e.g. 'service run -c "[INSTALLFOLDER]config.yaml"'`)
			fs.BoolVar(&asJSON, "json", false, "print a JSON description of the package instead of its path")
			fs.StringVar(&wxsOut, "wxs-out", "", "also write the rendered WiX source to this file, to build the same package with WiX on Windows")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if err := cli.Required(map[string]string{"binary": binary, "name": name, "vendor": vendor, "tag": tag}); err != nil {
				return err
			}
			if epoch == "" {
				epoch = env.Env("SOURCE_DATE_EPOCH")
			}
			secs, err := cli.ParseEpoch("epoch", epoch)
			if err != nil {
				return err
			}
			t, err := release.ParseTag(tag)
			if err != nil {
				return err
			}
			vars, err := msi.NewVars(name, binaryName, vendor, t, arch)
			if err != nil {
				return err
			}
			for dst, v := range map[*string]string{&vars.ServiceName: svcName, &vars.ServiceDisplayName: svcDisplay, &vars.ServiceDescription: svcDesc, &vars.ServiceArguments: svcArgs} {
				if v != "" {
					*dst = v
				}
			}
			src, err := readTemplate(tmpl)
			if err != nil {
				return err
			}
			if out == "" {
				out = release.MSIName(name, t, arch)
			}
			fmt.Fprintf(env.Stderr, "building %s from template %s\n", out, tmpl)
			vars, err = msi.Build(ctx, out, msi.Options{Vars: vars, Binary: binary, Template: src, TemplateName: tmpl, Epoch: secs})
			if err != nil {
				return err
			}
			if wxsOut != "" {
				// The same variables, codes included, that the package was built with.
				wxs, err := msi.Render(tmpl, src, vars)
				if err != nil {
					return err
				}
				if err := atomicfile.WriteBytes(wxsOut, 0o644, wxs); err != nil {
					return fmt.Errorf("write --wxs-out: %w", err)
				}
			}
			if !asJSON {
				fmt.Fprintln(env.Stdout, out)
				return nil
			}
			data, err := os.ReadFile(out)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]string{
				"path":           out,
				"key":            release.MSIKey(arch),
				"sha256":         hex.EncodeToString(sum[:]),
				"sizeBytes":      strconv.Itoa(len(data)),
				"productVersion": vars.ProductVersion,
				"upgradeCode":    vars.UpgradeCode,
				"productCode":    vars.ProductCode,
				"packageCode":    vars.PackageCode,
			})
		},
	}
}

// readTemplate returns a built-in template by name or a file's content.
func readTemplate(t string) ([]byte, error) {
	if t == "default" || t == "service" {
		return msitemplates.FS.ReadFile(t + ".wxs")
	}
	src, err := os.ReadFile(t)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("template %s does not exist; give \"default\", \"service\" or the path of a WiX v3 file", t)
	}
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return src, nil
}
