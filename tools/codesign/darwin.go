package codesign

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/relkit/relkit/tools/macos"
	"github.com/relkit/relkit/tools/release"
)

// darwin signs the binary of the darwin/arch zip, or keeps the published
// signed zip.
func (t *tree) darwin(ctx context.Context, arch string) error {
	name, _ := t.asset("darwin-" + arch)
	binary := release.Platform{OS: "darwin", Arch: arch}.BinaryName(t.manifest.Name)
	z, err := t.openZip(name)
	if err != nil {
		return err
	}
	unsigned, ok := z.file(binary)
	if !ok {
		return fmt.Errorf("%s: no entry %s", name, binary)
	}
	ident := t.MacOS.Identifier
	if ident == "" {
		ident = macos.Identifier(t.manifest.Org, t.manifest.Name)
	}
	pub, ok, err := t.published(ctx, name)
	if err != nil {
		return err
	}
	if ok {
		pz, err := t.publishedZip(name, pub, z, binary)
		if err != nil {
			return err
		}
		signed, _ := pz.file(binary)
		if err := t.checkDarwin(signed, unsigned, ident); err != nil {
			return fmt.Errorf("published %s: %s: %w; published objects are never replaced: delete it from the bucket if it is wrong", name, binary, err)
		}
		t.logf("%s: using the signed archive an earlier attempt published", name)
		t.report.Reused = append(t.report.Reused, name)
		return t.writeFile(name, pub)
	}
	// Without a timestamp server the signature records the commit time.
	when, err := t.epoch(name, z)
	if err != nil {
		return err
	}
	signed, err := macos.Sign(unsigned, t.MacOS.Identity, macos.SignOptions{Identifier: ident, TimestampURL: t.MacOS.TimestampURL, Time: when})
	if err != nil {
		return fmt.Errorf("%s: sign %s: %w", name, binary, err)
	}
	data, err := z.with(binary, signed).bytes(t.tmp)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	t.logf("%s: signed %s as %s", name, binary, ident)
	t.report.Signed = append(t.report.Signed, name)
	return t.writeFile(name, data)
}

// checkDarwin checks that signed is unsigned with a valid signature by the
// configured identity.
func (t *tree) checkDarwin(signed, unsigned []byte, ident string) error {
	sig, err := macos.Verify(signed, t.MacOS.Roots)
	if err != nil {
		return err
	}
	if !sig.Chain[0].Equal(t.MacOS.Identity.Leaf()) {
		return fmt.Errorf("signed by %q, not by the configured identity %q", sig.Chain[0].Subject.CommonName, t.MacOS.Identity.Leaf().Subject.CommonName)
	}
	if sig.Identifier != ident || !sig.HardenedRuntime {
		return fmt.Errorf("identifier %q, hardened runtime %v; want %q with hardened runtime", sig.Identifier, sig.HardenedRuntime, ident)
	}
	a, err := macos.Strip(signed)
	if err != nil {
		return err
	}
	b, err := macos.Strip(unsigned)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return errors.New("without its signature it is not this tree's binary")
	}
	return nil
}
