package release

import (
	"crypto/sha1"
	"fmt"
	"strings"
)

// urlNamespace is the RFC 4122 name space ID for URLs,
// 6ba7b811-9dad-11d1-80b4-00c04fd430c8 (6ba7b810-... is the DNS one).
var urlNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// UpgradeCode returns the MSI UpgradeCode for a connector: the upper-case
// name-based UUIDv5 of the bare repo name in the URL namespace. It is the same
// for every version, which is what lets a new MSI replace an old one.
func UpgradeCode(name string) string {
	return strings.ToUpper(uuidV5(urlNamespace, name))
}

func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
