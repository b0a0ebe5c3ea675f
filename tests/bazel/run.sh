#!/usr/bin/env bash
# End-to-end checks of relkit's Bazel rules with Debian's Bazel 4.2.3.
#
#   tests/bazel/run.sh [STEP...]    steps: lint unit remote-cache release prebuilt
#                                   workflow msitools bad-input relkit-edit
#                                   (default: all, in that order)
#
# Builds examples/baton-example's //:release from two fresh checkouts (different
# paths, different output bases) and checks the trees: binaries per platform,
# archive contents, Windows installers, checksums, manifest, SBOM and provenance
# subjects, identical bytes in both trees, the linux/amd64 binary against a
# plain `go build`, and the tree against scripts/build-example-tree.sh's (no Bazel)
# and against a build with a prebuilt relkit, as connector repositories use.
# The second checkout, the prebuilt build and the Starlark tests run with the
# incompatible flags later Bazels turn on and an empty /tmp in each sandbox
# (later_bazel_flags), and the //:publish launcher in Bazel 8's runfiles
# layout. Checks provenance's builder.id with and without the release
# workflow's stamp keys, that a new wixl version rebuilds the installers,
# measures an nginx remote cache on 127.0.0.1, and checks that bad inputs
# fail early with a message naming the attribute.
#
# Environment:
#   BAZEL                 Bazel 4 binary (default bazel-4)
#   RELKIT_TEST_WORK      work directory to keep, outside /tmp (default: a fresh
#                         one under /var/tmp, removed)
#   RELKIT_TEST_GOCACHE   Go build cache the builds share, outside /tmp
#                         (default: a fresh one, so the first build is cold)
#   RELKIT_GOMODCACHE     module cache the Go module repositories reuse
#                         (default $HOME/.cache/relkit-go/mod)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
BAZEL=${BAZEL:-bazel-4}
TAG=v1.2.3
ORG=ConductorOne
REPO=baton-example
BASE_URL=https://dist.conductorone.com
PLATFORMS=(darwin-amd64 darwin-arm64 linux-amd64 linux-arm64 windows-amd64 windows-arm64)
MSI_ARCHES=(amd64 arm64)
PORT=${RELKIT_TEST_CACHE_PORT:-9092}
LOCAL_BUILDER=https://relkit.dev/provenance/local-builder/v1
# shellcheck source=tests/bazel/lib.sh
. "${root}/tests/bazel/lib.sh"

