package release

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Inputs are the release options a connector repository passes, as in the
// reusable workflow of the pipeline relkit replaces.
type Inputs struct {
	Tag                string
	Lambda             bool
	Docker             bool
	MSI                bool
	DockerfileTemplate string
	DockerExtraFiles   string // comma-separated
	MSIWXSPath         string
	// RepoRoot, when set, is where every named file must exist.
	RepoRoot string
	// SourceRef, when set, is the git ref the release run started from
	// (GitHub's GITHUB_REF). Keyless signatures name it and verification
	// expects the tag's ref, so any other ref is refused up front.
	SourceRef string
}

// Validate checks every input and returns all problems at once, joined.
func (in Inputs) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	tag, tagErr := ParseTag(in.Tag)
	add(tagErr)
	if tagErr == nil && in.MSI {
		_, err := tag.MSIVersion()
		add(err)
	}
	if tagErr == nil && in.SourceRef != "" && in.SourceRef != tag.Ref() {
		add(fmt.Errorf("source-ref: the run started from %s, but a release's signatures must name %s, the ref verification expects: "+
			"start the release from the tag (push it, publish a GitHub release for it, or dispatch the workflow with the tag as its ref)", in.SourceRef, tag.Ref()))
	}
	if in.DockerfileTemplate != "" {
		add(errors.New("dockerfile-template: relkit builds images without a Docker engine, so Dockerfiles are not used; set extra files, env, workdir, user and entrypoint on the oci_image_attested rule instead"))
		add(in.checkFile("dockerfile-template", in.DockerfileTemplate))
		if in.Lambda {
			add(errors.New("dockerfile-template: only usable when lambda is false"))
		}
	}
	if in.DockerExtraFiles != "" {
		add(errors.New("docker-extra-files: relkit builds images without a Docker engine; list the files in the oci_image_attested rule's extra_files attribute instead"))
		if in.DockerfileTemplate == "" {
			add(errors.New("docker-extra-files: only usable with dockerfile-template"))
		}
		for i, entry := range strings.Split(in.DockerExtraFiles, ",") {
			entry = strings.TrimSpace(entry)
			add(in.checkFile(fmt.Sprintf("docker-extra-files entry %d", i+1), entry))
		}
	}
	if in.MSIWXSPath != "" {
		add(in.checkFile("msi-wxs-path", in.MSIWXSPath))
		if !in.MSI {
			add(errors.New("msi-wxs-path: given but msi is off; turn msi on or drop the template"))
		}
	}
	return errors.Join(errs...)
}

func (in Inputs) checkFile(what, p string) error {
	if err := CheckRelPath(p); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if in.RepoRoot == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(in.RepoRoot, filepath.FromSlash(p))); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: %q does not exist under %s", what, p, in.RepoRoot)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

var relPathRE = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// CheckRelPath validates a repository-relative path given as input: not
// empty, not absolute, no ".." anywhere (even inside a name, as the reference
// pipeline did, so no clever encoding slips through) and only [A-Za-z0-9._/-].
func CheckRelPath(p string) error {
	switch {
	case p == "":
		return errors.New("path is empty")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute; give it relative to the repository root", p)
	case strings.Contains(p, ".."):
		return fmt.Errorf("path %q contains \"..\"; paths must stay inside the repository", p)
	case !relPathRE.MatchString(p):
		return fmt.Errorf("path %q has characters outside [A-Za-z0-9._/-]", p)
	}
	return nil
}
