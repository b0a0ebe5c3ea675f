#!/usr/bin/env bash
# Times relkit's packaging verbs against the usual tools on the same inputs:
#   relkit checksums             vs  sha256sum
#   relkit archive --format tar.gz  vs  tar czf (gzip -6, its default)
#   relkit archive --format zip     vs  zip -q -X (if installed; -6 default)
# Inputs are a few 100-250 MB files made of the Go toolchain's own binaries,
# so hashing and compression see data like release artifacts.
#
# Usage: bench/packaging.sh          (from anywhere in the repository)
# Env:   SIZES_MB="100 150 250"      input file sizes (MB = 10^6 bytes)
#        RUNS=1                      runs per tool; the fastest counts
#
# Prints one line per comparison: MB/s by wall-clock time, the ratio
# relkit/peer (> 1 means relkit is faster), CPU seconds and output sizes.
# The machine's load is printed too: on a busy machine, compare CPU times.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
read -ra sizes <<<"${SIZES_MB:-100 150 250}"
runs=${RUNS:-1}

work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/in" "$work/out"

echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:    $(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "go:     $(go version | cut -d' ' -f3)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (start)"

echo "building relkit..." >&2
(cd "$root" && go build -o "$work/relkit" ./tools/cmd/relkit)
relkit=$work/relkit

# A pool of real Go binaries, repeated and cut to each size.
goroot=$(go env GOROOT)
find "$goroot/pkg/tool" "$goroot/bin" -type f -perm -u+x -print0 | sort -z | xargs -0 cat >"$work/pool"
pool_size=$(stat -c %s "$work/pool")
inputs=()
total=0
for i in "${!sizes[@]}"; do
  name="artifact-$i.bin"
  bytes=$((sizes[i] * 1000000))
  for ((n = 0; n * pool_size < bytes; n++)); do cat "$work/pool"; done >"$work/in/$name"
  truncate -s "$bytes" "$work/in/$name"
  chmod 0755 "$work/in/$name"
  inputs+=("$name")
  total=$((total + bytes))
done
echo "inputs: ${#inputs[@]} files, $((total / 1000000)) MB (${sizes[*]} MB)"
cat "$work/in"/* >/dev/null # warm the page cache

# timed CMD...: runs CMD in the input directory RUNS times; sets wall and cpu
# (seconds) of the fastest run.
wall='' cpu=''
timed() {
  local t w u s best_wall='' best_cpu=''
  for ((r = 0; r < runs; r++)); do
    if ! t=$(cd "$work/in" && TIMEFORMAT='%R %U %S' && { time "$@" >"$work/log" 2>&1; } 2>&1); then
      echo "failed: $*" >&2
      cat "$work/log" >&2
      exit 1
    fi
    read -r w u s <<<"$t"
    if [[ -z $best_wall ]] || awk -v a="$w" -v b="$best_wall" 'BEGIN{exit !(a < b)}'; then
      best_wall=$w
      best_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u + s}')
    fi
  done
  wall=$best_wall cpu=$best_cpu
}

mbps() { awk -v b="$total" -v s="$1" 'BEGIN{printf "%.0f", b / 1e6 / s}'; }
size_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f", b / 1e6}'; }

# report LABEL RELKIT_WALL RELKIT_CPU PEER PEER_WALL PEER_CPU [RELKIT_OUT PEER_OUT]
report() {
  local label=$1 rw=$2 rc=$3 peer=$4 pw=$5 pc=$6
  local ratio extra=""
  ratio=$(awk -v r="$rw" -v p="$pw" 'BEGIN{printf "%.2f", p / r}')
  if [[ $# -ge 8 ]]; then
    extra=", output relkit $(size_mb "$7") MB, $peer $(size_mb "$8") MB"
  fi
  echo "$label: relkit $(mbps "$rw") MB/s, $peer $(mbps "$pw") MB/s, ratio ${ratio}x (cpu relkit ${rc} s, $peer ${pc} s$extra)"
}

out=$work/out

timed sha256sum "${inputs[@]}"
sw=$wall sc=$cpu
timed "$relkit" checksums --out "$out/relkit-sums.txt" "${inputs[@]}"
report checksums "$wall" "$cpu" sha256sum "$sw" "$sc"
(cd "$work/in" && sha256sum "${inputs[@]}") | sort -k2 | cmp -s - "$out/relkit-sums.txt" ||
  { echo "relkit and sha256sum disagree" >&2; exit 1; }

timed tar czf "$out/peer.tar.gz" "${inputs[@]}"
tw=$wall tc=$cpu
timed "$relkit" archive --format tar.gz --mtime 1700000000 --out "$out/relkit.tar.gz" "${inputs[@]}"
report tar.gz "$wall" "$cpu" "tar czf" "$tw" "$tc" "$out/relkit.tar.gz" "$out/peer.tar.gz"

if command -v zip >/dev/null; then
  # zip adds to an existing archive: start from none in every run.
  zip_new() { rm -f "$out/peer.zip" && zip -q -X "$out/peer.zip" "$@"; }
  timed zip_new "${inputs[@]}"
  zw=$wall zc=$cpu
  timed "$relkit" archive --format zip --mtime 1700000000 --out "$out/relkit.zip" "${inputs[@]}"
  report zip "$wall" "$cpu" "zip -q -X" "$zw" "$zc" "$out/relkit.zip" "$out/peer.zip"
else
  echo "zip: skipped (zip not installed)"
fi
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (end)"
