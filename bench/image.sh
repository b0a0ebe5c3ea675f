#!/usr/bin/env bash
# Benchmark: build and push the example connector's two images, the
# linux/amd64 + linux/arm64 index and the linux/arm64 Lambda image, to a
# loopback registry (distribution, from testing/oci.sh), in one run:
#
#   packaging  'relkit image build' + 'relkit image push' of the binaries
#              vs crane v0.22.1 with the same binaries and layers: tar,
#              'crane append', 'crane mutate' (platform, entrypoint, user,
#              labels), 'crane index append', 'crane tag latest'
#   source     'go build' of the three binaries + the relkit steps above
#              vs ko v0.19.1 ('ko build', which compiles too), on the same
#              base layer pushed to the registry beforehand (ko's Lambda
#              image keeps ko's entrypoint and OCI media types)
#
# Go's build cache is warmed first, so both sides of 'source' link rather
# than compile. Each run pushes to new repositories.
#
# Usage: bench/image.sh
# Env:   RUNS (default 3; the fastest run counts), RELKIT_STACK_NAME
#        (default bench-image), RELKIT_BENCH_CACHE (default
#        ~/.cache/relkit-bench: crane and ko, built once per version).
#
# Prints wall and CPU seconds per side and the ratios peer/relkit (> 1 means
# relkit is faster); on a busy machine, compare CPU. relkit compresses
# layers with gzip level 6 and writes OCI layouts that the push reads back;
# crane and ko compress at level 1 straight to the registry.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CRANE_VERSION=v0.22.1
KO_VERSION=v0.19.1
runs=${RUNS:-3}
name=baton-example
epoch=1700000000
labels=(
	"org.opencontainers.image.created=2023-11-14T22:13:20Z"
	"org.opencontainers.image.title=$name"
	"org.opencontainers.image.revision=$(printf 'c%.0s' {1..40})"
	"org.opencontainers.image.version=1.0.0"
	"org.opencontainers.image.source=https://github.com/acme/$name"
	"org.opencontainers.image.description=ConductorOne Baton connector"
)

