package codesign

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/relkit/relkit/tools/authenticode"
	"github.com/relkit/relkit/tools/msi"
	"github.com/relkit/relkit/tools/release"
)

// windows signs the .exe of the windows/arch zip and the MSI of arch, or
// keeps the published ones. Both hold the same signed .exe.
func (t *tree) windows(ctx context.Context, arch string) error {
	name, _ := t.asset("windows-" + arch)
	msiName, hasMSI := t.asset(release.MSIKey(arch))
	binary := release.Platform{OS: "windows", Arch: arch}.BinaryName(t.manifest.Name)
	var recipe Installer
	if hasMSI {
		var ok bool
		if recipe, ok = t.index.installer(arch); !ok || recipe.MSI != msiName {
			return fmt.Errorf("the tree's %s has no installer recipe for %s: rebuild the tree with this relkit (connector_release records each msi_package's inputs there), or publish without Authenticode signing", IndexFile, msiName)
		}
	}
	leaf, err := t.authenticodeLeaf()
	if err != nil {
		return err
	}
	z, err := t.openZip(name)
	if err != nil {
		return err
	}
	exe, ok := z.file(binary)
	if !ok {
		return fmt.Errorf("%s: no entry %s", name, binary)
	}
	unsigned := filepath.Join(t.tmp, arch+"-unsigned.exe")
	if err := os.WriteFile(unsigned, exe, 0o644); err != nil {
		return err
	}
	signTime, err := t.epoch(name, z)
	if err != nil {
		return err
	}
	verify := authenticode.VerifyOptions{CAFile: t.Windows.CAFile, TSACAFile: t.Windows.TSACAFile, Tool: t.Windows.Tool}

	// The signed .exe: from the published zip, else from the published
	// MSI, else signed now.
	signed := filepath.Join(t.tmp, arch+"-signed.exe")
	pubZip, zipDone, err := t.published(ctx, name)
	if err != nil {
		return err
	}
	var pubMSI []byte
	msiDone := false
	if hasMSI {
		if pubMSI, msiDone, err = t.published(ctx, msiName); err != nil {
			return err
		}
	}
	switch {
	case zipDone:
		pz, err := t.publishedZip(name, pubZip, z, binary)
		if err != nil {
			return err
		}
		b, _ := pz.file(binary)
		if err := os.WriteFile(signed, b, 0o644); err != nil {
			return err
		}
	case msiDone:
		if err := t.exeFromMSI(ctx, pubMSI, recipe, signed); err != nil {
			return fmt.Errorf("published %s: %w", msiName, err)
		}
	default:
		if err := t.sign(ctx, unsigned, signed, signTime); err != nil {
			return err
		}
	}
	if zipDone || msiDone {
		if err := authenticode.CheckSigned(ctx, signed, unsigned, leaf, verify); err != nil {
			return fmt.Errorf("published %s: %w; published objects are never replaced: delete them from the bucket if they are wrong", binary, err)
		}
	} else if err := authenticode.Verify(ctx, signed, verify); err != nil {
		return err
	}
	if zipDone {
		t.logf("%s: using the signed archive an earlier attempt published", name)
		t.report.Reused = append(t.report.Reused, name)
		if err := t.writeFile(name, pubZip); err != nil {
			return err
		}
	} else {
		b, err := os.ReadFile(signed)
		if err != nil {
			return err
		}
		data, err := z.with(binary, b).bytes(t.tmp)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		t.logf("%s: signed %s", name, binary)
		t.report.Signed = append(t.report.Signed, name)
		if err := t.writeFile(name, data); err != nil {
			return err
		}
	}
	if !hasMSI {
		return nil
	}
	return t.installer(ctx, recipe, unsigned, signed, pubMSI, msiDone, signTime, leaf, verify)
}

