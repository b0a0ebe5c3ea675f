#!/usr/bin/env bash
# End-to-end test of code signing at publish time: builds two example
# release trees with their MSIs (MSI=1 scripts/build-example-tree.sh), starts
# the local stack in its own network namespace, and runs TestPublishCodesign
# (tests/publish/codesign_test.go) inside it: 'relkit publish' signs the
# darwin binaries with a test Developer ID identity and the Windows ones and
# MSIs with a test Authenticode key, signs with Sigstore (keyless), uploads
# to versitygw and 'relkit verify' checks the result; a publish killed after
# the signed darwin zip was uploaded is resumed from a new work directory
# without overwriting anything; bad keys and a tree without the installer
# recipe fail with one clear line. Stops the stack whatever happens.
#
# Environment: RELKIT_STACK_NAME (default e2e-codesign).
set -euo pipefail
cd "$(dirname "$0")/../.."
export RELKIT_STACK_NAME=${RELKIT_STACK_NAME:-e2e-codesign}
stack_dir=/tmp/relkit-stack-$RELKIT_STACK_NAME
work=$(mktemp -d "${TMPDIR:-/tmp}/relkit-codesign-e2e.XXXXXX")
trap 'testing/stack down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
tags=(v0.7.3 v0.7.4)

testing/stack down >/dev/null 2>&1 || true
testing/stack up >/dev/null
set -a; . "$stack_dir/env"; set +a

# Built outside the namespace, which has no route to the module proxy
# (TestMain builds relkit inside it, from the warm build cache).
go test -c -o "$work/publish.test" ./tests/publish
for tag in "${tags[@]}"; do
	MSI=1 TAG=$tag BASE_URL=$RELKIT_BASE_URL scripts/build-example-tree.sh >"$work/release-$tag.log" 2>&1 ||
		{ tail -n 30 "$work/release-$tag.log" >&2; exit 1; }
	cp -R "dist/releases/ConductorOne/baton-example/$tag" "$work/tree-$tag"
done

testing/stack exec -- env COMMIT="$(git rev-parse HEAD)" RELEASE_TREES="$work/tree-${tags[0]} $work/tree-${tags[1]}" \
	"$work/publish.test" -test.run '^TestPublishCodesign$' -test.count=1 -test.v -test.timeout=20m
echo "codesign-e2e: all passed" >&2
