#!/usr/bin/env bash
# End-to-end test of 'relkit image build' and 'relkit image push': starts
# the registries of testing/oci.sh (distribution, without the referrers API,
# and testing/ociregistry, with it) alone in a private network namespace,
# runs tests/oci inside it against both, and stops them whatever happens.
#
# Environment: RELKIT_STACK_NAME (default e2e-oci) names the namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."
export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-e2e-oci}
. testing/lib.sh
. testing/oci.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-oci-e2e.XXXXXX")
trap 'oci_down; netns_down; rm -rf "$work"' EXIT

# Built outside the namespace, which has no route to the module proxy.
go build -o "$work/relkit" ./tools/cmd/relkit
go test -c -o "$work/oci.test" ./tests/oci
netns_up
oci_up
set -a; eval "$(oci_env)"; set +a
in_ns env RELKIT="$work/relkit" "$work/oci.test" -test.count=1 -test.v -test.timeout=10m "$@"
