#!/usr/bin/env bash
# Times `bazel build //:release` of examples/baton-example against GoReleaser
# OSS v2.15.1 making the same six archives, checksums and syft SBOMs, and
# against the physical floor: plain `go build -trimpath` of the six targets.
# Everything runs in one go on this machine; the ratios are what count.
#
# //:release also builds what GoReleaser OSS cannot: the two MSIs
# (connector_release's msi attribute) and the OCI images, with a seventh
# binary (the Lambda variant, which brings in net/http). The MSI actions'
# share of each Bazel build is read from Bazel's JSON profile and printed.
# For a like-for-like cold figure, a second connector_release of the same
# binary without msi and image (the six archives, their SBOMs, checksums,
# provenance and manifest: what GoReleaser makes) is built cold as well,
# with the pinned Go SDK (unpacked by the prebuilt relkit into the fresh
# output base, as on a new machine) and with the host's Go
# (RELKIT_HOST_GO=1), the installation GoReleaser and the floor build with.
#
#   bench/bazel.sh
#   RELKIT_BENCH_KEEP=/tmp/profiles bench/bazel.sh   # also keep Bazel's profiles
#   RELKIT_BENCH_COLD_RUNS=5 bench/bazel.sh          # samples of each (default 3)
#
# Cold builds are sampled several times, the contenders interleaved so that a
# change in the machine's load hits each alike; warm and edit builds as often;
# ratios use the medians.
#
# Bazel uses a prebuilt relkit through the relkit_prebuilt toolchain, which
# also runs its build actions (as in a connector repository); GoReleaser uses
# a prebuilt syft CLI. Both are built before any timing, into
# $HOME/.cache/relkit-bench. "Cold" means an empty Go build cache for every
# contender and, for Bazel, a fresh output base.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BAZEL=${BAZEL:-bazel-4}
GORELEASER_VERSION=v2.15.1
SYFT_VERSION=v1.57.1
cache=${HOME}/.cache/relkit-bench
work=$(mktemp -d /tmp/relkit-bench-bazel.XXXXXX)
ob=${work}/output-base
runs=${RELKIT_BENCH_COLD_RUNS:-3}
case "${runs}" in
'' | *[!0-9]* | 0)
  echo "bench: RELKIT_BENCH_COLD_RUNS=${runs}: want a positive number of cold samples" >&2
  exit 2
  ;;
