// Package release holds the facts every other relkit package agrees on: the
// release tag and its version forms, the supported platforms, artifact names,
// the MSI UpgradeCode, and validation of the release inputs.
package release