// installer rebuilds the MSI around the signed .exe and signs it, or keeps
// the published one.
func (t *tree) installer(ctx context.Context, r Installer, unsigned, signed string, pub []byte, done bool, signTime time.Time, leaf *x509.Certificate, verify authenticode.VerifyOptions) error {
	epoch := r.Epoch
	if epoch == 0 {
		e, err := t.sbomCreated(release.ArchiveName(t.manifest.Name, t.tag, release.Platform{OS: "windows", Arch: r.Arch}))
		if err != nil {
			return fmt.Errorf("%s: the installer recipe has no epoch and %w", r.MSI, err)
		}
		epoch = e.Unix()
	}
	// The recipe must give back the build's MSI from the unsigned .exe.
	again := filepath.Join(t.tmp, r.Arch+"-unsigned-again.msi")
	if err := t.buildMSI(ctx, r, unsigned, epoch, again); err != nil {
		return err
	}
	if err := sameFile(again, t.path(r.MSI)); err != nil {
		return fmt.Errorf("%s: the recipe in %s does not rebuild it (%v): were the tree and this relkit (and its wixl) the same as at build time?", r.MSI, IndexFile, err)
	}
	built := filepath.Join(t.tmp, r.Arch+"-signed-exe.msi")
	if err := t.buildMSI(ctx, r, signed, epoch, built); err != nil {
		return err
	}
	if done {
		p := filepath.Join(t.tmp, r.Arch+"-published.msi")
		if err := os.WriteFile(p, pub, 0o644); err != nil {
			return err
		}
		if err := authenticode.CheckSigned(ctx, p, built, leaf, verify); err != nil {
			return fmt.Errorf("published %s: %w; published objects are never replaced: delete it from the bucket if it is wrong", r.MSI, err)
		}
		t.logf("%s: using the signed installer an earlier attempt published", r.MSI)
		t.report.Reused = append(t.report.Reused, r.MSI)
		return t.writeFile(r.MSI, pub)
	}
	out := filepath.Join(t.tmp, r.Arch+"-signed.msi")
	if err := t.sign(ctx, built, out, signTime); err != nil {
		return err
	}
	if err := authenticode.Verify(ctx, out, verify); err != nil {
		return err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	t.logf("%s: rebuilt around the signed executable and signed", r.MSI)
	t.report.Signed = append(t.report.Signed, r.MSI)
	return t.writeFile(r.MSI, data)
}

func (t *tree) buildMSI(ctx context.Context, r Installer, exe string, epoch int64, out string) error {
	vars, err := msi.NewVars(r.Name, r.BinaryName, r.Vendor, t.tag, r.Arch)
	if err != nil {
		return fmt.Errorf("%s: installer recipe: %w", r.MSI, err)
	}
	for dst, v := range map[*string]string{&vars.ServiceName: r.ServiceName, &vars.ServiceDisplayName: r.ServiceDisplayName, &vars.ServiceDescription: r.ServiceDescription, &vars.ServiceArguments: r.ServiceArgs} {
		if v != "" {
			*dst = v
		}
	}
	tmpl, err := os.ReadFile(t.path(r.Template))
	if err != nil {
		return fmt.Errorf("%s: installer template: %w", r.MSI, err)
	}
	_, err = msi.Build(ctx, out, msi.Options{Vars: vars, Binary: exe, Template: tmpl, TemplateName: r.Template, Epoch: epoch, Tools: t.Windows.MSITools})
	if err != nil {
		return fmt.Errorf("%s: %w", r.MSI, err)
	}
	return nil
}

// sign Authenticode-signs in to out; without timestamp servers the signing
// time is the commit time, so signing is reproducible.
func (t *tree) sign(ctx context.Context, in, out string, when time.Time) error {
	s := &authenticode.OSSLSigncode{
		PKCS12: t.Windows.PKCS12, Password: t.Windows.Password, Description: t.manifest.Name,
		TimestampURLs: t.Windows.TimestampURLs, Tool: t.Windows.Tool,
	}
	if len(s.TimestampURLs) == 0 {
		s.Time = when
	}
	return s.Sign(ctx, in, out)
}

// authenticodeLeaf is the certificate of the configured key.
func (t *tree) authenticodeLeaf() (*x509.Certificate, error) {
	_, leaf, _, err := pkcs12.DecodeChain(t.Windows.PKCS12, t.Windows.Password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, errors.New("authenticode key: wrong PKCS#12 password")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticode key: %w", err)
	}
	return leaf, nil
}

// exeFromMSI extracts the installed executable of a published MSI.
func (t *tree) exeFromMSI(ctx context.Context, data []byte, r Installer, out string) error {
	dir, err := os.MkdirTemp(t.tmp, "msi-*")
	if err != nil {
		return err
	}
	p := filepath.Join(dir, "in.msi")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	files := filepath.Join(dir, "files")
	cmd := exec.CommandContext(ctx, "msiextract", "-C", files, p)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("msiextract: %v: %s", err, bytes.TrimSpace(b))
	}
	exe := r.BinaryName
	if exe == "" {
		exe = r.Name
	}
	exe += ".exe"
	var found string
	err = filepath.WalkDir(files, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && d.Name() == exe {
			found = path
		}
		return err
	})
	if err != nil {
		return err
	}
	if found == "" {
		return fmt.Errorf("no %s installed by it", exe)
	}
	b, err := os.ReadFile(found)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

func sameFile(a, b string) error {
	x, err := os.ReadFile(a)
	if err != nil {
		return err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(x, y) {
		return errors.New("the bytes differ")
	}
	return nil
}
