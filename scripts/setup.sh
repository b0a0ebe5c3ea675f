#!/usr/bin/env bash
# Installs what relkit's main job and tests need on a Debian 12 machine with
# Go 1.26 and root: Debian packages, Go modules, and the relkit binary.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

command -v go >/dev/null || { echo "error: Go 1.26 is required (go not on PATH)" >&2; exit 1; }
# postgresql: the registry store tests start their own throwaway server from
# its binaries; when it is installed here, Debian's default cluster (a
# system server on port 5432) is not created.
if [ "$(id -u)" -eq 0 ] && ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "ok installed"; then
	mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/relkit.conf
fi
apt_install file unzip zip ca-certificates iproute2 openssl curl jq shellcheck postgresql
scripts/install-msi-tools.sh
go mod download
build_relkit
# Bazel 4.2.3 (Debian), skylib, platforms, rules_java, nginx, buildifier.
scripts/install-bazel.sh
# The real local services (Sigstore, S3, OCI registry), built once and cached.
testing/stack build
echo "relkit built at bin/relkit" >&2
