package macos

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Mach-O constants used here (see <mach-o/loader.h>).
const (
	magic64         = 0xfeedfacf
	fatMagic        = 0xcafebabe
	cpuAMD64        = 0x01000007
	cpuARM64        = 0x0100000c
	headerSize64    = 32
	lcSegment64     = 0x19
	lcCodeSignature = 0x1d
	codeSigCmdSize  = 16
)

var le = binary.LittleEndian

// image is a parsed thin 64-bit Mach-O, the only kind Go builds for darwin.
type image struct {
	data     []byte
	cpu      uint32
	ncmds    uint32
	cmdsEnd  int // offset just past the last load command
	lastCmd  int // offset of the last load command
	text     int // offset of the __TEXT segment command
	linkedit int // offset of the __LINKEDIT segment command
	codeSig  int // offset of LC_CODE_SIGNATURE, or -1
}

// parse checks the structure this package relies on; it never modifies data.
func parse(data []byte) (*image, error) {
	if len(data) >= 4 && binary.BigEndian.Uint32(data) == fatMagic {
		return nil, errors.New("universal (fat) Mach-O: sign each architecture's binary before merging them with lipo")
	}
	if len(data) < headerSize64 || le.Uint32(data) != magic64 {
		return nil, errors.New("not a 64-bit little-endian Mach-O binary (build it with GOOS=darwin)")
	}
	m := &image{data: data, cpu: le.Uint32(data[4:]), ncmds: le.Uint32(data[16:]), text: -1, linkedit: -1, codeSig: -1}
	if m.cpu != cpuAMD64 && m.cpu != cpuARM64 {
		return nil, fmt.Errorf("Mach-O CPU type %#x: want amd64 or arm64", m.cpu)
	}
	sizeofcmds := int(le.Uint32(data[20:]))
	if sizeofcmds > len(data)-headerSize64 {
		return nil, fmt.Errorf("Mach-O load commands (%d bytes) run past the end of the file", sizeofcmds)
	}
	off, end := headerSize64, headerSize64+sizeofcmds
	for i := uint32(0); i < m.ncmds; i++ {
		if off+8 > end {
			return nil, fmt.Errorf("Mach-O load command %d runs past sizeofcmds", i)
		}
		cmd, size := le.Uint32(data[off:]), int(le.Uint32(data[off+4:]))
		if size < 8 || size > end-off {
			return nil, fmt.Errorf("Mach-O load command %d: bad size %d", i, size)
		}
		switch cmd {
		case lcSegment64:
			if size < 72 {
				return nil, fmt.Errorf("Mach-O load command %d: segment command too short", i)
			}
			fileoff, filesize := le.Uint64(data[off+40:]), le.Uint64(data[off+48:])
			if fileoff > uint64(len(data)) || filesize > uint64(len(data))-fileoff {
				return nil, fmt.Errorf("Mach-O segment %s runs past the end of the file", segName(data[off:]))
			}
			switch segName(data[off:]) {
			case "__TEXT":
				m.text = off
			case "__LINKEDIT":
				m.linkedit = off
			}
		case lcCodeSignature:
			if size != codeSigCmdSize || m.codeSig >= 0 {
				return nil, fmt.Errorf("Mach-O load command %d: malformed or repeated LC_CODE_SIGNATURE", i)
			}
			m.codeSig = off
		}
		m.lastCmd = off
		off += size
	}
	m.cmdsEnd = off
	if m.text < 0 || m.linkedit < 0 {
		return nil, errors.New("Mach-O binary has no __TEXT or __LINKEDIT segment")
	}
	if m.codeSig >= 0 {
		dataoff, datasize := uint64(m.u32(m.codeSig+8)), uint64(m.u32(m.codeSig+12))
		if dataoff+datasize > uint64(len(data)) {
			return nil, errors.New("Mach-O code signature runs past the end of the file")
		}
	}
	return m, nil
}

func segName(cmd []byte) string { return string(bytes.TrimRight(cmd[8:24], "\x00")) }