esac
cleanup() {
  local o
  for o in "${ob}" "${work}"/ob-*; do
    if [ -d "${o}" ]; then "${BAZEL}" --output_base="${o}" shutdown >/dev/null 2>&1 || true; fi
  done
  if [ -n "${RELKIT_BENCH_KEEP:-}" ]; then
    mkdir -p "${RELKIT_BENCH_KEEP}"
    cp "${work}"/*.profile.json "${RELKIT_BENCH_KEEP}/" 2>/dev/null || true
  fi
  chmod -R u+w "${work}" 2>/dev/null || true
  rm -rf "${work}"
}
trap cleanup EXIT
export RELKIT_GOMODCACHE=${RELKIT_GOMODCACHE:-${HOME}/.cache/relkit-go/mod}

# --- tools, built before timing --------------------------------------------
mkdir -p "${cache}/bin"
if [ ! -x "${cache}/bin/goreleaser" ]; then
  echo "bench: go install goreleaser ${GORELEASER_VERSION}" >&2
  GOBIN=${cache}/bin go install "github.com/goreleaser/goreleaser/v2@${GORELEASER_VERSION}"
fi
if [ ! -x "${cache}/bin/syft" ]; then
  echo "bench: go install syft ${SYFT_VERSION}" >&2
  GOBIN=${cache}/bin go install "github.com/anchore/syft/cmd/syft@${SYFT_VERSION}"
fi
export PATH=${cache}/bin:${PATH}
echo "bench: building relkit for the prebuilt toolchain" >&2
mkdir -p "${work}/relkit-dist"
(cd "${root}" && CGO_ENABLED=0 go build -trimpath -buildvcs=false "-ldflags=-s -w -buildid=" -o "${work}/relkit-dist/relkit" ./tools/cmd/relkit)

# --- the example, as a connector repository with a prebuilt relkit ----------
ex=${work}/baton-example
cp -r "${root}/examples/baton-example" "${ex}"
rm -f "${ex}"/bazel-*
sed -i "s|path = \"../..\"|path = \"${root}\"|" "${ex}/WORKSPACE.bazel"
"${root}/testing/prebuilt-relkit.sh" "${ex}" "${work}/relkit-dist/relkit" "${work}" bench
cat >>"${ex}/BUILD.bazel" <<'BUILD'

# bench/bazel.sh: what GoReleaser OSS makes, for a like-for-like cold build.
connector_release(
    name = "release_same",
    binary = ":baton-example",
    org = "ConductorOne",
    repo = "baton-example",
)
BUILD
(cd "${ex}" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@relkit.invalid commit -q -m bench)

# use_caches NAME: an empty Go build cache and disk cache for the next builds.
use_caches() {
  gocache=${work}/gocache-$1
  flags=(--config=release --@relkit//release:tag=v1.2.3 "--@relkit//release:gocache=${gocache}" "--disk_cache=${work}/disk-cache-$1")
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }
now() { date +%s.%N; }
# bazel_build NAME [TARGET [OUTPUT_BASE]]: builds TARGET (default //:release)
# in OUTPUT_BASE (default ${ob}), writing Bazel's profile to NAME.profile.json.
bazel_build() { (cd "${ex}" && "${BAZEL}" --output_base="${3:-${ob}}" build "${flags[@]}" --profile="${work}/$1.profile.json" "${2:-//:release}" >"${work}/bazel.log" 2>&1) || {
  tail -30 "${work}/bazel.log" >&2
  exit 1
}; }
# msi_share NAME SECONDS: the MSI actions in NAME's profile: their count, their
# summed time, its share of all action time and of the build's wall time.
msi_share() {
  jq -r --argjson wall "$2" '
    [.traceEvents[] | select(.cat == "action processing")] as $all
    | [$all[] | select(.name | startswith("Relkit msi build"))] as $msi
    | ([$msi[].dur] | add // 0) as $m | ([$all[].dur] | add // 0) as $a
    | "\($msi | length) actions, \($m / 1e4 | round / 100) s = \(if $a > 0 then $m / $a * 1000 | round / 10 else 0 end)% of action time, \($m / 1e4 / $wall | round)% of wall"' \
    "${work}/$1.profile.json"
}
# sdk_fetch NAME: seconds the pinned Go SDK's repository took in NAME's profile
# (download from the repository cache and extraction: disk-bound, and the
# noisiest part of a cold build here).
sdk_fetch() {
  jq -r '[.traceEvents[] | select(.name == "//external:relkit_go_sdk") | .dur] | add // 0 | . / 1e4 | round / 100' "${work}/$1.profile.json"
}
# A code change that changes every binary, so everything downstream reruns too.
go_edit='func init() { if len(os.Args) > 1000 { println("bench edit") } }'
edit_go() { printf '\n%s\n' "${go_edit}" >>"$1/cmd/baton-example/main.go"; }

# median N...: the middle value (the mean of the two middle ones).
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# cold_bazel NAME TARGET [FLAGS...]: seconds of a cold build of TARGET in a
# fresh output base with empty caches, all removed afterwards.
cold_bazel() {
  local o=${work}/ob-$1 t s
  use_caches "$1"
  flags+=("${@:3}")
  t=$(now); bazel_build "$1" "$2" "${o}"; s=$(secs "${t}" "$(now)")
  (cd "${ex}" && "${BAZEL}" --output_base="${o}" shutdown >/dev/null 2>&1)
  chmod -R u+w "${o}" && rm -rf "${o}" "${gocache}" "${work}/disk-cache-$1"
  echo "${s}"
}

echo "bench: Bazel" >&2
use_caches cold
t=$(now); bazel_build cold; bazel_cold=$(secs "${t}" "$(now)")
t=$(now); bazel_build noop; bazel_noop=$(secs "${t}" "$(now)")
# Warm and edit builds take seconds, so one sample is at the mercy of the
# machine's load: they are sampled as often as the cold ones, medians used.
bazel_warms=() bazel_edits=()
for i in $(seq "${runs}"); do
  (cd "${ex}" && "${BAZEL}" --output_base="${ob}" clean >/dev/null 2>&1)
  t=$(now); bazel_build "warm${i}"; bazel_warms+=("$(secs "${t}" "$(now)")")
done
for i in $(seq "${runs}"); do
  edit_go "${ex}"
  t=$(now); bazel_build "edit${i}"; bazel_edits+=("$(secs "${t}" "$(now)")")
done
bazel_warm=$(median "${bazel_warms[@]}") bazel_edit=$(median "${bazel_edits[@]}")
printf '\nbench edit\n' >>"${ex}/docs/connector.mdx"
t=$(now); bazel_build docs; bazel_docs=$(secs "${t}" "$(now)")
msi_cold=$(msi_share cold "${bazel_cold}")
msi_edit=$(msi_share edit1 "${bazel_edits[0]}")
(cd "${ex}" && git checkout -q -- . && "${BAZEL}" --output_base="${ob}" shutdown >/dev/null 2>&1)

echo "bench: Bazel, GoReleaser's outputs only" >&2
bazel_same=$(cold_bazel same //:release_same)
# The same with the Go installation GoReleaser and the floor use (the host SDK
# opt-in) rather than extracting the pinned SDK: the build tools alone compared.
host_go=(--repo_env=RELKIT_HOST_GO=1)
bazel_host=$(cold_bazel host //:release_same "${host_go[@]}")

echo "bench: GoReleaser" >&2
gr=${work}/goreleaser
cp -r "${ex}" "${gr}"
rm -rf "${gr}"/bazel-*
cat >"${gr}/.goreleaser.yaml" <<'EOF'
version: 2
project_name: baton-example
builds:
  - main: ./cmd/baton-example
    binary: baton-example
    env: [CGO_ENABLED=0]
    flags: [-trimpath]
    goos: [darwin, linux, windows]
    goarch: [amd64, arm64]
archives:
  - formats: [tar.gz]
    name_template: "{{ .ProjectName }}-v{{ .Version }}-{{ .Os }}-{{ .Arch }}"
    format_overrides:
      - goos: darwin
        formats: [zip]
      - goos: windows
        formats: [zip]
    files: [none*]
checksum:
  name_template: "{{ .ProjectName }}_{{ .Version }}_checksums.txt"
sboms:
  - artifacts: archive
changelog:
  disable: true
release:
  disable: true
EOF
(cd "${gr}" && git add -A && git -c user.name=bench -c user.email=bench@relkit.invalid commit -q -m goreleaser && git tag v1.2.3)
# gr_run GOCACHE: one `goreleaser release` with that Go build cache.
gr_run() { (cd "${gr}" && GOCACHE=$1 goreleaser release --snapshot --clean --skip=publish,sign >"${work}/gr.log" 2>&1) || {
  tail -30 "${work}/gr.log" >&2
  exit 1
}; }
t=$(now); gr_run "${work}/gr-gocache"; gr_cold=$(secs "${t}" "$(now)")
gr_warms=() gr_edits=()
for _ in $(seq "${runs}"); do
  t=$(now); gr_run "${work}/gr-gocache"; gr_warms+=("$(secs "${t}" "$(now)")")
done
for _ in $(seq "${runs}"); do
  edit_go "${gr}"
  t=$(now); gr_run "${work}/gr-gocache"; gr_edits+=("$(secs "${t}" "$(now)")")
done
gr_warm=$(median "${gr_warms[@]}") gr_edit=$(median "${gr_edits[@]}")
git -C "${gr}" checkout -q -- .

# cold_gr NAME: seconds of GoReleaser with an empty Go build cache.
cold_gr() {
  local t s
  t=$(now); gr_run "${work}/gr-gocache-$1"; s=$(secs "${t}" "$(now)")
  rm -rf "${work}/gr-gocache-$1"
  echo "${s}"
}

# cold_floor NAME: seconds of plain `go build -trimpath` of the six targets,
# one after another, with an empty Go build cache.
cold_floor() {
  local t s p
  t=$(now)
  for p in darwin/amd64 darwin/arm64 linux/amd64 linux/arm64 windows/amd64 windows/arm64; do
    (cd "${ex}" && GOCACHE=${work}/floor-gocache-$1 CGO_ENABLED=0 GOOS=${p%/*} GOARCH=${p#*/} go build -trimpath -o "${work}/floor/${p/\//-}/" ./cmd/baton-example)
  done
  s=$(secs "${t}" "$(now)")
  rm -rf "${work}/floor-gocache-$1"
  echo "${s}"
}

