#!/usr/bin/env bash
# Points a connector workspace at a prebuilt relkit, as a connector repository
# uses one: the relkit binary is packed the way relkit's release packs it
# (relkit-VERSION-linux-amd64.tar.gz, in DIST), pinned by its sha256, served by
# file:// URL, registered as the relkit toolchain and passed to
# relkit_dependencies(prebuilt_relkit = ...) to set up the Go SDK and run the
# build actions.
#
#   testing/prebuilt-relkit.sh WORKSPACE_DIR RELKIT_BINARY DIST VERSION
#
# WORKSPACE_DIR's WORKSPACE.bazel must call relkit_dependencies() and may
# register relkit's from-source toolchain, which is dropped.
set -euo pipefail

if [ $# -ne 4 ]; then
  echo "usage: $0 WORKSPACE_DIR RELKIT_BINARY DIST VERSION" >&2
  exit 2
fi
ws=$1/WORKSPACE.bazel bin=$2 version=$4
dist=$(mkdir -p "$3" && cd "$3" && pwd)
if ! grep -q '^relkit_dependencies()$' "${ws}"; then
  echo "$0: ${ws} does not call relkit_dependencies()" >&2
  exit 1
fi
[ -x "${bin}" ] || {
  echo "$0: ${bin} is not an executable relkit" >&2
  exit 1
}

stage=$(mktemp -d)
trap 'rm -rf "${stage}"' EXIT
cp "${bin}" "${stage}/relkit"
archive=${dist}/relkit-${version}-linux-amd64.tar.gz
tar -C "${stage}" -czf "${archive}" relkit
sha=$(sha256sum "${archive}" | cut -d' ' -f1)

sed -i -e 's|^register_toolchains("@relkit//rules/toolchains:from_source")$||' \
  -e 's|^relkit_dependencies()$|relkit_dependencies(prebuilt_relkit = "relkit_bin")|' "${ws}"
cat >>"${ws}" <<WS

load("@relkit//rules:repositories.bzl", "relkit_prebuilt")

relkit_prebuilt(
    name = "relkit_bin",
    sha256s = {"linux-amd64": "${sha}"},
    url_template = "file://${dist}/relkit-{version}-{platform}.{ext}",
    version = "${version}",
)

register_toolchains("@relkit_bin//:toolchain")
WS
