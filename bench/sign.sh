#!/usr/bin/env bash
# Benchmark: sign and attest a 30-artifact release against the local
# Sigstore stack, with 'relkit sign' (one certificate, parallel signatures)
# and with the loop the previous pipeline ran (per artifact: cosign
# sign-blob, then attest-blob for the provenance and for the SBOM), in the
# same run, against the same servers. Prints both times and the ratio.
#
# Environment: BENCH_ARTIFACTS (default 30), BENCH_SIZE_KB (default 1024),
# RELKIT_STACK_NAME (default bench).
set -euo pipefail
cd "$(dirname "$0")/.."
export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-bench}
n=${BENCH_ARTIFACTS:-30}
size_kb=${BENCH_SIZE_KB:-1024}

if [ "${1:-}" = --in-stack ]; then
	# Inside the namespace, with the stack's environment.
	work=$2
	now_ms() { date +%s%3N; }
	token() {
		curl -sf -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
			"$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" | jq -r .value
	}
	printf %s "$(token)" >"$work/token"

	t0=$(now_ms)
	"$work/relkit" sign --trusted-root "$SIGSTORE_TRUSTED_ROOT" --signing-config "$SIGSTORE_SIGNING_CONFIG" \
		--identity-token-file "$work/token" "$work/relkit-tree" 2>"$work/relkit.log" ||
		{ cat "$work/relkit.log" >&2; exit 1; }
	relkit_ms=$(( $(now_ms) - t0 ))

	tree=$work/cosign-tree
	jq .predicate "$tree/provenance.intoto.json" >"$work/predicate.json"
	cosign() {
		"$COSIGN" "$@" --yes --trusted-root "$SIGSTORE_TRUSTED_ROOT" --signing-config "$SIGSTORE_SIGNING_CONFIG" \
			--identity-token "$work/token" >>"$work/cosign.out" 2>>"$work/cosign.log" ||
			{ tail -n 20 "$work/cosign.log" >&2; exit 1; }
	}
	t0=$(now_ms)
	for a in $(awk '{print $2}' "$tree"/*_checksums.txt); do
		cosign sign-blob --bundle "$tree/$a.sigstore.json" "$tree/$a"
		cosign attest-blob --type slsaprovenance1 --predicate "$work/predicate.json" \
			--bundle "$tree/$a.provenance.sigstore.json" "$tree/$a"
		cosign attest-blob --type https://spdx.dev/Document --predicate "$tree/$a.sbom.json" \
			--bundle "$tree/$a.sbom.sigstore.json" "$tree/$a"
	done
	cosign_ms=$(( $(now_ms) - t0 ))

	echo "artifacts:              $n x ${size_kb} KiB"
	echo "relkit sign:            $relkit_ms ms ($(grep -c '^sign: signed' "$work/relkit.log") signatures, one certificate)"
	echo "cosign loop:            $cosign_ms ms ($(( n * 3 )) cosign runs, one certificate each)"
	awk -v c="$cosign_ms" -v r="$relkit_ms" 'BEGIN { printf "ratio cosign/relkit:    %.1fx\n", c / r }'
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-bench-sign.XXXXXX")
trap 'testing/stack down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
go build -o "$work/relkit" ./tools/cmd/relkit

# A synthetic release: n archives of random bytes with SPDX documents, the
# checksums file and one provenance statement over all of them.
tree=$work/relkit-tree
mkdir -p "$tree"
subjects=()
for i in $(seq -w 1 "$n"); do
	a=bench-v1.0.0-part$i.tar.gz
	head -c "$((size_kb * 1024))" /dev/urandom >"$tree/$a"
	sum=$(sha256sum "$tree/$a" | cut -d' ' -f1)
	printf '{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"%s","documentNamespace":"https://spdx.relkit.dev/%s-sha256-%s","packages":[]}\n' \
		"$a" "$a" "$sum" >"$tree/$a.sbom.json"
	subjects+=(--subject "$tree/$a")
done
"$work/relkit" checksums --out "$tree/bench_1.0.0_checksums.txt" "$tree"/*.tar.gz
"$work/relkit" provenance --out "$tree/provenance.intoto.json" "${subjects[@]}" \
	--repository ConductorOne/bench --tag v1.0.0 --commit "$(printf 'ab%.0s' {1..20})"
cp -R "$tree" "$work/cosign-tree"

testing/stack up
testing/stack exec -- bash "$0" --in-stack "$work"