echo "bench: plain go build floor" >&2
floor=$(cold_floor 1)

bazel_colds=("${bazel_cold}") same_colds=("${bazel_same}") host_colds=("${bazel_host}") gr_colds=("${gr_cold}") floors=("${floor}")
sdk_secs=("$(sdk_fetch same)")
for ((i = 2; i <= runs; i++)); do
  echo "bench: cold sample ${i} of ${runs}" >&2
  same_colds+=("$(cold_bazel "same${i}" //:release_same)")
  sdk_secs+=("$(sdk_fetch "same${i}")")
  host_colds+=("$(cold_bazel "host${i}" //:release_same "${host_go[@]}")")
  gr_colds+=("$(cold_gr "${i}")")
  floors+=("$(cold_floor "${i}")")
  bazel_colds+=("$(cold_bazel "cold${i}" //:release)")
done
bazel_cold=$(median "${bazel_colds[@]}")
bazel_same=$(median "${same_colds[@]}")
bazel_host=$(median "${host_colds[@]}")
gr_cold=$(median "${gr_colds[@]}")
floor=$(median "${floors[@]}")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
cat <<EOF

machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)
cold samples, in run order (seconds):
  bazel //:release                 ${bazel_colds[*]}
  bazel, GoReleaser's outputs      ${same_colds[*]}
    of which fetching the pinned SDK ${sdk_secs[*]}
  the same with the host's Go      ${host_colds[*]}
  goreleaser                       ${gr_colds[*]}
  plain go build floor             ${floors[*]}