func (m *image) u32(off int) uint32 { return le.Uint32(m.data[off:]) }
func (m *image) u64(off int) uint64 { return le.Uint64(m.data[off:]) }

// Arch names the binary's architecture as GOARCH does.
func (m *image) arch() string {
	if m.cpu == cpuARM64 {
		return "arm64"
	}
	return "amd64"
}

// signature returns the embedded signature bytes, nil when unsigned.
func (m *image) signature() []byte {
	if m.codeSig < 0 {
		return nil
	}
	off, size := m.u32(m.codeSig+8), m.u32(m.codeSig+12)
	return m.data[off : off+size]
}

// Strip returns bin without its code signature: the LC_CODE_SIGNATURE load
// command is removed and zeroed, the signature bytes are cut off and the
// __LINKEDIT segment shrinks to end where they began, with its VM size equal
// to its file size as the Go linker writes it. Any signature is removed: a
// Developer ID one, or the Go linker's ad-hoc one on darwin/arm64.
//
// Stripping a signed release binary and a rebuilt one (signed by the linker or
// not) yields identical bytes when they were built from the same source.
// An unsigned binary is returned unchanged.
func Strip(bin []byte) ([]byte, error) {
	m, err := parse(bin)
	if err != nil {
		return nil, err
	}
	if m.codeSig < 0 {
		return bytes.Clone(bin), nil
	}
	if m.codeSig != m.lastCmd {
		return nil, errors.New("LC_CODE_SIGNATURE is not the last load command; refusing to strip a binary laid out differently from Go's")
	}
	dataoff, datasize := uint64(m.u32(m.codeSig+8)), uint64(m.u32(m.codeSig+12))
	if dataoff+datasize != uint64(len(bin)) {
		return nil, errors.New("the code signature is not at the end of the file; refusing to strip it")
	}
	segoff := m.u64(m.linkedit + 40)
	if segoff+m.u64(m.linkedit+48) != uint64(len(bin)) || dataoff < segoff {
		return nil, errors.New("the code signature is not at the end of __LINKEDIT; refusing to strip it")
	}
	out := bytes.Clone(bin[:dataoff])
	le.PutUint32(out[16:], m.ncmds-1)
	le.PutUint32(out[20:], le.Uint32(out[20:])-codeSigCmdSize)
	clear(out[m.codeSig : m.codeSig+codeSigCmdSize])
	le.PutUint64(out[m.linkedit+32:], dataoff-segoff) // vmsize
	le.PutUint64(out[m.linkedit+48:], dataoff-segoff) // filesize
	return out, nil
}

// Code signature blob constants (see Apple's cs_blobs.h).
const (
	csMagicEmbeddedSignature = 0xfade0cc0
	csMagicCodeDirectory     = 0xfade0c02
	csMagicRequirements      = 0xfade0c01
	csMagicBlobWrapper       = 0xfade0b01
	csSlotCodeDirectory      = 0
	csSlotRequirements       = 2
	csSlotEntitlements       = 5
	csSlotDEREntitlements    = 7
	csSlotCMS                = 0x10000
	csHashSHA256             = 2
	csAdHoc                  = 0x2
	csRuntime                = 0x10000
	csLinkerSigned           = 0x20000
	csExecSegMainBinary      = 0x1
	linkerIdentifier         = "a.out"
	pageBits                 = 12
)

