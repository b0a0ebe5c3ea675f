#!/usr/bin/env bash
# Times `relkit msi build` on a ~30 MB windows/amd64 executable: the size of
# a typical connector. The executable embeds real machine code (the Go
# toolchain's own tools) so the cabinet compresses it as it would a real one.
# Usage: bench/msi.sh [RUNS]   (default 3). Needs scripts/install-msi-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/relkit" ./tools/cmd/relkit

mkdir -p "$work/prog"
tools_dir="$(go env GOROOT)/pkg/tool/$(go env GOHOSTOS)_$(go env GOHOSTARCH)"
{ cat "$tools_dir"/* || true; } | head -c 28000000 >"$work/prog/blob.bin"
printf 'module blob\n\ngo 1.26\n' >"$work/prog/go.mod"
cat >"$work/prog/main.go" <<'GO'
package main

import (
	_ "embed"
	"fmt"
)

//go:embed blob.bin
var blob []byte

func main() { fmt.Println(len(blob)) }
GO
(cd "$work/prog" && GOOS=windows GOARCH=amd64 GOFLAGS=-mod=mod GOPROXY=off go build -trimpath -o "$work/baton-bench.exe" .)
size=$(stat -c %s "$work/baton-bench.exe")

best=""
for i in $(seq "$runs"); do
  start=$(date +%s.%N)
  "$work/relkit" msi build --binary "$work/baton-bench.exe" --name baton-bench --vendor Bench \
    --tag v1.0.0 --epoch 1700000000 --out "$work/out-$i.msi" >/dev/null 2>&1
  took=$(echo "$(date +%s.%N) - $start" | bc)
  echo "run $i: ${took}s" >&2
  if [ -z "$best" ] || [ "$(echo "$took < $best" | bc)" -eq 1 ]; then best=$took; fi
done
cmp -s "$work/out-1.msi" "$work/out-$runs.msi" && same=yes || same=no
printf 'msi build: executable %d bytes, msi %d bytes, best of %d: %.2fs, byte-identical: %s\n' \
  "$size" "$(stat -c %s "$work/out-1.msi")" "$runs" "$best" "$same"
