#!/usr/bin/env bash
# Publishes the bundled example release to the local stack, as the release
# workflow does in production: starts testing/stack if it is not running,
# builds the release tree with Bazel ('bazel build --config=release //:release'
# in examples/baton-example, URLs of the local S3 server), then runs the
# example's //:publish launcher ('relkit publish' of that tree) inside the
# stack's network namespace: keyless signing (Fulcio, Rekor v2, TSA, the test
# OIDC issuer), write-once upload to versitygw, the images pushed with their
# attestations to the stack's OCI registry, recording in the registry API,
# and 'relkit verify'. A second run of the same tag reports "already
# published" and changes nothing. scripts/release-example.sh builds the same
# kind of tree without Bazel.
#
# Environment: TAG (default v0.1.0), RELKIT_STACK_NAME (default dev),
# BAZEL (default bazel-4). The org is the example's, ConductorOne.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

TAG=${TAG:-v0.1.0}
ORG=ConductorOne
REPO=baton-example
BAZEL=${BAZEL:-bazel-4}
root=$PWD
stack_dir=${RELKIT_STACK_DIR:-/tmp/relkit-stack-${RELKIT_STACK_NAME:-dev}}

if [ ! -x bin/relkit ] || ! command -v "$BAZEL" >/dev/null; then
	scripts/setup.sh
fi
if [ ! -f "$stack_dir/env" ]; then
	testing/stack up
fi
# The endpoints of the running stack (S3, registry, Sigstore).
set -a; . "$stack_dir/env"; set +a

ex=examples/baton-example
# The build runs outside the namespace (it may fetch Go modules); the
# launcher 'bazel run' would start is written to a file and run inside it.
bazel_flags=(--config=release --config=ci "--@relkit//release:tag=$TAG" "--@relkit//release:base_url=$RELKIT_BASE_URL")
launcher="$root/dist/publish-$REPO-$TAG.sh"
mkdir -p dist
# Bazel's output and the Go module cache live with relkit's other caches,
# so a second run on this machine starts warm.
export RELKIT_GOMODCACHE=${RELKIT_GOMODCACHE:-$GOMODCACHE}
bazel=("$BAZEL" "--output_user_root=${RELKIT_BAZEL_ROOT:-$HOME/.cache/relkit-bazel}")
(cd "$ex" && "${bazel[@]}" build "${bazel_flags[@]}" //:release &&
	"${bazel[@]}" run "${bazel_flags[@]}" --script_path="$launcher" //:publish)
# The commit the release was stamped with (tools/workspace_status.sh).
commit=$(git rev-parse HEAD)

# The test issuer mints tokens for the repository and tag being released,
# signed by the reusable workflow at refs/tags/v1.0.0.
workflow_ref=refs/tags/v1.0.0
token_url="${ACTIONS_ID_TOKEN_REQUEST_URL}&repository=$ORG/$REPO&ref=refs/tags/$TAG&sha=$commit&job_workflow_ref=relkit/relkit/.github/workflows/release.yaml@$workflow_ref"

# The launcher passes the tree, org, repo, tag and registry files; bucket,
# S3 endpoint, base URL and registry URL come from the stack's RELKIT_*
# variables. The tree is built outside the release workflow, so its
# provenance names relkit's local builder, which verify accepts only when
# told to.
local_builder=https://relkit.dev/provenance/local-builder/v1
testing/stack exec -- env ACTIONS_ID_TOKEN_REQUEST_URL="$token_url" "$launcher" \
	--work-dir "$root/dist/publish/$ORG/$REPO/$TAG" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --signing-config "$SIGSTORE_SIGNING_CONFIG" \
	--certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER" --workflow-ref "$workflow_ref" --builder-id "$local_builder" \
	--image-repository "$OCI_REGISTRY/conductorone/$REPO" --lambda-repository "$OCI_REGISTRY/lambda/$REPO" \
	--commit "$commit" --workflow-run-id 1

# An independent check, as a user would run it.
testing/stack exec -- "$root/bin/relkit" verify "$ORG/$REPO" "$TAG" --base-url "$RELKIT_BASE_URL" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER" \
	--workflow-ref "$workflow_ref" --builder-id "$local_builder" >"$root/dist/verify-$TAG.txt"
tail -n 1 "$root/dist/verify-$TAG.txt" >&2

base="$RELKIT_BASE_URL/releases/$ORG/$REPO/$TAG"
archive="$REPO-$TAG-linux-amd64.tar.gz"
cat >&2 <<MSG

Published $ORG/$REPO $TAG (inside network namespace $RELKIT_STACK_NETNS):
  files      s3://$RELKIT_BUCKET/releases/$ORG/$REPO/$TAG/  ($base/)
  manifest   $base/manifest.json
  registry   $RELKIT_REGISTRY_URL/api/v1/releases/$ORG/$REPO/$TAG
  images     $OCI_REGISTRY/conductorone/$REPO:${TAG#v}, $OCI_REGISTRY/lambda/$REPO:${TAG#v}-arm64
  verify     $root/dist/verify-$TAG.txt

The stack keeps running for you to look around; stop it with: testing/stack down

Check an attestation yourself:
  testing/stack exec -- sh -c 'curl -sfO $base/$archive && curl -sfO $base/$archive.provenance.sigstore.json && \\
    \$COSIGN verify-blob-attestation --trusted-root \$SIGSTORE_TRUSTED_ROOT \\
    --bundle $archive.provenance.sigstore.json --type https://slsa.dev/provenance/v1 \\
    --certificate-oidc-issuer \$SIGSTORE_OIDC_ISSUER \\
    --certificate-identity https://github.com/relkit/relkit/.github/workflows/release.yaml@$workflow_ref \\
    --certificate-github-workflow-repository $ORG/$REPO --certificate-github-workflow-ref refs/tags/$TAG $archive'
MSG