// LinkerSign gives an unsigned darwin/arm64 binary the ad-hoc signature the
// Go linker writes (identifier "a.out", SHA-256 pages, linker-signed flag).
// Strip followed by LinkerSign turns a published, Developer ID signed arm64
// binary back into the exact bytes 'go build' produced, so it can be compared
// with a rebuild or with the checksum of the unsigned build output.
// darwin/amd64 binaries are returned unchanged: the linker does not sign them.
func LinkerSign(unsigned []byte) ([]byte, error) {
	m, err := parse(unsigned)
	if err != nil {
		return nil, err
	}
	if m.codeSig >= 0 {
		return nil, errors.New("binary is already signed; strip the signature first")
	}
	if m.cpu != cpuARM64 {
		return bytes.Clone(unsigned), nil
	}
	segoff := m.u64(m.linkedit + 40)
	if segoff+m.u64(m.linkedit+48) != uint64(len(unsigned)) {
		return nil, errors.New("__LINKEDIT does not end the file; cannot place a signature")
	}
	firstSect := firstSectionOffset(m)
	if m.cmdsEnd+codeSigCmdSize > firstSect {
		return nil, errors.New("no room after the load commands for LC_CODE_SIGNATURE")
	}
	codeSize := len(unsigned)
	nPages := (codeSize + 1<<pageBits - 1) >> pageBits
	cdSize := 88 + len(linkerIdentifier) + 1 + nPages*sha256.Size
	sigSize := 12 + 8 + cdSize

	out := make([]byte, codeSize, codeSize+sigSize)
	copy(out, unsigned)
	le.PutUint32(out[16:], m.ncmds+1)
	le.PutUint32(out[20:], le.Uint32(out[20:])+codeSigCmdSize)
	cmd := out[m.cmdsEnd:]
	le.PutUint32(cmd[0:], lcCodeSignature)
	le.PutUint32(cmd[4:], codeSigCmdSize)
	le.PutUint32(cmd[8:], uint32(codeSize))
	le.PutUint32(cmd[12:], uint32(sigSize))
	linkSize := uint64(codeSize+sigSize) - segoff
	le.PutUint64(out[m.linkedit+32:], linkSize)
	le.PutUint64(out[m.linkedit+48:], linkSize)

	be := binary.BigEndian
	sig := make([]byte, sigSize)
	be.PutUint32(sig[0:], csMagicEmbeddedSignature)
	be.PutUint32(sig[4:], uint32(sigSize))
	be.PutUint32(sig[8:], 1)
	be.PutUint32(sig[12:], csSlotCodeDirectory)
	be.PutUint32(sig[16:], 20)
	cd := sig[20:]
	be.PutUint32(cd[0:], csMagicCodeDirectory)
	be.PutUint32(cd[4:], uint32(cdSize))
	be.PutUint32(cd[8:], 0x20400) // version with exec segment fields
	be.PutUint32(cd[12:], csAdHoc|csLinkerSigned)
	be.PutUint32(cd[16:], uint32(88+len(linkerIdentifier)+1)) // hashOffset
	be.PutUint32(cd[20:], 88)                                 // identOffset
	be.PutUint32(cd[28:], uint32(nPages))
	be.PutUint32(cd[32:], uint32(codeSize))
	cd[36], cd[37], cd[39] = sha256.Size, csHashSHA256, pageBits
	text := m.text
	be.PutUint64(cd[64:], le.Uint64(out[text+40:])) // execSegBase
	be.PutUint64(cd[72:], le.Uint64(out[text+48:])) // execSegLimit
	be.PutUint64(cd[80:], csExecSegMainBinary)
	copy(cd[88:], linkerIdentifier)
	hashes := cd[88+len(linkerIdentifier)+1:]
	for i := range nPages {
		page := out[i<<pageBits : min((i+1)<<pageBits, codeSize)]
		sum := sha256.Sum256(page)
		copy(hashes[i*sha256.Size:], sum[:])
	}
	return append(out, sig...), nil
}

// firstSectionOffset is where the first section's data starts in the file:
// load commands may grow into the padding before it.
func firstSectionOffset(m *image) int {
	first := len(m.data)
	off := headerSize64
	for range m.ncmds {
		cmd, size := m.u32(off), int(m.u32(off+4))
		if cmd == lcSegment64 {
			nsects := int(m.u32(off + 64))
			for s := 0; s < nsects && off+72+(s+1)*80 <= off+size; s++ {
				sect := off + 72 + s*80
				fileoff := int(m.u32(sect + 48))
				typ := m.u32(sect+64) & 0xff
				// Zero-fill sections (S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL) have no file data.
				if fileoff > 0 && typ != 0x1 && typ != 0xc && typ != 0x12 && fileoff < first {
					first = fileoff
				}
			}
		}
		off += size
	}
	return first
}
