package macos

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/github/smimesign/ietf-cms/oid"
	"github.com/github/smimesign/ietf-cms/protocol"
)

// setSigningTime changes the signing time recorded in the CMS signature of
// a signed binary, in place, and signs the signed attributes again. quill's
// CMS code always records the current time; a fixed time (the commit time)
// makes signing with an RSA key reproducible. The new signature has the
// same length (UTCTime is fixed-width), so nothing else in the binary moves.
// Only for signatures without a timestamp, which covers the old signature.
func setSigningTime(signed []byte, id *Identity, when time.Time) error {
	m, err := parse(signed)
	if err != nil {
		return err
	}
	sb := m.signature()
	if sb == nil {
		return errors.New("binary is not signed")
	}
	blobs, err := parseSuperBlob(sb)
	if err != nil {
		return err
	}
	cms, ok := blobs[csSlotCMS]
	if !ok || len(cms) <= 8 || binary.BigEndian.Uint32(cms) != csMagicBlobWrapper {
		return errors.New("no CMS signature to set the time of")
	}
	der := cms[8:]
	ci, err := protocol.ParseContentInfo(der)
	if err != nil {
		return err
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		return err
	}
	if len(sd.SignerInfos) != 1 || len(sd.SignerInfos[0].UnsignedAttrs) != 0 {
		return errors.New("want one signer and no timestamp")
	}
	si := &sd.SignerInfos[0]
	attr, err := protocol.NewAttribute(oid.AttributeSigningTime, when.UTC())
	if err != nil {
		return err
	}
	replaced := false
	for i := range si.SignedAttrs {
		if si.SignedAttrs[i].Type.Equal(oid.AttributeSigningTime) {
			si.SignedAttrs[i], replaced = attr, true
		}
	}
	if !replaced {
		return errors.New("the signature records no signing time")
	}
	// DER orders a SET OF by encoding.
	sort.Slice(si.SignedAttrs, func(i, j int) bool {
		return bytes.Compare(si.SignedAttrs[i].RawValue.FullBytes, si.SignedAttrs[j].RawValue.FullBytes) < 0
	})
	msg, err := si.SignedAttrs.MarshaledForSigning()
	if err != nil {
		return err
	}
	h, err := si.Hash()
	if err != nil {
		return err
	}
	d := h.New()
	d.Write(msg)
	if si.Signature, err = id.signer.Sign(rand.Reader, d.Sum(nil), h); err != nil {
		return err
	}
	out, err := sd.ContentInfoDER()
	if err != nil {
		return err
	}
	if len(out) != len(der) {
		return fmt.Errorf("re-encoded CMS signature is %d bytes, was %d", len(out), len(der))
	}
	copy(der, out)
	return nil
}