warm and edit samples (seconds):
  bazel warm after clean           ${bazel_warms[*]}
  goreleaser warm                  ${gr_warms[*]}
  bazel after one Go file edit     ${bazel_edits[*]}
  goreleaser after the same edit   ${gr_edits[*]}

                                   seconds   ratio                          goal
bazel cold (fresh output base)     ${bazel_cold}   (median of ${runs})
goreleaser cold                    ${gr_cold}   (median of ${runs})
plain go build floor (cold)        ${floor}   (median of ${runs})
  bazel cold / goreleaser cold               $(ratio "${bazel_cold}" "${gr_cold}")                           <= 1
  bazel cold / go build floor                $(ratio "${bazel_cold}" "${floor}")                           <= 1.1
bazel cold, GoReleaser's outputs   ${bazel_same}   (median of ${runs})
  (no Lambda binary, MSIs or images)
  bazel same / goreleaser cold               $(ratio "${bazel_same}" "${gr_cold}")                           <= 1
  bazel same / go build floor                $(ratio "${bazel_same}" "${floor}")                           <= 1.1
bazel cold, the same, host's Go    ${bazel_host}   (median of ${runs})
  (RELKIT_HOST_GO=1: the Go installation GoReleaser and the floor use)
  bazel host / goreleaser cold               $(ratio "${bazel_host}" "${gr_cold}")                           <= 1
  bazel host / go build floor                $(ratio "${bazel_host}" "${floor}")                           <= 1.1
bazel warm after clean (disk)      ${bazel_warm}   (median of ${runs})
goreleaser warm                    ${gr_warm}   (median of ${runs})
  goreleaser warm / bazel warm               $(ratio "${gr_warm}" "${bazel_warm}")                           >= 5
bazel after one Go file edit       ${bazel_edit}   (median of ${runs})
goreleaser after the same edit     ${gr_edit}   (median of ${runs})
  bazel edit / goreleaser edit               $(ratio "${bazel_edit}" "${gr_edit}")                           <= 0.7
bazel after a docs-only edit       ${bazel_docs}                                     < 2 s
bazel no-op                        ${bazel_noop}                                     < 1 s

MSI stage (two installers, in every Bazel build above):
  cold                             ${msi_cold}
  after the Go edit                ${msi_edit}
note: GoReleaser builds no MSI here: MSI packaging is a GoReleaser Pro
feature, absent from the OSS release benchmarked, and the pipeline relkit
replaces builds its installers on a Windows runner. Bazel's times include
the two MSIs (and the OCI images); GoReleaser's do not.
EOF
