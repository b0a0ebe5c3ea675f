#!/usr/bin/env bash
# connector_release with a rules_go go_binary, on Debian's Bazel 4.2.3.
#
#   tests/bazel/rules_go.sh [STEP...]    steps: gazelle release reproducible
#                                        (default: all, in that order)
#
# examples/baton-example-rules-go builds its connector with rules_go v0.33.0,
# and gazelle v0.26.0 owns its BUILD files; both are fetched from the Go module
# proxy and patched by rules/rules_go_deps.bzl. The steps:
#   gazelle       `bazel run //:gazelle -- -mode=diff` finds nothing to change;
#   release       //:release gives the full tree: one archive per platform
#                 holding a binary of that platform (`file`), SBOMs, checksums,
#                 provenance, manifest; the same file names, index and manifest
#                 (digests and sizes aside) as go_release_binary's tree of the
#                 same sources;
#   reproducible  a second checkout at another path, with its own output base,
#                 builds a byte-identical tree.
# Each stage's time is printed at the end; a cold run takes minutes (rules_go
# compiles the standard library once per platform).
#
# Environment:
#   BAZEL                 Bazel 4 binary (default bazel-4)
#   RELKIT_TEST_WORK      work directory to keep (default: a fresh temp dir, removed)
#   RELKIT_GOMODCACHE     module cache for the proxy fetches
#                         (default $HOME/.cache/relkit-go/mod)
#   RELKIT_GOCACHE        Go build cache of fetch-time compiles
#                         (default $HOME/.cache/relkit-rules-go/gocache-fetch)
#   RELKIT_TEST_GOCACHE   Go build cache of relkit's own build actions
#                         (default $HOME/.cache/relkit-rules-go/gocache)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
BAZEL=${BAZEL:-bazel-4}
EXAMPLE=examples/baton-example-rules-go
TAG=v1.2.3
REPO=baton-example
PLATFORMS=(darwin-amd64 darwin-arm64 linux-amd64 linux-arm64 windows-amd64 windows-arm64)
# shellcheck source=tests/bazel/lib.sh
. "${root}/tests/bazel/lib.sh"

work=${RELKIT_TEST_WORK:-}
if [ -z "${work}" ]; then
  work=$(mktemp -d /tmp/relkit-rules-go-test.XXXXXX)
  trap 'cleanup; rm -rf "${work}"' EXIT
else
  mkdir -p "${work}"
  trap cleanup EXIT
fi
export RELKIT_GOMODCACHE=${RELKIT_GOMODCACHE:-${HOME}/.cache/relkit-go/mod}
export RELKIT_GOCACHE=${RELKIT_GOCACHE:-${HOME}/.cache/relkit-rules-go/gocache-fetch}
mkdir -p "${RELKIT_GOMODCACHE}" "${RELKIT_GOCACHE}"

timings=()

cleanup() { bazel_shutdown; }

# timed NAME CMD...: runs CMD, records its time under NAME.
timed() {
  local name=$1 start rc=0
  shift
  start=$(date +%s.%N)
  "$@" || rc=$?
  timings+=("$(awk -v s="${start}" -v e="$(date +%s.%N)" -v n="${name}" 'BEGIN{printf "%-40s %7.1fs", n, e - s}')")
  return "${rc}"
}

# relkit itself is built from source with go build; its Go build cache is
# shared (content-addressed: it changes no output). rules_go's actions do not
# use it.
gocache=${RELKIT_TEST_GOCACHE:-${HOME}/.cache/relkit-rules-go/gocache}
mkdir -p "${gocache}"
release_flags=(
  --config=release
  "--@relkit//release:tag=${TAG}"
  "--@relkit//release:gocache=${gocache}"
  "--sandbox_writable_path=${gocache}"
)

# build CHECKOUT OUTPUT_BASE LOG TARGET: builds TARGET of the example and
# copies its tree to CHECKOUT.TARGET.
build() {
  local co=$1 ob=$2 logfile=$3 target=$4
  if ! bazel_in "${ob}" "${co}/${EXAMPLE}" build "${release_flags[@]}" "//:${target}" >"${logfile}" 2>&1; then
    tail -40 "${logfile}" >&2
    echo "build failed; log: ${logfile}" >&2
    return 1
  fi
  rm -rf "${co}.${target}"
  cp -rL "${co}/${EXAMPLE}/bazel-bin/${target}" "${co}.${target}"
}

