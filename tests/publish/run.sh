#!/usr/bin/env bash
# End-to-end test of 'relkit publish', 'relkit registry serve' and 'relkit
# verify' on the local stack (real Sigstore servers, versitygw, the registry
# API): publishes the example release with testing/release-example,
# publishes it again (a no-op), resumes it from a new work directory after
# removing the files a crash would not have uploaded, then checks what
# users see: the objects and their headers, the registry record, relkit
# verify with the right and a wrong identity, and cosign as the independent
# verifier, for the files and for the images pushed to the stack's
# registry. Stops its stack and Bazel server whatever happens.
#
# Environment: RELKIT_STACK_NAME (default e2e-publish), TAG (default v0.1.0).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-e2e-publish}
export TAG=${TAG:-v0.1.0}
ORG=ConductorOne REPO=baton-example
stack_dir=/tmp/relkit-stack-$RELKIT_STACK_NAME
work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-publish-e2e.XXXXXX")
# testing/release-example leaves its Bazel server running, as Bazel does for a
# user; the test stops it.
bazel_down() { (cd examples/baton-example && "${BAZEL:-bazel-4}" "--output_user_root=${RELKIT_BAZEL_ROOT:-$HOME/.cache/relkit-bazel}" shutdown) >/dev/null 2>&1 || true; }
trap 'testing/stack down >/dev/null 2>&1 || true; bazel_down; rm -rf "$work"' EXIT
fail() { echo "publish-e2e: FAIL: $*" >&2; exit 1; }
pass() { echo "publish-e2e: ok: $*" >&2; }
in_stack() { "$root/testing/stack" exec -- "$@"; }

testing/stack down >/dev/null 2>&1 || true
rm -rf "dist/publish/$ORG/$REPO/$TAG"
testing/release-example >"$work/first.log" 2>&1 || { tail -n 40 "$work/first.log" >&2; fail "first publish"; }
grep -q "objects uploaded, 0 already there" "$work/first.log" || fail "first publish did not upload"
grep -q "checks passed" "$work/first.log" || fail "first publish did not verify"
pass "publish, record and verify"

testing/release-example >"$work/second.log" 2>&1 || { tail -n 40 "$work/second.log" >&2; fail "second publish"; }
grep -q "already published" "$work/second.log" || fail "second publish did not say already published"
grep -q "publish: uploaded" "$work/second.log" && fail "second publish uploaded something"
pass "second publish is a no-op"

set -a; . "$stack_dir/env"; set +a
base=$RELKIT_BASE_URL/releases/$ORG/$REPO/$TAG
archive=$REPO-$TAG-linux-amd64.tar.gz

# s3_delete KEY: removes an object of the release, as no publish would.
s3_delete() {
	in_stack curl -sS -f -o /dev/null -X DELETE --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"$RELKIT_S3_ENDPOINT/$RELKIT_BUCKET/releases/$ORG/$REPO/$TAG/$1"
}

# A release workflow started from a branch gets an identity token for that
# ref, and verification bound to the tag refuses what it signs. With
# manifest.json and its signature files gone, as after a crash just before
# them, such a run on a fresh runner (no work directory) signs manifest.json
# anew: it must stop before uploading, or the release would be complete,
# write-once and unverifiable. Publishing again with the right token then
# completes it from the same work directory.
for f in manifest.json manifest.json.sig manifest.json.cert manifest.json.sigstore.json; do
	s3_delete "$f" || fail "delete $f"
done
rm -rf "dist/publish/$ORG/$REPO/$TAG"
if TOKEN_REF=refs/heads/main testing/release-example >"$work/wrong-ref.log" 2>&1; then
	fail "publish accepted a token for refs/heads/main"
fi
grep -q "check signed tree: manifest.json.sigstore.json would fail verification, so nothing is uploaded" "$work/wrong-ref.log" ||
	{ tail -n 20 "$work/wrong-ref.log" >&2; fail "a token for another ref: no check signed tree error"; }
in_stack curl -sf -o /dev/null "$base/manifest.json" && fail "a token for another ref: manifest.json was uploaded"
testing/release-example >"$work/right-ref.log" 2>&1 || { tail -n 40 "$work/right-ref.log" >&2; fail "publish after a token for another ref"; }
grep -q "checks passed" "$work/right-ref.log" || fail "publish after a token for another ref did not verify"
pass "a token for another ref fails before any upload; the right one then completes the release"

# Resume on a fresh machine: remove what a run killed before the manifest
# had not uploaded yet, and the work directory with the signatures. Keyless
# signing cannot make the same .sig bytes again, so the re-run must keep the
# published bundles and derive identical side files.
for f in manifest.json manifest.json.sig manifest.json.cert "$archive.sig" "$archive.cert"; do
	s3_delete "$f" || fail "delete $f"
