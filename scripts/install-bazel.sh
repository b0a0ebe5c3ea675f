#!/usr/bin/env bash
# Installs what the Bazel half of relkit needs on a Debian 12 machine:
# Debian's Bazel 4.2.3 with its bundled skylib, platforms and rules_java,
# nginx (the HTTP remote cache the tests run on 127.0.0.1), buildifier, and
# the tools tests/bazel/run.sh checks artifacts with (file, jq, unzip).
# Idempotent: installed pieces are skipped; npm packages are cached under
# $HOME/.cache/relkit-buildifier.
set -euo pipefail

BUILDIFIER_VERSION=8.2.1
cache="${HOME}/.cache/relkit-buildifier"

need_apt=()
command -v bazel-4 >/dev/null || need_apt+=(bazel-bootstrap)
[ -d /usr/share/bazel/tools/skylib ] || need_apt+=(bazel-skylib)
[ -d /usr/share/bazel/tools/platforms ] || need_apt+=(bazel-platforms)
[ -d /usr/share/bazel/rules/java ] || need_apt+=(bazel-rules-java)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v file >/dev/null || need_apt+=(file)
command -v jq >/dev/null || need_apt+=(jq)
command -v unzip >/dev/null || need_apt+=(unzip)
command -v git >/dev/null || need_apt+=(git)
command -v npm >/dev/null || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "install-bazel: apt-get install ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian starts nginx on :80 after installing it; the tests run their own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
fi

if [ ! -x "${cache}/node_modules/.bin/buildifier" ] ||
  [ "$("${cache}/node_modules/.bin/buildifier" --version 2>/dev/null | sed -n 's/^buildifier version: //p')" != "${BUILDIFIER_VERSION}" ]; then
  echo "install-bazel: npm install @bazel/buildifier@${BUILDIFIER_VERSION}" >&2
  mkdir -p "${cache}"
  npm install --silent --no-audit --no-fund --prefix "${cache}" "@bazel/buildifier@${BUILDIFIER_VERSION}" >/dev/null
fi
ln -sf "${cache}/node_modules/.bin/buildifier" /usr/local/bin/buildifier

bazel-4 --version
buildifier --version