step_gazelle() {
  log "gazelle owns the BUILD files"
  local co out
  co=$(checkout a "${TAG}")
  if timed "gazelle -mode=diff (cold)" bazel_in "${work}/ob-a" "${co}/${EXAMPLE}" run //:gazelle -- -mode=diff >"${work}/gazelle.out" 2>"${work}/gazelle.log"; then
    out=$(grep -v '^$' "${work}/gazelle.out" || true)
    if [ -z "${out}" ]; then
      pass "bazel run //:gazelle -- -mode=diff: exit 0, no diff"
    else
      fail "gazelle -mode=diff printed a diff:"$'\n'"${out}"
    fi
  else
    tail -30 "${work}/gazelle.log" >&2
    cat "${work}/gazelle.out" >&2
    fail "bazel run //:gazelle -- -mode=diff failed; log: ${work}/gazelle.log"
  fi

  # And it notices a stale BUILD file.
  sed -i '/"main.go",/d' "${co}/${EXAMPLE}/cmd/baton-example/BUILD.bazel"
  if bazel_in "${work}/ob-a" "${co}/${EXAMPLE}" run //:gazelle -- -mode=diff >"${work}/gazelle-stale.out" 2>&1 ||
    ! grep -q '^+ *"main.go",' "${work}/gazelle-stale.out"; then
    fail "gazelle -mode=diff did not report the missing main.go"
  else
    pass "gazelle -mode=diff reports a stale BUILD file and exits non-zero"
  fi
  git -C "${co}" checkout -q -- "${EXAMPLE}/cmd/baton-example/BUILD.bazel"
}