done
rm -rf "dist/publish/$ORG/$REPO/$TAG"
testing/release-example >"$work/resume.log" 2>&1 || { tail -n 40 "$work/resume.log" >&2; fail "resume without the work directory"; }
grep -q "fetched [0-9]* signature files" "$work/resume.log" || fail "resume did not fetch the published signatures"
grep -q "checks passed" "$work/resume.log" || fail "resumed release did not verify"
pass "resume on a fresh machine keeps the published keyless signatures"
hdr() { in_stack curl -sfI "$1" | tr -d '\r' | sed -n "s/^$2: //Ip"; }
[ "$(hdr "$base/$archive" Content-Type)" = application/gzip ] || fail "archive Content-Type"
[ "$(hdr "$base/$archive.cert" Content-Type)" = application/x-pem-file ] || fail "certificate Content-Type"
[ "$(hdr "$base/manifest.json" Cache-Control)" = "public,max-age=31536000,immutable" ] || fail "manifest Cache-Control"
pass "objects and headers"

in_stack curl -sf "$RELKIT_REGISTRY_URL/api/v1/releases/$ORG/$REPO/$TAG" >"$work/record.json" || fail "registry record missing"
grep -q '"documentation"' "$work/record.json" && grep -q '"attestations"' "$work/record.json" || fail "registry record lacks docs or attestations"
pass "registry record"

# The example is built outside the release workflow: its provenance names
# relkit's local builder.
ver=(verify "$ORG/$REPO" "$TAG" --base-url "$RELKIT_BASE_URL" --trusted-root "$SIGSTORE_TRUSTED_ROOT" --certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER"
	--builder-id https://relkit.dev/provenance/local-builder/v1)
in_stack "$root/bin/relkit" "${ver[@]}" --workflow-ref refs/tags/v1.0.0 --json >"$work/verify.json" || fail "relkit verify"
if in_stack "$root/bin/relkit" "${ver[@]}" --workflow-ref refs/heads/main >"$work/wrong.txt" 2>&1; then
	fail "relkit verify accepted another workflow identity"
fi
grep -q "FAIL" "$work/wrong.txt" || fail "wrong identity: no failure listed"
if in_stack "$root/bin/relkit" "${ver[@]}" --workflow-ref refs/tags/v1.0.0 --source-repository "$ORG/other" >/dev/null 2>&1; then
	fail "relkit verify accepted another source repository"
fi
if in_stack "$root/bin/relkit" verify "$ORG/$REPO" "$TAG" --base-url "$RELKIT_BASE_URL" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
	--certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER" --workflow-ref refs/tags/v1.0.0 >"$work/local.txt" 2>&1; then
	fail "relkit verify accepted a local build as the release workflow's"
fi
grep -q "built outside the release workflow" "$work/local.txt" || fail "local builder: no reason given"
pass "relkit verify binds issuer, workflow, source repository and builder"

(cd "$work" && in_stack sh -c "curl -sfO '$base/$archive' && curl -sfO '$base/$archive.provenance.sigstore.json' &&
	\$COSIGN verify-blob-attestation --trusted-root \$SIGSTORE_TRUSTED_ROOT --bundle $archive.provenance.sigstore.json \
	--type https://slsa.dev/provenance/v1 --certificate-oidc-issuer \$SIGSTORE_OIDC_ISSUER \
	--certificate-identity https://github.com/relkit/relkit/.github/workflows/release.yaml@refs/tags/v1.0.0 \
	--certificate-github-workflow-repository $ORG/$REPO --certificate-github-workflow-ref refs/tags/$TAG $archive") >/dev/null 2>&1 ||
	fail "cosign verify-blob-attestation"
pass "cosign verifies the published provenance"

# The images: cosign verifies each one's provenance, SBOM and signature
# (distribution has no referrers API: the sha256-<hex> tag fallback).
in_stack curl -sf "$base/manifest.json" >"$work/manifest.json" || fail "download manifest.json"
for key in ecrPublic lambda-arm64; do
	uri=$(jq -r --arg k "$key" '.images[$k].uri // empty' "$work/manifest.json")
	[ -n "$uri" ] || fail "manifest.json lists no images.$key"
	for check in "verify-attestation --type slsaprovenance1" "verify-attestation --type spdxjson" "verify"; do
		in_stack sh -c "\$COSIGN $check --trusted-root \$SIGSTORE_TRUSTED_ROOT --allow-http-registry \
			--certificate-oidc-issuer \$SIGSTORE_OIDC_ISSUER \
			--certificate-identity https://github.com/relkit/relkit/.github/workflows/release.yaml@refs/tags/v1.0.0 \
			--certificate-github-workflow-repository $ORG/$REPO --certificate-github-workflow-ref refs/tags/$TAG '$uri'" >/dev/null 2>&1 ||
			fail "cosign $check $uri"
	done
	[ "$(jq --arg k "$key" '[.checks[] | select(.asset == $k and .ok)] | length' "$work/verify.json")" = 5 ] ||
		fail "relkit verify did not pass the 5 checks of images.$key"
done
pass "cosign and relkit verify check the images' provenance, SBOM and signature"
echo "publish-e2e: all passed" >&2
