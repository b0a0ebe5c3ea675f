#!/usr/bin/env bash
# Benchmark: publish and verify the example release on the local stack
# (versitygw, the Sigstore stack), with 'relkit publish' (parallel
# write-once uploads, then its verify step) and with the previous
# pipeline's approach, in the same run against the same servers: one
# upload at a time (a SigV4-signed curl PUT per file, as 'aws s3 cp' per
# file did), then the validation script of the reference (one HEAD and one
# download per asset, one cosign process per signature, provenance and SBOM
# check, then the manifest's signature). Both start from the same tree,
# signed once beforehand (signing is benchmarked by bench/sign.sh). Prints
# both times and the ratio.
#
# Environment: TAG (default v0.1.0), RELKIT_STACK_NAME (default bench-publish).
set -euo pipefail
cd "$(dirname "$0")/.."
export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-bench-publish}
TAG=${TAG:-v0.1.0}
ORG=ConductorOne REPO=baton-example
workflow_ref=refs/tags/v1.0.0

if [ "${1:-}" = --in-stack ]; then
	# Inside the namespace, with the stack's environment.
	work=$2
	tree=$work/tree
	now_ms() { date +%s%3N; }
	commit=$(printf 'ab%.0s' {1..20})
	curl -sf "${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=sigstore&repository=$ORG/$REPO&ref=refs/tags/$TAG&sha=$commit&job_workflow_ref=relkit/relkit/.github/workflows/release.yaml@$workflow_ref" \
		-H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" | jq -r .value >"$work/token"
	"$work/relkit" sign --trusted-root "$SIGSTORE_TRUSTED_ROOT" --signing-config "$SIGSTORE_SIGNING_CONFIG" \
		--identity-token-file "$work/token" "$tree" 2>"$work/sign.log" || { cat "$work/sign.log" >&2; exit 1; }

	# relkit: upload everything in parallel, write-once, then verify it all.
	# The tree is built outside the release workflow: its provenance names
	# relkit's local builder.
	t0=$(now_ms)
	"$work/relkit" publish --dir "$tree" --org "$ORG" --repo "$REPO" --tag "$TAG" --work-dir "$work/stage" \
		--sign none --trusted-root "$SIGSTORE_TRUSTED_ROOT" --certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER" \
		--workflow-ref "$workflow_ref" --builder-id https://relkit.dev/provenance/local-builder/v1 --registry-url= --json >"$work/publish.json" 2>"$work/publish.log" ||
		{ tail -n 30 "$work/publish.log" >&2; exit 1; }
	relkit_ms=$(( $(now_ms) - t0 ))
	checks=$(sed -n 's/.*verified .*: \([0-9]*\) checks passed/\1/p' "$work/publish.log")

	# The reference: the same files, one PUT at a time, under another prefix.
	dir=releases/$ORG/$REPO/$TAG
	mapfile -t files < <(jq -r '.Uploaded[]' "$work/publish.json" | sed 's|.*/||')
	ref=$RELKIT_BASE_URL/reference/$dir
	put() {
		local f=$1 sum type=application/octet-stream
		sum=$(sha256sum "$work/stage/$f" | cut -d' ' -f1)
		case $f in *.json) type=application/json ;; *.txt) type=text/plain ;; esac
		curl -sS -f -o /dev/null -X PUT --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $sum" \
			-H "Content-Type: $type" -H "Cache-Control: public,max-age=31536000,immutable" \
			--data-binary "@$work/stage/$f" "$RELKIT_S3_ENDPOINT/$RELKIT_BUCKET/reference/$dir/$f"
	}
	identity=(--certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER"
		--certificate-identity-regexp 'https://github.com/relkit/relkit/.github/workflows/release.yaml@.*'
		--trusted-root "$SIGSTORE_TRUSTED_ROOT")
	cosign() { "$COSIGN" "$@" "${identity[@]}" >>"$work/cosign.log" 2>&1 || { tail -n 20 "$work/cosign.log" >&2; exit 1; }; }
	dl=$work/download
	mkdir -p "$dl"
	t0=$(now_ms)
	for f in "${files[@]}"; do put "$f"; done
	upload_ms=$(( $(now_ms) - t0 ))
	passed=0
	curl -sfL "$ref/manifest.json" -o "$dl/manifest.json"
	[ "$(jq -r .semver "$dl/manifest.json")" = "$TAG" ] && passed=$((passed + 1))
	for key in $(jq -r '.assets | keys[]' "$dl/manifest.json"); do
		name=$(jq -r --arg k "$key" '.assets[$k].filename' "$dl/manifest.json")
		curl -sfIL "$ref/$name" >/dev/null
		curl -sfL "$ref/$name" -o "$dl/$name"
		curl -sfL "$ref/$name.sigstore.json" -o "$dl/$name.sigstore.json"
		cosign verify-blob --bundle "$dl/$name.sigstore.json" "$dl/$name"
		curl -sfL "$ref/$name.provenance.sigstore.json" -o "$dl/$name.prov.json"
		cosign verify-blob-attestation --bundle "$dl/$name.prov.json" --type slsaprovenance1 "$dl/$name"
		passed=$((passed + 3))
		if [ "$key" != checksums ]; then
			curl -sfL "$ref/$name.sbom.sigstore.json" -o "$dl/$name.sbom.json"
			cosign verify-blob-attestation --bundle "$dl/$name.sbom.json" --type https://spdx.dev/Document "$dl/$name"
			passed=$((passed + 1))
		fi
		rm -f "$dl/$name"
	done
	curl -sfL "$ref/manifest.json.sigstore.json" -o "$dl/manifest.json.sigstore.json"
	cosign verify-blob --bundle "$dl/manifest.json.sigstore.json" "$dl/manifest.json"
	passed=$((passed + 1))
	reference_ms=$(( $(now_ms) - t0 ))

	echo "release:                $ORG/$REPO $TAG, ${#files[@]} objects, $(du -sk "$tree" | cut -f1) KiB"
	echo "relkit publish+verify:  $relkit_ms ms (parallel write-once uploads, $checks checks)"
	echo "reference:              $reference_ms ms ($upload_ms ms sequential uploads, then $passed checks with $(grep -c 'Verified OK' "$work/cosign.log") cosign runs)"
	awk -v a="$reference_ms" -v b="$relkit_ms" 'BEGIN { printf "ratio reference/relkit: %.1fx\n", a / b }'
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-bench-publish.XXXXXX")
trap 'testing/stack down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
go build -trimpath -o "$work/relkit" ./tools/cmd/relkit
testing/stack down >/dev/null 2>&1 || true
testing/stack up >&2
set -a
# shellcheck source=/dev/null # written by testing/stack up
. "/tmp/relkit-stack-$RELKIT_STACK_NAME/env"
set +a
# The example release with URLs of the local S3 server.
BASE_URL=$RELKIT_BASE_URL TAG=$TAG ORG=$ORG scripts/build-example-tree.sh >/dev/null 2>&1
cp -R "dist/releases/$ORG/$REPO/$TAG" "$work/tree"
echo "bench/publish.sh on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
testing/stack exec -- bash "$0" --in-stack "$work"
