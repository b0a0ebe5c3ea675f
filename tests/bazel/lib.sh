# Helpers shared by the tests/bazel scripts. Source it after setting root,
# work, BAZEL, REPO and TAG; do not run it.
# shellcheck shell=bash

failures=0
log() { printf '\n== %s\n' "$*" >&2; }
pass() { printf 'ok    %s\n' "$*" >&2; }
fail() {
  printf 'FAIL  %s\n' "$*" >&2
  failures=$((failures + 1))
}

# bazel_in OUTPUT_BASE DIR ARGS...: runs Bazel in DIR with its own output base.
# The server's temporary files go to ${work}/jvm-tmp: Bazel 4 leaves one in
# the JVM's temp directory for every --execution_log_json_file.
bazel_in() {
  local ob=$1 dir=$2
  shift 2
  mkdir -p "${work:?}/jvm-tmp"
  (cd "${dir}" && "${BAZEL}" --output_base="${ob}" "--host_jvm_args=-Djava.io.tmpdir=${work}/jvm-tmp" "$@")
}

# bazel_shutdown: stops every Bazel server started with an output base
# ${work}/ob-*.
bazel_shutdown() {
  local ob
  for ob in "${work:?}"/ob-*; do
    if [ -d "${ob}" ]; then bazel_in "${ob}" "${root:?}" shutdown >/dev/null 2>&1 || true; fi
  done
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

# checkout NAME [TAG]: a copy of the working tree (${root}) under ${work},
# committed at a fixed time, and tagged TAG if given, so that every checkout
# has the same commit and commit time wherever it lives.
checkout() {
  local dest=${work:?}/$1/relkit tag=${2:-}
  if [ ! -d "${dest}/.git" ]; then
    mkdir -p "${dest}"
    (cd "${root:?}" && git ls-files -co --exclude-standard -z | grep -zv '^bazel-' | grep -zv '/bazel-' | xargs -0 tar -cf - --no-recursion) |
      tar -xf - -C "${dest}"
    (
      cd "${dest}" || exit 1
      git init -q
      git add -A
      GIT_AUTHOR_NAME=relkit GIT_AUTHOR_EMAIL=test@relkit.invalid GIT_COMMITTER_NAME=relkit \
        GIT_COMMITTER_EMAIL=test@relkit.invalid GIT_AUTHOR_DATE=2026-01-02T03:04:05Z \
        GIT_COMMITTER_DATE=2026-01-02T03:04:05Z git commit -q -m "test checkout"
      [ -z "${tag}" ] || git tag "${tag}"
    )
  fi
  echo "${dest}"
}
