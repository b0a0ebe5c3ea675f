// Package macos signs darwin Go binaries from Linux and makes signed
// binaries comparable with rebuilds.
//
// Sign writes a Developer ID signature (with quill's signing code): a
// SHA-256 code directory with the hardened runtime flag and an identifier
// (conventionally com.<org>.<name>), and a CMS signature over it carrying
// the certificate chain. LoadIdentity validates that chain against Apple's
// root certificates, which quill ships; tests pass their own roots. Verify
// checks a signature independently of quill: page hashes, special slot
// hashes and the CMS signature up to given roots.
//
// # Reproducibility
//
// The unsigned build stays reproducible; signing happens at publish time
// and is not (the CMS signature records the signing time, and a timestamp
// server adds its own). Strip removes any signature, so a published binary
// and a rebuild strip to identical bytes; LinkerSign then re-creates the
// ad-hoc signature the Go linker puts on darwin/arm64 binaries (identifier
// "a.out"), giving back exactly what 'go build' wrote. Sign strips its input
// first, so its output always strips cleanly.
//
// Without an Apple identity binaries keep the linker's ad-hoc signature
// (arm64) or none (amd64) and are not notarized; see package notary.
// Stapling is impossible for bare binaries: macOS checks the notarization
// online on first run.
package macos