# Outside /tmp: the builds with later Bazels' semantics mount an empty /tmp
# in each sandbox, which would hide checkouts, output bases and caches there.
for v in RELKIT_TEST_WORK RELKIT_TEST_GOCACHE; do
  case "$(realpath -m "${!v:-/var/tmp}")/" in
  /tmp/*)
    echo "${v}=${!v} lies under /tmp; pick a directory elsewhere (later Bazels' sandboxes get an empty /tmp)" >&2
    exit 2
    ;;
  esac
done
work=${RELKIT_TEST_WORK:-}
if [ -z "${work}" ]; then
  work=$(mktemp -d /var/tmp/relkit-bazel-test.XXXXXX)
  trap 'cleanup; rm -rf "${work}"' EXIT
else
  mkdir -p "${work}"
  trap cleanup EXIT
fi
gocache=${RELKIT_TEST_GOCACHE:-${work}/gocache}
export RELKIT_GOMODCACHE=${RELKIT_GOMODCACHE:-${HOME}/.cache/relkit-go/mod}
# Compiling relkit's action helper while fetching the SDK has its own cache:
# it is repository work, which no action cache can serve.
export RELKIT_GOCACHE=${RELKIT_GOCACHE:-${work}/gocache-fetch}
mkdir -p "${gocache}" "${RELKIT_GOCACHE}"

# Every Bazel server the tests start has its output base at ${work}/ob-*.
cleanup() {
  "${root}/testing/remote-cache.sh" stop "${work}/remote-cache" >/dev/null 2>&1 || true
  bazel_shutdown
}

release_flags=(
  --config=release
  "--@relkit//release:tag=${TAG}"
  "--@relkit//release:gocache=${gocache}"
  "--sandbox_writable_path=${gocache}"
)

# Bazel 4.2's incompatible flags that later Bazels turn on: defaults of
# Bazel 7 and 8 (Starlark semantics, visibility, Bazel 8's runfiles layout
# without external/), and a few stricter ones not flipped yet. Bazel 4.2 is
# all CI has; with these, what Bazel 7/8 would reject in relkit's rules
# fails here too. Newer Bazels drop some of these flags once flipped, so
# they stay out of the .bazelrc files users copy. The tmpfs on /tmp stands
# in for Bazel 7's hermetic /tmp: no action may count on files another left
# there, nor share a cache through it.
later_bazel_flags=(
  --sandbox_tmpfs_path=/tmp
  --incompatible_config_setting_private_default_visibility
  --incompatible_disable_depset_items
  --incompatible_disable_target_provider_fields
  --incompatible_disallow_empty_glob
  --incompatible_disallow_struct_provider_syntax
  --incompatible_enforce_config_setting_visibility
  --incompatible_exclusive_test_sandboxed
  --incompatible_no_implicit_file_export
  --incompatible_no_rule_outputs_param
  --incompatible_remote_results_ignore_disk
  --incompatible_struct_has_no_methods
  --incompatible_top_level_aspects_require_providers
  --incompatible_use_platforms_repo_for_constraints
  --incompatible_visibility_private_attributes_at_definition
  --nolegacy_external_runfiles
)

# build_release CHECKOUT OUTPUT_BASE LOG [ARGS...]: builds the example's
# //:release, copies the tree to CHECKOUT.tree, and prints the seconds taken.
build_release() {
  local co=$1 ob=$2 logfile=$3
  shift 3
  local start end
  start=$(date +%s.%N)
  if ! bazel_in "${ob}" "${co}/examples/baton-example" build "${release_flags[@]}" "$@" //:release >"${logfile}" 2>&1; then
    tail -40 "${logfile}" >&2
    echo "build failed; log: ${logfile}" >&2
    return 1
  fi
  end=$(date +%s.%N)
  # Symlinks into the execroot would dangle once the tree is copied away.
  local links
  links=$(find "${co}/examples/baton-example/bazel-bin/release/" -type l)
  if [ -n "${links}" ]; then
    echo "the release tree holds symlinks:"$'\n'"${links}" >&2
    return 1
  fi
  rm -rf "${co}.tree"
  cp -rL "${co}/examples/baton-example/bazel-bin/release" "${co}.tree"
  echo "${start} ${end}" | awk '{printf "%.1f\n", $2 - $1}'
}

step_lint() {
  log "buildifier --lint=warn"
  local files
  mapfile -t files < <(cd "${root}" && git ls-files -co --exclude-standard |
    grep -E '(^|/)(BUILD\.bazel|WORKSPACE\.bazel|MODULE\.bazel|[^/]*\.bzl)$' | grep -v '^bazel-')
  if (cd "${root}" && buildifier --lint=warn --mode=check "${files[@]}"); then
    pass "buildifier: ${#files[@]} files formatted and lint-clean"
  else
    (cd "${root}" && buildifier --lint=warn --mode=check "${files[@]}") || true
    fail "buildifier"
  fi
}

step_unit() {
  log "Starlark unit and analysis tests"
  # Not --config=ci: its Go caches are in /tmp, which these flags make
  # private to each action; RELKIT_GOCACHE (exported above) serves the fetch.
  if bazel_in "${work}/ob-unit" "$(checkout unit)" test --verbose_failures "${later_bazel_flags[@]}" \
    //rules/tests:starlark_tests >"${work}/unit.log" 2>&1; then
    pass "bazel test //rules/tests:starlark_tests ($(grep -c PASSED "${work}/unit.log") targets, later Bazels' semantics)"
  else
    tail -40 "${work}/unit.log" >&2
    fail "starlark tests; log: ${work}/unit.log"
  fi
}

# remote_hits LOG: prints "HITS TOTAL" from Bazel's process summary, counting
# only processes that could be cached (not internal ones).
remote_hits() {
  sed -n 's/^INFO: \([0-9]*\) processes*: \(.*\)\.$/\1 \2/p' "$1" | tail -1 | awk '{
    total = $1; hits = 0; internal = 0
    for (i = 2; i <= NF; i++) {
      if ($(i+1) ~ /^remote/ && $(i+2) ~ /^cache/) hits = $i
      if ($(i+1) ~ /^internal/) internal = $i
    }
    print hits, total - internal
  }'
}

step_remote_cache() {
  log "remote cache (nginx on 127.0.0.1:${PORT})"
  local url co cold warm hits
  url=$("${root}/testing/remote-cache.sh" start "${work}/remote-cache" "${PORT}")
  co=$(checkout c)
  cold=$(build_release "${co}" "${work}/ob-c" "${work}/c.log" --remote_cache="${url}") || {
    fail "cold build with the remote cache"
    return
  }
  bazel_in "${work}/ob-c" "${co}" shutdown >/dev/null 2>&1 || true
  # The second build starts from a fresh output base with an empty Go build
  # cache: only Bazel's repository download cache and the fetch-time
  # Go cache (RELKIT_GOCACHE) remain.
  # The cache's path is part of the action keys, so it keeps its path but is
  # emptied: the warm one comes back for the later steps.
  mv "${gocache}" "${gocache}.warm"
  mkdir -p "${gocache}"
  warm=$(build_release "${co}" "${work}/ob-d" "${work}/d.log" --remote_cache="${url}") || {
    fail "second build with the remote cache"
    return
  }
  rm -rf "${gocache}"
  mv "${gocache}.warm" "${gocache}"
  bazel_in "${work}/ob-d" "${co}" shutdown >/dev/null 2>&1 || true
  read -r hits total < <(remote_hits "${work}/d.log")
  "${root}/testing/remote-cache.sh" stop "${work}/remote-cache"
  printf 'remote cache: cold %ss, fresh output base %ss (%s%% of cold), %s/%s actions were remote hits (%s%%)\n' \
    "${cold}" "${warm}" "$(awk -v a="${warm}" -v b="${cold}" 'BEGIN{printf "%.1f", 100*a/b}')" \
    "${hits}" "${total}" "$(awk -v a="${hits}" -v b="${total}" 'BEGIN{printf "%.0f", b ? 100*a/b : 0}')"
  if awk -v h="${hits}" -v t="${total}" 'BEGIN{exit !(t > 0 && h / t >= 0.9)}'; then
    pass "at least 90% remote cache hits"
  else
    fail "remote cache hits ${hits}/${total} below 90%"
  fi
  if awk -v a="${warm}" -v b="${cold}" 'BEGIN{exit !(a < 0.1 * b)}'; then
    pass "second build under 10% of the cold time"
  else
    fail "second build ${warm}s is not under 10% of the cold ${cold}s"
  fi
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# check_images TREE TMP: the images are built from the archives' Linux
# binaries, and the Lambda image from a baton_lambda_support build.
check_images() {
  local tree=$1 tmp=$2 images=$1/images arch digest layer found
  if ! jq -e '.image.platforms | keys == ["linux/amd64", "linux/arm64"]' "${images}/images.json" >/dev/null 2>&1 ||
    ! jq -e '.lambda.mediaType == "application/vnd.docker.distribution.manifest.v2+json"' "${images}/images.json" >/dev/null; then
    fail "images/images.json lacks the linux/amd64 and linux/arm64 image or the Lambda image"
    return
  fi
  for arch in amd64 arm64; do
    tar -xzf "${tree}/${REPO}-${TAG}-linux-${arch}.tar.gz" -C "${tmp}" "${REPO}"
    digest=$(jq -r --arg p "linux/${arch}" '.image.platforms[$p]' "${images}/images.json")
    found=
    for layer in $(jq -r '.layers[].digest | sub("sha256:"; "")' "${images}/image/blobs/sha256/${digest#sha256:}"); do
      mkdir -p "${tmp}/layer"
      tar -xf "${images}/image/blobs/sha256/${layer}" -C "${tmp}/layer" 2>/dev/null || continue
      [ -f "${tmp}/layer/${REPO}" ] && cmp -s "${tmp}/layer/${REPO}" "${tmp}/${REPO}" && found=1
      rm -rf "${tmp}/layer"
    done
    rm -f "${tmp}/${REPO}"
    if [ -n "${found}" ]; then pass "image linux/${arch}: /${REPO} is the archive's binary"; else fail "image linux/${arch}: no layer holds the archive's binary"; fi
  done
  digest=$(jq -r '.lambda.digest' "${images}/images.json")
  found=
  for layer in $(jq -r '.layers[].digest | sub("sha256:"; "")' "${images}/lambda/blobs/sha256/${digest#sha256:}"); do
    mkdir -p "${tmp}/layer"
    tar -xf "${images}/lambda/blobs/sha256/${layer}" -C "${tmp}/layer" 2>/dev/null || continue
    if [ -f "${tmp}/layer/${REPO}" ] && go version -m "${tmp}/layer/${REPO}" | grep -q -- '-tags=baton_lambda_support'; then
      found=$(sha256 "${tmp}/layer/${REPO}")
    fi
    rm -rf "${tmp}/layer"
  done
  if [ -n "${found}" ]; then pass "lambda image: /${REPO} built with -tags=baton_lambda_support"; else fail "lambda image: no baton_lambda_support binary"; fi
  # Its SBOM, written by the build, describes that very binary.
  if jq -e --arg ns "https://spdx.relkit.dev/${REPO}-sha256-${found}" --arg name "${REPO}" \
    '.spdxVersion == "SPDX-2.3" and .name == $name and .documentNamespace == $ns' "${images}/lambda.sbom.json" >/dev/null 2>&1; then
    pass "images/lambda.sbom.json: SPDX 2.3 of the Lambda image's /${REPO}"
  else
    fail "images/lambda.sbom.json is missing or does not describe the Lambda image's /${REPO} (sha256 ${found:-none})"
  fi
}

# check_tree DIR: checks one release tree.
check_tree() {
  local tree=$1 ver=${TAG#v} key os arch name archive bin entries digest tmp
  tmp=$(mktemp -d "${work}/extract.XXXXXX")
  local archives=() msis=()
  for arch in "${MSI_ARCHES[@]}"; do
    name=${REPO}_${TAG}_windows_${arch}.msi
    msis+=("${name}")
    if msiinfo export "${tree}/${name}" File 2>/dev/null | grep -q "${REPO}.exe"; then
      pass "${name}: installs ${REPO}.exe"
    else
      fail "${name} is missing or does not install ${REPO}.exe"
    fi
  done
  for key in "${PLATFORMS[@]}"; do
    os=${key%-*} arch=${key#*-}
    bin=${REPO}
    [ "${os}" = windows ] && bin=${REPO}.exe
    name=$(archive_name "${key}")
    archive=${tree}/${name}
    archives+=("${name}")
    if [ ! -f "${archive}" ]; then
      fail "${name} missing"
      continue
    fi
    if [ "${os}" = linux ]; then
      entries=$(tar -tzf "${archive}")
      tar -xzf "${archive}" -C "${tmp}"
    else
      entries=$(unzip -Z1 "${archive}")
      unzip -qo "${archive}" -d "${tmp}"
    fi
    [ "${entries}" = "${bin}" ] || fail "${name} holds '${entries}', want only '${bin}'"
    if file -b "${tmp}/${bin}" | grep -Eq "$(expected_file "${os}" "${arch}")"; then
      pass "${name}: $(file -b "${tmp}/${bin}" | cut -d, -f1-2)"
    else
      fail "${name}: $(file -b "${tmp}/${bin}"), want $(expected_file "${os}" "${arch}")"
    fi
    rm -f "${tmp}/${bin}"

    # The SBOM describes this archive's content.
    local sbom=${archive}.sbom.json
    if jq -e '.spdxVersion == "SPDX-2.3"' "${sbom}" >/dev/null 2>&1; then
      digest=$(sha256 "${archive}")
      if grep -q "${digest}" "${sbom}"; then
        pass "${name}.sbom.json: SPDX 2.3 naming the archive digest"
      else
        fail "${name}.sbom.json does not name the archive's sha256 ${digest}"
      fi
    else
      fail "${name}.sbom.json is not an SPDX 2.3 document"
    fi
  done

  # The tree holds the release files and nothing else.
  local want_files got_files
  want_files=$(
    printf '%s\n' "${archives[@]}" | sed 'p; s/$/.sbom.json/'
    printf '%s\n' "${msis[@]}" | sed 'p; s/$/.wxs/'
    printf '%s\n' "${REPO}_${ver}_checksums.txt" index.json manifest.json provenance.intoto.json \
      registry/baton_capabilities.json registry/config_schema.json registry/connector.mdx
  )
  got_files=$(cd "${tree}" && find . -type f -not -path './images/*' | sed 's|^\./||' | sort)
  if [ "$(echo "${want_files}" | sort)" = "${got_files}" ]; then
    pass "the tree holds exactly the $(echo "${got_files}" | wc -l) release files besides images/"
  else
    fail "tree files differ:"$'\n'"$(diff <(echo "${want_files}" | sort) <(echo "${got_files}"))"
  fi

  local sums=${tree}/${REPO}_${ver}_checksums.txt
  if (cd "${tree}" && sha256sum --quiet -c "$(basename "${sums}")") &&
    [ "$(cut -d' ' -f3 "${sums}" | sort | tr '\n' ' ')" = "$(printf '%s\n' "${archives[@]}" "${msis[@]}" | sort | tr '\n' ' ')" ]; then
    pass "checksums: the six archives and two installers, all matching"
  else
    fail "checksums file does not list exactly the six archives and two installers with matching digests"
  fi

  # Provenance subjects are the archives, installers and checksums file with their digests.
  local want got
  want=$(for a in "${archives[@]}" "${msis[@]}" "$(basename "${sums}")"; do echo "${a} $(sha256 "${tree}/${a}")"; done | sort)
  got=$(jq -r '.subject[] | "\(.name) \(.digest.sha256)"' "${tree}/provenance.intoto.json" | sort)
  if [ "${want}" = "${got}" ]; then pass "provenance subjects: archives, installers and checksums file"; else fail "provenance subjects differ: ${got}"; fi

  # Manifest: every platform key plus checksums, with digests, sizes and hrefs.
  local m=${tree}/manifest.json base=${BASE_URL}/releases/${ORG}/${REPO}/${TAG}
  got=$(jq -r '.assets | to_entries[] | "\(.key) \(.value.filename) \(.value.sha256) \(.value.sizeBytes) \(.value.href)"' "${m}" | sort)
  want=$(
    for key in "${PLATFORMS[@]}"; do
      name=$(archive_name "${key}")
      echo "${key} ${name} $(sha256 "${tree}/${name}") $(stat -c %s "${tree}/${name}") ${base}/${name}"
    done
    for arch in "${MSI_ARCHES[@]}"; do
      name=${REPO}_${TAG}_windows_${arch}.msi
      echo "windows-${arch}-msi ${name} $(sha256 "${tree}/${name}") $(stat -c %s "${tree}/${name}") ${base}/${name}"
    done
    name=$(basename "${sums}")
    echo "checksums ${name} $(sha256 "${sums}") $(stat -c %s "${sums}") ${base}/${name}"
  )
  want=$(echo "${want}" | sort)
  if [ "${want}" = "${got}" ] && jq -e --arg t "${TAG}" '.version == "2" and .semver == $t and .name == "baton-example" and .org == "ConductorOne"' "${m}" >/dev/null; then
    pass "manifest.json: keys, digests, sizes and hrefs"
  else
    fail "manifest.json assets differ:"$'\n'"${got}"$'\n'"want:"$'\n'"${want}"
  fi

  check_images "${tree}" "${tmp}"

  # The index names files that exist.
  local missing
  missing=$(jq -r '[.artifacts[].archive, .artifacts[].sbom, .installers[].msi, .checksums, .provenance, .manifest, .registry[]] | .[]' "${tree}/index.json" |
    while read -r f; do [ -e "${tree}/${f}" ] || echo "${f}"; done)
  if [ -z "${missing}" ] && [ "$(jq '.artifacts | length' "${tree}/index.json")" = 6 ]; then
    pass "index.json lists six platforms and the installers; every file it names exists"
  else
    fail "index.json names missing files: ${missing}"
  fi
  rm -rf "${tmp}"
}

# check_script_tree CHECKOUT: scripts/build-example-tree.sh, which builds the
# release with go build and relkit alone, writes the same archives, SBOMs,
# installers, checksums, provenance and manifest as Bazel did in CHECKOUT: the
# whole unsigned release can be reproduced without Bazel. (index.json is
# Bazel's record for publishing; images and registry/ are Bazel-only.)
check_script_tree() {
  local co=$1 script_tree f differ=() files=()
  # With bin/relkit in place the script skips scripts/setup.sh.
  if ! (cd "${co}" && mkdir -p bin && go build -trimpath -o bin/relkit ./tools/cmd/relkit &&
    MSI=1 TAG=${TAG} ORG=${ORG} BASE_URL=${BASE_URL} scripts/build-example-tree.sh) >"${work}/script-tree.log" 2>&1; then
    tail -20 "${work}/script-tree.log" >&2
    fail "scripts/build-example-tree.sh in ${co}; log: ${work}/script-tree.log"
    return
  fi
  script_tree=${co}/dist/releases/${ORG}/${REPO}/${TAG}
  for f in "${co}.tree"/*; do
    f=${f##*/}
    if [ ! -f "${co}.tree/${f}" ] || [ "${f}" = index.json ]; then continue; fi
    files+=("${f}")
    cmp -s "${co}.tree/${f}" "${script_tree}/${f}" || differ+=("${f}")
  done
  if [ ${#files[@]} -ne 19 ]; then
    fail "the Bazel tree has ${#files[@]} release files besides index.json, want 19"
  elif [ ${#differ[@]} -gt 0 ]; then
    fail "without Bazel, these differ: ${differ[*]}"
  elif [ "$(find "${script_tree}" -type f ! -name index.json | wc -l)" -ne ${#files[@]} ]; then
    fail "scripts/build-example-tree.sh wrote other files: $(ls "${script_tree}")"
  else
    pass "scripts/build-example-tree.sh (go build + relkit, no Bazel) writes the same ${#files[@]} files: archives, SBOMs, installers, checksums, provenance, manifest"
  fi
}

# check_publish_launcher CHECKOUT OUTPUT_BASE: in Bazel 8's runfiles layout
# (no external/ in the main repository's tree), the example's //:publish
# launcher finds relkit and the release tree: relkit publish gets past
# "check tree" and stops at "check published", the first step that needs the
# bucket. Its S3 endpoint is unreachable, in a network namespace of its own,
# so nothing leaves the machine.
check_publish_launcher() {
  local co=$1 ob=$2 launcher=${work}/publish-launcher.sh out runfiles
  if ! bazel_in "${ob}" "${co}/examples/baton-example" run "${release_flags[@]}" "${later_bazel_flags[@]}" \
    --script_path="${launcher}" //:publish >"${work}/publish-launcher.log" 2>&1; then
    tail -20 "${work}/publish-launcher.log" >&2
    fail "bazel run //:publish with later Bazels' semantics; log: ${work}/publish-launcher.log"
    return
  fi
  runfiles=${co}/examples/baton-example/bazel-bin/publish.sh.runfiles
  if [ -e "${runfiles}/baton_example/external" ] || [ ! -d "${runfiles}/relkit" ]; then
    fail "//:publish runfiles are not in Bazel 8's layout: $(ls "${runfiles}" "${runfiles}/baton_example" | tr '\n' ' ')"
    return
  fi
  mkdir -p "${work}/publish-home"
  out=$(unshare --net env -i PATH=/usr/bin:/bin HOME="${work}/publish-home" \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 "${launcher}" \
    --bucket test --base-url "${BASE_URL}" --s3-endpoint http://127.0.0.1:9 --s3-path-style \
    --sign none --verify=false 2>&1) || true
  if grep -q '^relkit publish: check published: ' <<<"${out}"; then
    pass "bazel run //:publish in Bazel 8's runfiles layout: relkit found, tree checked"
  else
    echo "${out}" | tail -20 >&2
    fail "the //:publish launcher in Bazel 8's runfiles layout did not get to \"check published\""
  fi
}

step_release() {
  log "release tree from two checkouts"
  local a b ta tb
  a=$(checkout a)
  b=$(checkout b)
  ta=$(build_release "${a}" "${work}/ob-a" "${work}/a.log") || {
    fail "bazel build //:release in ${a}"
    return
  }
  pass "bazel build //:release (checkout a) in ${ta}s"
  check_tree "${a}.tree"
  local builder
  builder=$(jq -r .predicate.runDetails.builder.id "${a}.tree/provenance.intoto.json")
  if [ "${builder}" = "${LOCAL_BUILDER}" ]; then
    pass "provenance builder.id outside the release workflow: ${builder}"
  else
    fail "provenance builder.id is ${builder}, want ${LOCAL_BUILDER} without workflow stamp keys"
  fi

  # The same tree, whatever the path, output base and Bazel semantics.
  tb=$(build_release "${b}" "${work}/ob-b" "${work}/b.log" "${later_bazel_flags[@]}") || {
    fail "bazel build //:release in ${b} with later Bazels' semantics"
    return
  }
  pass "bazel build //:release (checkout b: other path and output base, later Bazels' semantics) in ${tb}s"
  if diff <(cd "${a}.tree" && find . -type f | sort | xargs sha256sum) \
    <(cd "${b}.tree" && find . -type f | sort | xargs sha256sum) >"${work}/tree.diff"; then
    pass "both trees are identical ($(find "${a}.tree" -type f | wc -l) files, sha256 each)"
  else
    cat "${work}/tree.diff" >&2
    fail "the trees of the two checkouts differ"
  fi

  check_publish_launcher "${b}" "${work}/ob-b"

  # Anyone can rebuild the linux/amd64 binary without Bazel.
  local commit date plain
  commit=$(git -C "${a}" rev-parse HEAD)
  date=$(TZ=UTC git -C "${a}" log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)
  plain=${work}/plain
  mkdir -p "${plain}"
  (cd "${a}/examples/baton-example" && env -u GOFLAGS CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local GOWORK=off \
    go build -trimpath -buildvcs=false \
    -ldflags="-s -w -buildid= -X main.commit=${commit} -X main.date=${date} -X main.version=${TAG#v}" \
    -o "${plain}/${REPO}" ./cmd/baton-example)
  tar -xzf "${a}.tree/${REPO}-${TAG}-linux-amd64.tar.gz" -C "${work}" "${REPO}"
  if cmp -s "${plain}/${REPO}" "${work}/${REPO}"; then
    pass "linux/amd64 binary equals plain 'go build' ($(go version | cut -d' ' -f3)): $(sha256 "${plain}/${REPO}")"
  else
    fail "linux/amd64 binary differs from plain 'go build'"
  fi
  check_script_tree "${a}"
  if "${work}/${REPO}" version | grep -q "${TAG#v} (commit ${commit}, built ${date})"; then
    pass "stamped: $("${work}/${REPO}" version)"
  else
    fail "version output: $("${work}/${REPO}" version)"
  fi
}

# A connector repository's setup: a released relkit, pinned by sha256, is the
# relkit toolchain and runs the build actions (relkit action-helper), so the
# Go SDK repository compiles nothing. The release it builds equals the one
# built with relkit from source, but for the relkit version provenance records.
step_prebuilt() {
  log "release with a prebuilt relkit"
  local a co dist differ=() f t sdk
  a=$(checkout a)
  if [ ! -d "${a}.tree" ]; then
    build_release "${a}" "${work}/ob-a" "${work}/a.log" >/dev/null || {
      fail "bazel build //:release in ${a}"
      return
    }
  fi
  co=$(checkout prebuilt)
  dist=${work}/prebuilt-dist
  mkdir -p "${dist}"
  if ! (cd "${co}" && CGO_ENABLED=0 go build -trimpath -o "${dist}/relkit" ./tools/cmd/relkit &&
    testing/prebuilt-relkit.sh examples/baton-example "${dist}/relkit" "${dist}" v0.0.0-test); then
    fail "a prebuilt relkit for the example"
    return
  fi
  t=$(build_release "${co}" "${work}/ob-prebuilt" "${work}/prebuilt.log" "${later_bazel_flags[@]}") || {
    fail "bazel build //:release with a prebuilt relkit and later Bazels' semantics"
    return
  }
  pass "bazel build //:release with a prebuilt relkit (later Bazels' semantics) in ${t}s"
  if [ -e "${work}/ob-prebuilt/external/relkit_go_sdk/builder" ] || ! grep -q '"action-helper"' "${work}/ob-prebuilt/external/relkit_go_sdk/BUILD.bazel"; then
    fail "the Go SDK repository compiled an action helper although a prebuilt relkit was given"
  else
    pass "no action helper compiled: build actions ran relkit action-helper"
  fi
  # relkit unpacked the pinned SDK without tests, testdata and src/cmd; the
  # tree comparison below shows builds need none of them.
  sdk=${work}/ob-prebuilt/external/relkit_go_sdk/sdk
  if [ ! -x "${sdk}/bin/go" ] || [ -e "${sdk}/src/cmd" ] || [ -n "$(find "${sdk}/src" -name '*_test.go' -print -quit)" ]; then
    fail "the Go SDK repository did not unpack the SDK with relkit go-sdk unpack"
  else
    pass "relkit go-sdk unpack set up the Go SDK: $(find "${sdk}/" -type f | wc -l) files, no tests or src/cmd"
  fi
  for f in $(cd "${a}.tree" && find . -type f | sort); do
    cmp -s "${a}.tree/${f}" "${co}.tree/${f}" || differ+=("${f#./}")
  done
  if [ "${differ[*]}" != "provenance.intoto.json" ]; then
    fail "with a prebuilt relkit, these differ from the from-source tree: ${differ[*]:-none}; want provenance.intoto.json alone"
  elif ! jq -e '.predicate.buildDefinition.internalParameters.toolchains.relkit == "v0.0.0-test"' "${co}.tree/provenance.intoto.json" >/dev/null; then
    fail "provenance does not record the prebuilt relkit's version: $(jq -c .predicate.buildDefinition.internalParameters "${co}.tree/provenance.intoto.json")"
  else
    pass "the same tree as with relkit from source, but provenance, which records relkit v0.0.0-test"
  fi

  # Registered but not selected, as in relkit's own MODULE.bazel (relkit from
  # source registered first), a prebuilt relkit is never downloaded: toolchain
  # resolution reads only its toolchain repository. Its archive is now missing,
  # and its sha256 one that Bazel's repository cache cannot serve either.
  sed -i -e 's|^relkit_dependencies(prebuilt_relkit = "relkit_bin")$|relkit_dependencies()\n\nregister_toolchains("@relkit//rules/toolchains:from_source")|' \
    -e 's|relkit-{version}-{platform}.{ext}|missing-{version}-{platform}.{ext}|' \
    -e 's|"linux-amd64": "[0-9a-f]*"|"linux-amd64": "'"$(printf '0%.0s' {1..64})"'"|' "${co}/examples/baton-example/WORKSPACE.bazel"
  if bazel_in "${work}/ob-prebuilt" "${co}/examples/baton-example" build --nobuild "${release_flags[@]}" //:release >"${work}/unselected.log" 2>&1; then
    pass "an unselected prebuilt relkit is not downloaded (analysis with relkit from source)"
  else
    tail -20 "${work}/unselected.log" >&2
    fail "analysis with relkit from source tried the registered prebuilt relkit; log: ${work}/unselected.log"
  fi
}

# expect_failure NAME PATTERN SNIPPET BAZEL-ARGS...: with SNIPPET appended to
# the example's BUILD.bazel, the build must fail with a message matching PATTERN.
expect_failure() {
  local name=$1 pattern=$2 snippet=$3 co
  shift 3
  co=$(checkout a)
  printf '\n%s\n' "${snippet}" >>"${co}/examples/baton-example/BUILD.bazel"
  build_must_fail "${name}" "${pattern}" "${work}/ob-a" "${co}/examples/baton-example" "$@"
  git -C "${co}" checkout -q -- examples/baton-example/BUILD.bazel
}

# build_must_fail NAME PATTERN OUTPUT_BASE DIR BAZEL-ARGS...: building in DIR
# must fail with a message matching PATTERN.
build_must_fail() {
  local name=$1 pattern=$2 ob=$3 dir=$4
  shift 4
  if bazel_in "${ob}" "${dir}" build "${release_flags[@]}" "$@" >"${work}/bad-${name}.log" 2>&1; then
    fail "${name}: the build succeeded"
  elif grep -Eq "${pattern}" "${work}/bad-${name}.log"; then
    pass "${name}: $(grep -Eo "${pattern}.*" "${work}/bad-${name}.log" | head -1 | cut -c1-160)"
  else
    tail -20 "${work}/bad-${name}.log" >&2
    fail "${name}: failed without '${pattern}'"
  fi
}

# executed LOG: the mnemonics of the spawns Bazel ran (not cache hits), from
# an --execution_log_json_file, sorted and counted.
executed() {
  jq -r .mnemonic "$1" | sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}'
}

# In the release workflow, the status command also prints the workflow keys
# (the example's tools/workspace_status.sh does when WORKFLOW_SHA is set, as
# release.yaml's own does): builder.id is the workflow at that commit, and
# only the stamp, provenance and tree actions run again.
step_workflow() {
  log "provenance builder.id from the workflow stamp keys"
  local co sha=4f1e2d3c4b5a69788796a5b4c3d2e1f001122334 builder want ran
  co=$(checkout a)
  build_release "${co}" "${work}/ob-a" "${work}/wf0.log" >/dev/null || {
    fail "build before stamping the workflow"
    return
  }
  WORKFLOW_REPOSITORY=relkit/relkit WORKFLOW_SHA=${sha} WORKFLOW_PATH=.github/workflows/release.yaml \
    build_release "${co}" "${work}/ob-a" "${work}/wf.log" --execution_log_json_file="${work}/wf.exec.json" >/dev/null || {
    fail "build with the workflow stamp keys"
    return
  }
  want=https://github.com/relkit/relkit/.github/workflows/release.yaml@${sha}
  builder=$(jq -r .predicate.runDetails.builder.id "${co}.tree/provenance.intoto.json")
  if [ "${builder}" = "${want}" ] &&
    jq -e --arg sha "${sha}" '.predicate.buildDefinition.resolvedDependencies | any(.digest.gitCommit == $sha)' \
      "${co}.tree/provenance.intoto.json" >/dev/null; then
    pass "builder.id with STABLE_WORKFLOW_* keys: ${builder}"
  else
    fail "builder.id is ${builder}, want ${want} (and the workflow commit among resolvedDependencies)"
  fi
  ran=$(executed "${work}/wf.exec.json")
  if [ -z "$(jq -r 'select(.mnemonic | IN("RelkitStamp", "RelkitProvenance", "RelkitTree") | not) | .mnemonic' "${work}/wf.exec.json")" ]; then
    pass "a new workflow commit reruns only: ${ran}"
  else
    fail "a new workflow commit reran more than stamp, provenance and tree: ${ran}"
  fi
}

# A wixl upgrade: @relkit_msitools records another version, so the installer
# is built again instead of coming from the action cache. A wixl earlier on
# the repository rules' PATH stands in for the upgrade (actions keep the
# strict PATH and the real wixl).
step_msitools() {
  log "the host's wixl version keys the MSI action"
  local co fake=${work}/wixl-upgrade ran
  co=$(checkout a)
  mkdir -p "${fake}"
  cat >"${fake}/wixl" <<'EOF'
#!/bin/sh
[ "$1" = --version ] && { echo 9.9.9; exit 0; }
exec /usr/bin/wixl "$@"
EOF
  chmod +x "${fake}/wixl"
  if ! bazel_in "${work}/ob-a" "${co}/examples/baton-example" build "${release_flags[@]}" \
    --execution_log_json_file="${work}/msi0.exec.json" //:msi_amd64 >"${work}/msi0.log" 2>&1; then
    tail -20 "${work}/msi0.log" >&2
    fail "bazel build //:msi_amd64"
    return
  fi
  if ! bazel_in "${work}/ob-a" "${co}/examples/baton-example" build "${release_flags[@]}" \
    --repo_env=PATH="${fake}:/usr/bin:/bin" --execution_log_json_file="${work}/msi.exec.json" \
    //:msi_amd64 >"${work}/msi.log" 2>&1; then
    tail -20 "${work}/msi.log" >&2
    fail "bazel build //:msi_amd64 after the wixl upgrade"
    return
  fi
  ran=$(executed "${work}/msi.exec.json")
  if ! grep -qx 'wixl 9.9.9' "${work}/ob-a/external/relkit_msitools/version.txt"; then
    fail "@relkit_msitools//:version.txt does not record the new wixl: $(tr '\n' ' ' <"${work}/ob-a/external/relkit_msitools/version.txt")"
  elif jq -e 'select(.mnemonic == "RelkitMsiBuild")' "${work}/msi0.exec.json" >/dev/null; then
    fail "the MSI was rebuilt before any upgrade: $(executed "${work}/msi0.exec.json")"
  elif jq -e 'select(.mnemonic == "RelkitMsiBuild")' "${work}/msi.exec.json" >/dev/null; then
    pass "wixl --version 0.101 -> 9.9.9: the MSI action ran again (${ran})"
  else
    fail "after the wixl upgrade the MSI came from the cache (ran: ${ran:-nothing})"
  fi
}

step_bad_input() {
  log "bad inputs fail early, naming the attribute"
  expect_failure malformed-tag 'tag "1.2.3": must start with' "" --@relkit//release:tag=1.2.3 //:release
  expect_failure not-executable 'binary: //:bad is not executable' '
filegroup(name = "bad", srcs = ["go.mod"])

connector_release(name = "bad_release", binary = ":bad", org = "ConductorOne", repo = "baton-example")' //:bad_release
  expect_failure unsupported-platform 'platforms: "plan9/amd64" is not supported' '
connector_release(
    name = "bad_release",
    binary = ":baton-example",
    org = "ConductorOne",
    platforms = ["linux/amd64", "plan9/amd64"],
    repo = "baton-example",
)' //:bad_release
  # Actions see a PATH without wixl; repository rules keep the usual one.
  expect_failure msi-tools-missing 'wixl, msibuild, msiinfo not found on PATH; run scripts/install-msi-tools.sh' "" \
    --action_env=PATH=/nonexistent --repo_env=PATH=/usr/bin:/bin //:msi_amd64
  expect_failure missing-docs 'docs: "docs/missing.mdx" does not exist' '
connector_release(
    name = "bad_release",
    binary = ":baton-example",
    docs = "docs/missing.mdx",
    org = "ConductorOne",
    repo = "baton-example",
)' //:bad_release
  # Downloads without a pinned sha256 fail before downloading, saying what to pin.
  expect_workspace_failure unpinned-go-sdk \
    'no sha256 pinned for go1\.26\.7 on [a-z]+-[a-z0-9]+; relkit pins go[0-9.]+\. For go1\.26\.7, pin the sha256' \
    's/^relkit_dependencies()$/relkit_dependencies(go_version = "1.26.7")/'
  expect_workspace_failure unpinned-relkit \
    'no sha256 pinned for relkit v9\.9\.9 on [a-z]+-[a-z0-9]+\. Pin the sha256 of https://github\.com/relkit/relkit/releases/download/v9\.9\.9/' \
    's/"relkit_dependencies")$/"relkit_dependencies", "relkit_prebuilt")/
s/^relkit_dependencies()$/relkit_prebuilt(name = "relkit_bin", version = "v9.9.9")\nrelkit_dependencies(prebuilt_relkit = "relkit_bin")/'
}

# expect_workspace_failure NAME PATTERN SED-SCRIPT: with SED-SCRIPT applied to
# the example's WORKSPACE.bazel, the build must fail with a message matching
# PATTERN. It runs in an output base of its own, which keeps ob-a's
# repositories, and moves no convenience symlinks.
expect_workspace_failure() {
  local co ob=${work}/ob-$1
  co=$(checkout a)
  sed -i "$3" "${co}/examples/baton-example/WORKSPACE.bazel"
  build_must_fail "$1" "$2" "${ob}" "${co}/examples/baton-example" --symlink_prefix=/ //:release
  bazel_in "${ob}" "${co}/examples/baton-example" shutdown >/dev/null 2>&1 || true
  git -C "${co}" checkout -q -- examples/baton-example/WORKSPACE.bazel
}

# After a change to one relkit .go file, a warm rebuild recompiles that
# package and links: the ~900 dependency modules come from the shared GOCACHE.
step_relkit_edit() {
  log "warm rebuild after editing one relkit .go file"
  local co t
  co=$(checkout a)
  build_release "${co}" "${work}/ob-a" "${work}/edit0.log" >/dev/null || {
    fail "warm build before the edit"
    return
  }
  printf '\n// Edited by tests/bazel/run.sh.\nvar _ = "%s"\n' "$(date +%s%N)" >>"${co}/tools/cmd/relkit/main.go"
  t=$(build_release "${co}" "${work}/ob-a" "${work}/edit.log") || {
    fail "rebuild after editing tools/cmd/relkit/main.go"
    return
  }
  git -C "${co}" checkout -q -- tools/cmd/relkit/main.go
  printf 'relkit edit: //:release rebuilt in %ss (relkit relinked, every package step rerun)\n' "${t}"
  pass "warm rebuild after a one-file relkit edit: ${t}s"
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(lint unit remote-cache release prebuilt workflow msitools bad-input relkit-edit)
for s in "${steps[@]}"; do
  case "${s}" in
  lint) step_lint ;;
  unit) step_unit ;;
  remote-cache) step_remote_cache ;;
  release) step_release ;;
  prebuilt) step_prebuilt ;;
  workflow) step_workflow ;;
  msitools) step_msitools ;;
  bad-input) step_bad_input ;;
  relkit-edit) step_relkit_edit ;;
  *)
    echo "unknown step ${s}" >&2
    exit 2
    ;;
  esac
done

if [ "${failures}" -gt 0 ]; then
  echo "tests/bazel: ${failures} check(s) failed" >&2
  exit 1
fi
echo "tests/bazel: all checks passed" >&2