# timed LABEL CMD...: runs CMD RUNS times with the run number in $run; sets
# wall and cpu (seconds) of the fastest run.
timed() {
	local label=$1 t w u s best_wall='' best_cpu=''; shift
	for ((run = 1; run <= runs; run++)); do
		if ! t=$(TIMEFORMAT='%R %U %S' && { time "$@" >"$work/$label.log" 2>&1; } 2>&1); then
			echo "failed: $label" >&2
			tail -n 30 "$work/$label.log" >&2
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

# report LABEL RELKIT_WALL RELKIT_CPU PEER PEER_WALL PEER_CPU [EXTRA]
report() {
	awk -v l="$1" -v rw="$2" -v rc="$3" -v p="$4" -v pw="$5" -v pc="$6" -v x="${7:-}" \
		'BEGIN { printf "%s: relkit %.2f s (cpu %.2f s), %s %.2f s (cpu %.2f s), ratio %.2fx (cpu %.2fx)%s\n", l, rw, rc, p, pw, pc, pw / rw, pc / rc, x }'
}

if [ "${1:-}" = --in-ns ]; then
	# Inside the namespace, with OCI_REGISTRY set.
	work=$2
	reg=$OCI_REGISTRY
	relkit=$work/relkit crane=$work/crane ko=$work/ko
	export GOPROXY=off # everything is in the module cache already

	relkit_images() { # BINDIR PREFIX: pushes to PREFIX-$run/...
		local repo=$reg/$2-$run/$name
		"$relkit" image build --name "$name" --tag v1.0.0 --created "$epoch" \
			--revision "$(printf 'c%.0s' {1..40})" --source "https://github.com/acme/$name" \
			--binary "linux/amd64=$1/amd64/$name" --binary "linux/arm64=$1/arm64/$name" \
			--lambda-binary "$1/lambda/$name" --ca-certs "$work/base/etc/ssl/certs/ca-certificates.crt" \
			--out "$work/$2-out-$run"
		"$relkit" image push --from "$work/$2-out-$run" --tag v1.0.0 --repo "$repo" --lambda-repo "$repo-lambda"
	}

	crane_images() {
		local r=$reg/crane-$run/$name l=() d=$work/crane-$run
		mkdir -p "$d"
		for x in "${labels[@]}"; do l+=(-l "$x"); done
		tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$epoch -cf "$d/base.tar" -C "$work/base" .
		for p in amd64 arm64 lambda; do
			tar --owner=0 --group=0 --numeric-owner --mtime=@$epoch -cf "$d/$p.tar" -C "$work/bin/$p" "$name"
		done
		for p in amd64 arm64; do
			"$crane" append --oci-empty-base -f "$d/base.tar" -f "$d/$p.tar" -t "$r:$p"
			"$crane" mutate "$r:$p" --set-platform "linux/$p" --entrypoint "/$name" -u 65532:65532 "${l[@]}" -t "$r:$p"
		done
		"$crane" index append -m "$r:amd64" -m "$r:arm64" -t "$r:1.0.0"
		"$crane" tag "$r:1.0.0" latest
		# Docker media types (crane's default empty base) for Lambda.
		"$crane" append -f "$d/base.tar" -f "$d/lambda.tar" -t "$r-lambda:1.0.0-arm64"
		"$crane" mutate "$r-lambda:1.0.0-arm64" --set-platform linux/arm64 --entrypoint "/$name,lambda" \
			-u 65532:65532 "${l[@]}" -t "$r-lambda:1.0.0-arm64"
	}

	# layer_bytes REF...: the compressed size of the layers of images and
	# indexes.
	layer_bytes() {
		local ref m d
		for ref in "$@"; do
			m=$("$crane" manifest "$ref")
			if jq -e .manifests >/dev/null <<<"$m"; then
				for d in $(jq -r '.manifests[].digest' <<<"$m"); do
					layer_bytes "${ref%:*}@$d"
				done
			else
				jq '[.layers[].size] | add' <<<"$m"
			fi
		done | awk '{ n += $1 } END { print n }'
	}
	mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

	go_binaries() { # OUTDIR: the three builds in parallel, as ko builds its platforms
		local p pids=()
		for p in amd64 arm64; do
			(cd "$root/examples/$name" && CGO_ENABLED=0 GOOS=linux GOARCH=$p go build -trimpath -o "$1/$p/$name" ./cmd/$name) &
			pids+=($!)
		done
		(cd "$root/examples/$name" && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags baton_lambda_support \
			-o "$1/lambda/$name" ./cmd/$name) &
		pids+=($!)
		for p in "${pids[@]}"; do wait "$p" || return 1; done
	}
	source_relkit() {
		go_binaries "$work/src-$run"
		relkit_images "$work/src-$run" src-relkit
	}
	source_ko() (
		l=()
		for x in "${labels[@]}"; do l+=(--image-label "$x"); done
		cd "$root/examples/$name"
		KO_DOCKER_REPO=$reg/ko-$run/$name KO_DEFAULTBASEIMAGE=$reg/ko-base:latest \
			"$ko" build --bare --sbom none --platform linux/amd64,linux/arm64 --image-user 65532:65532 "${l[@]}" \
			--tags 1.0.0,latest "./cmd/$name"
		KO_DOCKER_REPO=$reg/ko-$run/$name-lambda KO_DEFAULTBASEIMAGE=$reg/ko-base:latest \
			GOFLAGS="-buildvcs=false -tags=baton_lambda_support" \
			"$ko" build --bare --sbom none --platform linux/arm64 --image-user 65532:65532 "${l[@]}" \
			--tags 1.0.0-arm64 "./cmd/$name"
	)

	# ko's base: the same base layer, one image per platform.
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$epoch -cf "$work/ko-base.tar" -C "$work/base" .
	for p in amd64 arm64; do
		"$crane" append --oci-empty-base -f "$work/ko-base.tar" -t "$reg/ko-base:$p"
		"$crane" mutate "$reg/ko-base:$p" --set-platform "linux/$p" -t "$reg/ko-base:$p"
	done >/dev/null 2>&1
	"$crane" index append -m "$reg/ko-base:amd64" -m "$reg/ko-base:arm64" -t "$reg/ko-base:latest" >/dev/null 2>&1
	go_binaries "$work/warm" >/dev/null # warm Go's build cache for both sides

	timed relkit relkit_images "$work/bin" relkit
	rw=$wall rc=$cpu
	timed crane crane_images
	pushed=", layers pushed: relkit $(mb "$(layer_bytes "$reg/relkit-1/$name:1.0.0" "$reg/relkit-1/$name-lambda:1.0.0-arm64")") MB,"
	pushed+=" crane $(mb "$(layer_bytes "$reg/crane-1/$name:1.0.0" "$reg/crane-1/$name-lambda:1.0.0-arm64")") MB"
	report "packaging (same binaries)" "$rw" "$rc" crane "$wall" "$cpu" "$pushed"

	timed source-relkit source_relkit
	rw=$wall rc=$cpu
	timed ko source_ko
	report "from source (go build + image)" "$rw" "$rc" "ko build" "$wall" "$cpu"

	# What was pushed is what each side claims: both platforms, and a
	# Docker v2 Lambda manifest from relkit.
	"$crane" manifest "$reg/relkit-1/$name:1.0.0" | grep -q '"architecture":"arm64"' ||
		{ echo "relkit index lacks arm64" >&2; exit 1; }
	"$crane" manifest "$reg/relkit-1/$name-lambda:1.0.0-arm64" | grep -q 'application/vnd.docker.distribution.manifest.v2+json' ||
		{ echo "relkit Lambda image is not Docker v2" >&2; exit 1; }
	exit 0
fi

export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-bench-image}
. "$root/testing/lib.sh"
. "$root/testing/oci.sh"
TOOLS_CACHE=${RELKIT_BENCH_CACHE:-$HOME/.cache/relkit-bench} # for go_tool
work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-bench-image.XXXXXX")
trap 'oci_down; netns_down; rm -rf "$work"' EXIT

echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:    $(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "go:     $(go version | cut -d' ' -f3)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (start)"

(cd "$root" && go build -o "$work/relkit" ./tools/cmd/relkit)
cp "$(go_tool crane "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane)" "$work/crane"
cp "$(go_tool ko "$KO_VERSION" github.com/google/ko)" "$work/ko"

# The example's binaries, and the default base's files for crane and ko.
(
	cd "$root/examples/$name"
	for p in amd64 arm64; do
		CGO_ENABLED=0 GOOS=linux GOARCH=$p go build -trimpath -o "$work/bin/$p/$name" ./cmd/$name
	done
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags baton_lambda_support -o "$work/bin/lambda/$name" ./cmd/$name
)
mkdir -p "$work/base/etc/ssl/certs" "$work/base/tmp" "$work/base/home/nonroot"
chmod 1777 "$work/base/tmp"
cp /etc/ssl/certs/ca-certificates.crt "$work/base/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$work/base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$work/base/etc/group"
echo "binaries: $(du -ch "$work/bin"/*/"$name" | tail -1 | cut -f1) (linux/amd64, linux/arm64, Lambda linux/arm64); runs: $runs, fastest counts"

netns_up
oci_up
set -a; eval "$(oci_env)"; set +a
in_ns env OCI_REGISTRY="$OCI_REGISTRY" RUNS="$runs" bash "$0" --in-ns "$work"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (end)"