# check_tree DIR: the binaries are of their platforms and the release files
# agree with each other.
check_tree() {
  local tree=$1 key os bin name tmp
  tmp=$(mktemp -d "${work}/extract.XXXXXX")
  for key in "${PLATFORMS[@]}"; do
    os=${key%-*}
    bin=${REPO}
    [ "${os}" = windows ] && bin=${REPO}.exe
    name=$(archive_name "${key}")
    if [ ! -f "${tree}/${name}" ]; then
      fail "${name} missing"
      continue
    fi
    if [ "${os}" = linux ]; then tar -xzf "${tree}/${name}" -C "${tmp}"; else unzip -qo "${tree}/${name}" -d "${tmp}"; fi
    if file -b "${tmp}/${bin}" | grep -Eq "$(expected_file "${os}" "${key#*-}")"; then
      pass "${name}: $(file -b "${tmp}/${bin}" | cut -d, -f1-2)"
    else
      fail "${name}: $(file -b "${tmp}/${bin}"), want $(expected_file "${os}" "${key#*-}")"
    fi
    rm -f "${tmp}/${bin}"
  done
  if (cd "${tree}" && sha256sum --quiet -c "${REPO}_${TAG#v}_checksums.txt"); then
    pass "checksums match the archives"
  else
    fail "checksums do not match the archives"
  fi
  local want got
  want=$(for key in "${PLATFORMS[@]}"; do n=$(archive_name "${key}"); echo "${n} $(sha256sum "${tree}/${n}" | cut -d' ' -f1)"; done | sort)
  got=$(jq -r '.subject[] | "\(.name) \(.digest.sha256)"' "${tree}/provenance.intoto.json" | grep -v checksums | sort)
  if [ "${want}" = "${got}" ]; then pass "provenance subjects include the archives with their digests"; else fail "provenance subjects differ: ${got}"; fi
  got=$(jq -r '.assets | to_entries[] | "\(.value.filename) \(.value.sha256)"' "${tree}/manifest.json" | grep -v checksums | sort)
  if [ "${want}" = "${got}" ]; then pass "manifest assets match the archives"; else fail "manifest assets differ: ${got}"; fi
  rm -rf "${tmp}"
}

# The manifest and index with digests and sizes blanked: what must not depend
# on how the binary was built.
shape() {
  jq -S 'walk(if type == "object" then with_entries(if (.key | test("^(sha256|sizeBytes|digest)$")) then .value = "-" else . end) else . end)' "$1"
}

step_release() {
  log "release tree with the rules_go binary"
  local co
  co=$(checkout a "${TAG}")
  timed "build //:release (rules_go, checkout a)" build "${co}" "${work}/ob-a" "${work}/a.log" release || {
    fail "bazel build //:release with rules_go"
    return
  }
  pass "bazel build //:release with the rules_go go_binary"
  check_tree "${co}.release"

  local bin
  tar -xzf "${co}.release/${REPO}-${TAG}-linux-amd64.tar.gz" -C "${work}" "${REPO}"
  bin=$("${work}/${REPO}" version)
  if echo "${bin}" | grep -q "^${REPO} ${TAG#v} (commit $(git -C "${co}" rev-parse HEAD), built 2026-01-02T03:04:05Z)"; then
    pass "stamped by x_defs: ${bin}"
  else
    fail "version output: ${bin}"
  fi

  # The same sources through go_release_binary, in the same workspace.
  sed -i 's|^load("@relkit//rules:defs.bzl", "connector_release")$|load("@relkit//rules:defs.bzl", "connector_release", "go_release_binary")|' \
    "${co}/${EXAMPLE}/BUILD.bazel"
  cat >>"${co}/${EXAMPLE}/cmd/baton-example/BUILD.bazel" <<'EOF'

filegroup(
    name = "srcs",
    srcs = glob(["*.go"], exclude = ["*_test.go"]),
    visibility = ["//visibility:public"],
)
EOF
  cat >>"${co}/${EXAMPLE}/BUILD.bazel" <<'EOF'

go_release_binary(
    name = "baton-example-go-build",
    srcs = ["//cmd/baton-example:srcs"],
    go_mod = "go.mod",
    package = "./cmd/baton-example",
)

connector_release(
    name = "release_go_build",
    binary = ":baton-example-go-build",
    capabilities = "baton_capabilities.json",
    config_schema = "config_schema.json",
    docs = "docs/connector.mdx",
    org = "ConductorOne",
    repo = "baton-example",
)
EOF
  timed "build //:release_go_build (go_release_binary)" build "${co}" "${work}/ob-a" "${work}/a-go.log" release_go_build || {
    fail "bazel build of the go_release_binary tree"
    git -C "${co}" checkout -q -- "${EXAMPLE}"
    return
  }
  git -C "${co}" checkout -q -- "${EXAMPLE}"
  if diff <(cd "${co}.release" && find . -type f | sort) <(cd "${co}.release_go_build" && find . -type f | sort) >"${work}/names.diff"; then
    pass "same $(find "${co}.release" -type f | wc -l) file names as the go_release_binary tree"
  else
    cat "${work}/names.diff" >&2
    fail "file names differ from the go_release_binary tree"
  fi
  local f
  for f in manifest.json index.json; do
    if diff <(shape "${co}.release/${f}") <(shape "${co}.release_go_build/${f}") >"${work}/${f}.diff"; then
      pass "${f} equals the go_release_binary one, digests and sizes aside"
    else
      cat "${work}/${f}.diff" >&2
      fail "${f} differs from the go_release_binary one"
    fi
  done
}

step_reproducible() {
  log "a second checkout and output base build the same bytes"
  local a b
  a=$(checkout a "${TAG}")
  b=$(checkout b "${TAG}")
  [ -d "${a}.release" ] || build "${a}" "${work}/ob-a" "${work}/a.log" release || {
    fail "bazel build //:release in ${a}"
    return
  }
  timed "build //:release (rules_go, checkout b, cold)" build "${b}" "${work}/ob-b" "${work}/b.log" release || {
    fail "bazel build //:release in ${b}"
    return
  }
  if diff <(cd "${a}.release" && find . -type f | sort | xargs sha256sum) \
    <(cd "${b}.release" && find . -type f | sort | xargs sha256sum) >"${work}/tree.diff"; then
    pass "both rules_go trees are identical ($(find "${a}.release" -type f | wc -l) files, sha256 each)"
  else
    cat "${work}/tree.diff" >&2
    fail "the rules_go trees of the two checkouts differ"
  fi
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(gazelle release reproducible)
for s in "${steps[@]}"; do
  case "${s}" in
  gazelle) step_gazelle ;;
  release) step_release ;;
  reproducible) step_reproducible ;;
  *)
    echo "unknown step ${s}" >&2
    exit 2
    ;;
  esac
done

log "stage timings"
printf '%s\n' "${timings[@]}" >&2

if [ "${failures}" -gt 0 ]; then
  echo "tests/bazel/rules_go: ${failures} check(s) failed" >&2
  exit 1
fi
echo "tests/bazel/rules_go: all checks passed" >&2
