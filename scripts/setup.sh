#!/usr/bin/env bash
# Installs what relkit's main job and tests need on a Debian 12 machine with
# Go 1.26 and root: Debian packages, Go modules, and the relkit binary.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

command -v go >/dev/null || { echo "error: Go 1.26 is required (go not on PATH)" >&2; exit 1; }
apt_install file unzip zip ca-certificates iproute2 openssl curl jq shellcheck
scripts/install-msi-tools.sh
go mod download
mkdir -p bin
go build -trimpath -o bin/relkit ./tools/cmd/relkit
# Bazel 4.2.3 (Debian), skylib, platforms, rules_java, nginx, buildifier.
scripts/install-bazel.sh
# The real local services (Sigstore, S3, OCI registry), built once and cached.
testing/stack build
echo "relkit built at bin/relkit" >&2
