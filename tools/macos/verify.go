package macos

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/github/smimesign/ietf-cms/protocol"
)

// Signature describes a verified code signature.
type Signature struct {
	Arch            string // "amd64" or "arm64"
	Identifier      string
	TeamID          string // empty unless the code directory names one
	Flags           uint32 // code directory flags
	HardenedRuntime bool
	CDHash          [sha256.Size]byte // SHA-256 of the code directory
	// Chain is the verified certificate chain, leaf first.
	Chain []*x509.Certificate
	// SigningTime is the time the signer claims in the CMS signature.
	SigningTime time.Time
}

// Verify checks the code signature embedded in a darwin binary: every page
// hash and special slot hash of its SHA-256 code directory against the
// binary, and the CMS signature over the code directory, whose certificate
// must chain to roots (nil: Apple's roots) for code signing at the signing
// time the signature records. An ad-hoc signature (no CMS) does not verify.
func Verify(bin []byte, roots *x509.CertPool) (*Signature, error) {
	m, err := parse(bin)
	if err != nil {
		return nil, err
	}
	sb := m.signature()
	if sb == nil {
		return nil, errors.New("binary is not signed")
	}
	blobs, err := parseSuperBlob(sb)
	if err != nil {
		return nil, err
	}
	cd, ok := blobs[csSlotCodeDirectory]
	if !ok {
		return nil, errors.New("code signature has no code directory")
	}
	sig, err := checkCodeDirectory(cd, blobs, bin[:m.u32(m.codeSig+8)])
	if err != nil {
		return nil, err
	}
	sig.Arch = m.arch()
	cms, ok := blobs[csSlotCMS]
	if !ok || len(cms) <= 8 {
		return nil, fmt.Errorf("ad-hoc signature only (identifier %q): no Developer ID signature", sig.Identifier)
	}
	if binary.BigEndian.Uint32(cms) != csMagicBlobWrapper {
		return nil, errors.New("CMS slot does not hold a blob wrapper")
	}
	if roots == nil {
		roots = AppleRoots()
	}
	sig.Chain, sig.SigningTime, err = verifyCMS(cms[8:], cd, roots)
	if err != nil {
		return nil, fmt.Errorf("CMS signature: %w", err)
	}
	return sig, nil
}

// parseSuperBlob maps slot types to blobs (each with its 8-byte header).
func parseSuperBlob(sb []byte) (map[uint32][]byte, error) {
	be := binary.BigEndian
	if len(sb) < 12 || be.Uint32(sb) != csMagicEmbeddedSignature {
		return nil, errors.New("code signature is not an embedded signature super blob")
	}
	length, count := be.Uint32(sb[4:]), be.Uint32(sb[8:])
	if length < 12 || uint64(length) > uint64(len(sb)) || uint64(count) > (uint64(length)-12)/8 {
		return nil, errors.New("code signature super blob: bad length or count")
	}
	sb = sb[:length]
	blobs := make(map[uint32][]byte, count)
	for i := range count {
		typ, off := be.Uint32(sb[12+8*i:]), be.Uint32(sb[16+8*i:])
		if uint64(off)+8 > uint64(len(sb)) {
			return nil, fmt.Errorf("code signature blob %d: offset past the end", i)
		}
		n := be.Uint32(sb[off+4:])
		if n < 8 || uint64(off)+uint64(n) > uint64(len(sb)) {
			return nil, fmt.Errorf("code signature blob %d: bad length", i)
		}
		if _, dup := blobs[typ]; dup {
			return nil, fmt.Errorf("code signature: slot %#x appears twice", typ)
		}
		blobs[typ] = sb[off : off+n]
	}
	return blobs, nil
}

