# Helpers shared by the tests/bazel scripts. Source it after setting BAZEL,
# REPO and TAG; do not run it.
# shellcheck shell=bash

failures=0
log() { printf '\n== %s\n' "$*" >&2; }
pass() { printf 'ok    %s\n' "$*" >&2; }
fail() {
  printf 'FAIL  %s\n' "$*" >&2
  failures=$((failures + 1))
}

# bazel_in OUTPUT_BASE DIR ARGS...: runs Bazel in DIR with its own output base.
bazel_in() {
  local ob=$1 dir=$2
  shift 2
  (cd "${dir}" && "${BAZEL}" --output_base="${ob}" "$@")
}

# expected_file OS ARCH: the pattern `file` prints for that platform's binary.
expected_file() {
  case "$1-$2" in
  linux-amd64) echo 'ELF 64-bit LSB executable, x86-64' ;;
  linux-arm64) echo 'ELF 64-bit LSB executable, ARM aarch64' ;;
  darwin-amd64) echo 'Mach-O 64-bit x86_64 executable' ;;
  darwin-arm64) echo 'Mach-O 64-bit arm64 executable' ;;
  windows-amd64) echo 'PE32\+ executable .*x86-64' ;;
  windows-arm64) echo 'PE32\+ executable .*Aarch64' ;;
  esac
}

# archive_name OS-ARCH: the release archive of that platform.
archive_name() {
  if [ "${1%-*}" = linux ]; then echo "${REPO}-${TAG}-$1.tar.gz"; else echo "${REPO}-${TAG}-$1.zip"; fi
}
