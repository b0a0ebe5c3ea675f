// Package oci builds container images without a container engine and
// pushes them with their attestations.
//
// Builds are reproducible: the same binaries, files, base and Spec give the
// same digests on any machine. Layers are gzip'd tars with sorted entries,
// owner 0:0 (except the nonroot home directory), fixed modes and one fixed
// time; the image's creation time is the commit time; the index JSON is
// written by this package, so its digest does not drift with library
// versions. Images are written as OCI image layouts and read back from
// them for pushing, so what is pushed is exactly what was built.
//
// The default base is made here rather than pulled: the CA certificates
// given as input, /etc/passwd and /etc/group with root and the distroless
// "nonroot" user 65532 (no login shell; there is no shell at all), and
// /tmp. A pinned base image from an OCI layout or tarball can replace it.
//
// Attestations (Sigstore bundles of in-toto statements) are attached as
// OCI 1.1 referrers in the form cosign reads: artifactType the bundle media
// type, the empty config, one layer holding the bundle and the predicate
// type as the dev.sigstore.bundle.predicateType annotation. An image
// signature is attached the same way, as cosign v3 makes it: a statement of
// SignPredicate. Attached reads them back.
//
// Keychain gives the credentials for pushing: ECR and ECR Public tokens
// from the AWS credentials, cached for their lifetime, and a Docker config
// or a username and password for other registries.
package oci
