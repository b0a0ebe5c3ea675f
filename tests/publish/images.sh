#!/usr/bin/env bash
# End-to-end test of publishing container images: starts testing/stack
# (Sigstore with the test OIDC issuer, versitygw, the distribution registry,
# which has no referrers API, and one with it), then runs
# TestPublishImagesWithCosign inside it, once per registry: 'relkit publish' of a release tree with an index and a Lambda image,
# keyless, then cosign verify-attestation (slsaprovenance1, spdxjson) and
# cosign verify of the pushed images with the stack's trusted root, relkit
# verify with the right and a wrong identity, a re-run and a resumed run
# that attach nothing new, and relkit verify after an SBOM is deleted.
# Stops its stack whatever happens.
#
# Environment: RELKIT_STACK_NAME (default e2e-images). Each registry of the
# stack gets its own release, under its own bucket prefix.
set -euo pipefail
cd "$(dirname "$0")/../.."
export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-e2e-images}
work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-images-e2e.XXXXXX")
trap 'testing/stack down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# Built outside the namespace, which has no route to the module proxy.
go build -o "$work/relkit" ./tools/cmd/relkit
go test -c -o "$work/publish.test" ./tests/publish
testing/stack down >/dev/null 2>&1 || true
testing/stack up
testing/stack exec -- env RELKIT="$work/relkit" "$work/publish.test" \
	-test.run '^TestPublishImagesWithCosign$' -test.count=1 -test.v -test.timeout=15m "$@"
