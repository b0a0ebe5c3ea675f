// Package authenticode signs and verifies Windows executables and MSI
// packages with Authenticode, through osslsigncode.
//
// Where signing fits: the .exe is signed before it goes into the zip and the
// MSI, and the MSI is signed after it is built. When the key is a secret,
// signing is a publish-time step and the unsigned build outputs stay
// reproducible. Without a timestamp server, a fixed signing time (the commit
// time) makes the signed bytes reproducible too; an RFC 3161 timestamp makes
// signatures outlive the certificate but is never reproducible. Reproducible
// signatures also need an RSA key: ECDSA signatures are randomized.
//
// # Signers
//
// Signer is the seam for other key stores. OSSLSigncode signs with a PKCS#12
// file (read from disk or from a base64 environment variable). Two others
// can be added behind the same interface:
//
// Azure Trusted Signing needs the account endpoint (e.g.
// https://eus.codesigning.azure.net), the account name and certificate
// profile name, and an Entra ID identity holding the "Trusted Signing
// Certificate Profile Signer" role; from GitHub Actions that identity is a
// federated credential trusting the workflow's OIDC token, so no secret is
// stored. Its certificates live three days, so a timestamp (Microsoft's
// http://timestamp.acs.microsoft.com) is mandatory and output is never
// reproducible. The signer would compute the Authenticode digest locally
// (osslsigncode extract-data), send it to the account's sign endpoint
// (REST, polled until done), and attach the returned PKCS#7 signature and
// chain (osslsigncode attach-signature).
//
// A KMS or HSM through PKCS#11 needs the PKCS#11 module of the provider
// (e.g. Google Cloud KMS's libkmsp11.so, AWS CloudHSM's libcloudhsm_pkcs11.so,
// SoftHSM for tests), the key's PKCS#11 URI (pkcs11:token=...;object=...),
// the certificate chain as a PEM file (KMS keys hold no certificate), and
// the token PIN or provider credentials in the environment. osslsigncode
// signs with it directly: -pkcs11module MODULE -certs chain.pem -key URI.
package authenticode
