#!/usr/bin/env bash
# End-to-end test of 'relkit sign': builds the example release tree with the
# engine (scripts/build-example-tree.sh), starts the local Sigstore stack in its
# own network namespace, runs tests/sigstore inside it (real Fulcio,
# TesseraCT, Rekor v2, TSA; cosign as the independent verifier), and stops
# the stack whatever happens. Prints the time of each step.
#
# Environment: RELKIT_STACK_NAME (default e2e-sigstore) names the stack, so
# this can run beside a development stack.
set -euo pipefail
cd "$(dirname "$0")/../.."
export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-e2e-sigstore}

now_ms() { date +%s%3N; }
t_all=$(now_ms)
step() { # step NAME CMD...: runs CMD and prints how long it took
	local name=$1 t0; shift; t0=$(now_ms)
	"$@"
	echo "sigstore-e2e: $name: $(( $(now_ms) - t0 )) ms" >&2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-sigstore-e2e.XXXXXX")
trap 'testing/stack down || true; rm -rf "$work"' EXIT

build() {
	go build -o "$work/relkit" ./tools/cmd/relkit
	# The test binary is built outside the namespace, which has no route to
	# the module proxy.
	go test -c -o "$work/sigstore.test" ./tests/sigstore
}
tree() {
	scripts/build-example-tree.sh >"$work/release-example.log" 2>&1 || { cat "$work/release-example.log" >&2; return 1; }
	local src
	src=$(ls -d dist/releases/*/baton-example/* | head -n 1)
	cp -R "$src" "$work/tree"
}

step "build relkit and test" build
step "engine release tree" tree
step "stack up" testing/stack up
step "tests" testing/stack exec -- env RELKIT="$work/relkit" RELEASE_TREE="$work/tree" \
	"$work/sigstore.test" -test.count=1 -test.v -test.timeout=15m
step "stack down" testing/stack down
trap 'rm -rf "$work"' EXIT
echo "sigstore-e2e: total: $(( $(now_ms) - t_all )) ms" >&2
