// Package sign signs release trees with Sigstore and verifies the result.
//
// A Signer turns content into Sigstore bundles. NewKeyless gets one Fulcio
// certificate for one ephemeral key from an OIDC identity token and reuses
// it for every bundle of the run; NewKeySigner signs with a long-lived key
// (an ECDSA P-256 key from PEM, or any crypto.Signer such as a KMS key).
// Both write Rekor v2 entries and RFC 3161 timestamps when the Instance
// lists those services, and both verify each bundle before returning it.
//
// SignTree signs a release directory: every artifact listed in its
// checksums file, the checksums file and manifest.json get <file>.sig,
// <file>.cert (keyless only) and a <file>.sigstore.json bundle; every
// subject of provenance.intoto.json gets <file>.provenance.sigstore.json
// and every artifact with an SPDX document <file>.sbom.json gets
// <file>.sbom.sigstore.json. All digests are checked before anything is
// signed, nothing is written unless everything was signed, and bundles
// still valid for the same bytes and signer are kept on a re-run (keyless:
// the same issuer, workflow identity, and GitHub repository and ref).
//
// SignAttestations signs other in-toto statements into DSSE bundles, such
// as those about container images, keeping a bundle already written or
// published that verifies for the same statement.
//
// A Verifier checks bundles against a trusted root and a Policy naming the
// expected signer: the OIDC issuer and certificate identity, optionally the
// GitHub repository and ref recorded in the certificate, or a public key.
package sign