// checkCodeDirectory compares the hashes in cd with code (the file up to the
// signature) and with the special blobs.
func checkCodeDirectory(cd []byte, blobs map[uint32][]byte, code []byte) (*Signature, error) {
	be := binary.BigEndian
	if len(cd) < 88 || be.Uint32(cd) != csMagicCodeDirectory {
		return nil, errors.New("code directory: bad magic or too short")
	}
	version, flags := be.Uint32(cd[8:]), be.Uint32(cd[12:])
	hashOff, identOff := be.Uint32(cd[16:]), be.Uint32(cd[20:])
	nSpecial, nCode, codeLimit := be.Uint32(cd[24:]), be.Uint32(cd[28:]), be.Uint32(cd[32:])
	hashSize, hashType, pageBits := cd[36], cd[37], cd[39]
	if hashType != csHashSHA256 || hashSize != sha256.Size {
		return nil, fmt.Errorf("code directory: hash type %d: only SHA-256 is supported", hashType)
	}
	if pageBits < 9 || pageBits > 16 {
		return nil, fmt.Errorf("code directory: page size 2^%d not supported", pageBits)
	}
	if int(codeLimit) != len(code) {
		return nil, fmt.Errorf("code directory covers %d bytes, but the signature starts at %d", codeLimit, len(code))
	}
	page := 1 << pageBits
	if want := (len(code) + page - 1) / page; int(nCode) != want {
		return nil, fmt.Errorf("code directory has %d page hashes, want %d", nCode, want)
	}
	if uint64(hashOff) < uint64(nSpecial)*sha256.Size || uint64(hashOff)+uint64(nCode)*sha256.Size > uint64(len(cd)) {
		return nil, errors.New("code directory: hash slots out of bounds")
	}
	sig := &Signature{Flags: flags, HardenedRuntime: flags&csRuntime != 0, CDHash: sha256.Sum256(cd)}
	var ok bool
	if sig.Identifier, ok = cstring(cd, identOff); !ok {
		return nil, errors.New("code directory: bad identifier offset")
	}
	if teamOff := be.Uint32(cd[48:]); version >= 0x20200 && teamOff != 0 {
		if sig.TeamID, ok = cstring(cd, teamOff); !ok {
			return nil, errors.New("code directory: bad team ID offset")
		}
	}
	for i := range int(nCode) {
		sum := sha256.Sum256(code[i*page : min((i+1)*page, len(code))])
		got := cd[int(hashOff)+i*sha256.Size:][:sha256.Size]
		if !bytes.Equal(got, sum[:]) {
			return nil, fmt.Errorf("page %d (offset %d) does not match its code directory hash: the binary was modified after signing", i, i*page)
		}
	}
	var zero [sha256.Size]byte
	for slot := uint32(1); slot <= nSpecial; slot++ {
		got := cd[hashOff-slot*sha256.Size:][:sha256.Size]
		want := zero[:]
		if b, ok := blobs[slot]; ok {
			s := sha256.Sum256(b)
			want = s[:]
		}
		if !bytes.Equal(got, want) {
			return nil, fmt.Errorf("special slot %d does not match its code directory hash", slot)
		}
	}
	for slot := range blobs {
		if slot != csSlotCodeDirectory && slot != csSlotCMS && slot > nSpecial {
			return nil, fmt.Errorf("code signature slot %#x is not covered by the code directory", slot)
		}
	}
	return sig, nil
}

func cstring(b []byte, off uint32) (string, bool) {
	if uint64(off) >= uint64(len(b)) {
		return "", false
	}
	n := bytes.IndexByte(b[off:], 0)
	if n < 0 {
		return "", false
	}
	return string(b[off : int(off)+n]), true
}

// verifyCMS checks a detached CMS signature over cd and its certificate chain.
func verifyCMS(der, cd []byte, roots *x509.CertPool) ([]*x509.Certificate, time.Time, error) {
	ci, err := protocol.ParseContentInfo(der)
	if err != nil {
		return nil, time.Time{}, err
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(sd.SignerInfos) != 1 {
		return nil, time.Time{}, fmt.Errorf("%d signers, want 1", len(sd.SignerInfos))
	}
	certs, err := sd.X509Certificates()
	if err != nil {
		return nil, time.Time{}, err
	}
	si := sd.SignerInfos[0]
	if si.SignedAttrs == nil {
		return nil, time.Time{}, errors.New("no signed attributes")
	}
	ct, err := si.GetContentTypeAttribute()
	if err != nil {
		return nil, time.Time{}, err
	}
	if !ct.Equal(sd.EncapContentInfo.EContentType) {
		return nil, time.Time{}, errors.New("content type attribute does not match the content")
	}
	h, err := si.Hash()
	if err != nil {
		return nil, time.Time{}, err
	}
	digest, err := si.GetMessageDigestAttribute()
	if err != nil {
		return nil, time.Time{}, err
	}
	md := h.New()
	md.Write(cd)
	if !bytes.Equal(digest, md.Sum(nil)) {
		return nil, time.Time{}, errors.New("signed digest does not match the code directory")
	}
	signed, err := si.SignedAttrs.MarshaledForVerification()
	if err != nil {
		return nil, time.Time{}, err
	}
	leaf, err := si.FindCertificate(certs)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := leaf.CheckSignature(si.X509SignatureAlgorithm(), signed, si.Signature); err != nil {
		return nil, time.Time{}, err
	}
	when, err := si.GetSigningTimeAttribute()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("signing time: %w", err)
	}
	chain, err := verifyChain(leaf, certs, roots, when)
	if err != nil {
		return nil, time.Time{}, err
	}
	return chain, when, nil
}
