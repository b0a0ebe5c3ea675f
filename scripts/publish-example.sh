#!/usr/bin/env bash
# Publishes the bundled example release to the local stack, as the release
# workflow does in production: builds the release tree (release-example.sh)
# with URLs of the local S3 server, starts testing/stack if it is not
# running, then runs 'relkit publish' inside the stack's network namespace:
# keyless signing (Fulcio, Rekor v2, TSA, the test OIDC issuer), write-once
# upload to versitygw, recording in the registry API, and 'relkit verify'.
# A second run of the same tag reports "already published" and changes
# nothing.
#
# Environment: TAG (default v0.1.0), ORG (default ConductorOne),
# RELKIT_STACK_NAME (default dev).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

TAG=${TAG:-v0.1.0}
ORG=${ORG:-ConductorOne}
REPO=baton-example
root=$PWD
stack_dir=${RELKIT_STACK_DIR:-/tmp/relkit-stack-${RELKIT_STACK_NAME:-dev}}

[ -x bin/relkit ] || scripts/setup.sh
if [ ! -f "$stack_dir/env" ]; then
	testing/stack up
fi
# The endpoints of the running stack (S3, registry, Sigstore).
set -a; . "$stack_dir/env"; set +a

BASE_URL=$RELKIT_BASE_URL TAG=$TAG ORG=$ORG scripts/release-example.sh
tree="dist/releases/$ORG/$REPO/$TAG"
commit=$(git rev-parse HEAD 2>/dev/null || printf '0%.0s' {1..40})
ex=examples/baton-example

# The test issuer mints tokens for the repository and tag being released,
# signed by the reusable workflow at refs/tags/v1.0.0.
workflow_ref=refs/tags/v1.0.0
token_url="${ACTIONS_ID_TOKEN_REQUEST_URL}&repository=$ORG/$REPO&ref=refs/tags/$TAG&sha=$commit&job_workflow_ref=relkit/relkit/.github/workflows/release.yaml@$workflow_ref"

testing/stack exec -- env ACTIONS_ID_TOKEN_REQUEST_URL="$token_url" \
	"$root/bin/relkit" publish --dir "$root/$tree" --org "$ORG" --repo "$REPO" --tag "$TAG" \
	--work-dir "$root/dist/publish/$ORG/$REPO/$TAG" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --signing-config "$SIGSTORE_SIGNING_CONFIG" \
	--certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER" --workflow-ref "$workflow_ref" \
	--commit "$commit" --workflow-run-id 1 \
	--docs "$ex/docs/connector.mdx" --config-schema "$ex/config_schema.json" \
	--capabilities "$ex/baton_capabilities.json"

# An independent check, as a user would run it.
testing/stack exec -- "$root/bin/relkit" verify "$ORG/$REPO" "$TAG" --base-url "$RELKIT_BASE_URL" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --certificate-oidc-issuer "$SIGSTORE_OIDC_ISSUER" \
	--workflow-ref "$workflow_ref" >"$root/dist/verify-$TAG.txt"
tail -n 1 "$root/dist/verify-$TAG.txt" >&2

base="$RELKIT_BASE_URL/releases/$ORG/$REPO/$TAG"
archive="$REPO-$TAG-linux-amd64.tar.gz"
cat >&2 <<MSG

Published $ORG/$REPO $TAG (inside network namespace $RELKIT_STACK_NETNS):
  files      s3://$RELKIT_BUCKET/releases/$ORG/$REPO/$TAG/  ($base/)
  manifest   $base/manifest.json
  registry   $RELKIT_REGISTRY_URL/api/v1/releases/$ORG/$REPO/$TAG
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
