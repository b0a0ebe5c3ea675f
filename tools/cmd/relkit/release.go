package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/release"
)

func validateInputsCmd() *cli.Command {
	var in release.Inputs
	return &cli.Command{
		Name:    "validate-inputs",
		Args:    "--tag TAG [flags]",
		Summary: "check a release's tag and options before anything is built",
		Help: `Checks every release input and reports all problems at once, one per line.

The tag must be semver 2.0.0 with a lowercase "v" (v1.2.3, v1.2.3-rc.1).
Build metadata (+build.1) is refused: "+" is illegal in image tags and
ambiguous in S3 keys. With --msi the version must also fit Windows Installer
limits (major and minor 0-255, patch 0-65535). Paths must be relative, free of
"..", use only [A-Za-z0-9._/-], and exist under --repo-root when it is given.
No GoReleaser Pro key or other secret is needed.

--source-ref is the git ref the release run started from (in GitHub Actions,
$GITHUB_REF). Keyless signatures name that ref, and relkit verify expects
refs/tags/TAG, so a run started from a branch would build and sign a release
that fails verification; it is refused here instead, before anything is built.

Examples:
  relkit validate-inputs --tag v1.2.3-rc.1 --msi --msi-wxs-path build/app.wxs --repo-root .
  relkit validate-inputs --tag "$TAG" --source-ref "$GITHUB_REF"`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in.Tag, "tag", "", "release tag, e.g. v1.2.3 (required)")
			fs.BoolVar(&in.Lambda, "lambda", false, "the release includes the Lambda image")
			fs.BoolVar(&in.Docker, "docker", false, "the release includes the public multi-arch image")
			fs.BoolVar(&in.MSI, "msi", false, "the release includes Windows installers")
			fs.StringVar(&in.DockerfileTemplate, "dockerfile-template", "", "Dockerfile path (not supported: images are built without Docker)")
			fs.StringVar(&in.DockerExtraFiles, "docker-extra-files", "", "comma-separated extra image files (not supported: use the image rule's extra_files)")
			fs.StringVar(&in.MSIWXSPath, "msi-wxs-path", "", "repository-relative path of a custom WiX template")
			fs.StringVar(&in.RepoRoot, "repo-root", "", "repository root under which named files must exist")
			fs.StringVar(&in.SourceRef, "source-ref", "", "git ref the release run started from, e.g. $GITHUB_REF; must be refs/tags/TAG")
		},
		Run: func(_ context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if in.Tag == "" {
				return cli.Usagef("--tag is required")
			}
			if err := in.Validate(); err != nil {
				return fmt.Errorf("invalid release inputs:\n%w", err)
			}
			fmt.Fprintln(env.Stderr, "release inputs are valid")
			return nil
		},
	}
}

func versionFormsCmd() *cli.Command {
	return &cli.Command{
		Name:    "version-forms",
		Args:    "TAG",
		Summary: "print a tag's forms: tag, version and MSI version, as JSON",
		Help: `Prints the forms of a release tag used across a release:
  tag         archive names, S3 directory, manifest semver (v1.2.3-rc.1)
  version     checksums file name, image tags, main.version (1.2.3-rc.1)
  msiVersion  Windows Installer ProductVersion (1.2.3.0); omitted when the
              tag exceeds Windows Installer limits

Example:
  $ relkit version-forms v1.2.3-rc.1
  {"tag":"v1.2.3-rc.1","version":"1.2.3-rc.1","msiVersion":"1.2.3.0"}`,
		Run: func(_ context.Context, env *cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one TAG argument, got %d", len(args))
			}
			tag, err := release.ParseTag(args[0])
			if err != nil {
				return err
			}
			out, err := json.Marshal(tag.Forms())
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, string(out))
			return nil
		},
	}
}

func upgradeCodeCmd() *cli.Command {
	return &cli.Command{
		Name:    "upgrade-code",
		Args:    "NAME",
		Summary: "print the MSI UpgradeCode of a connector",
		Help: `Prints the Windows Installer UpgradeCode for a connector: the upper-case
name-based UUID (version 5, URL namespace) of the bare repository name. It is
the same for every version, so each new MSI upgrades the previous one.

Example:
  $ relkit upgrade-code baton-okta
  5A97CB0C-9F4A-5E8A-8A12-CB498C89A6AF`,
		Run: func(_ context.Context, env *cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one NAME argument (the bare repository name, e.g. baton-okta), got %d", len(args))
			}
			if err := release.CheckName("name", args[0]); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, release.UpgradeCode(args[0]))
			return nil
		},
	}
}
