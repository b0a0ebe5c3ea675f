#!/usr/bin/env bash
# Lints the GitHub Actions workflows with actionlint, built once from the Go
# module proxy at a pinned version and cached outside the checkout.
#
# Environment: RELKIT_ACTIONLINT_CACHE (default ~/.cache/relkit-actionlint).
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=v1.7.12
dir=${RELKIT_ACTIONLINT_CACHE:-$HOME/.cache/relkit-actionlint}/$ACTIONLINT_VERSION
if [ ! -x "$dir/actionlint" ]; then
	echo "building actionlint $ACTIONLINT_VERSION (once; cached in $dir)" >&2
	mkdir -p "$dir"
	GOBIN="$dir/bin.tmp" GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
	mv "$dir/bin.tmp/actionlint" "$dir/actionlint"
	rmdir "$dir/bin.tmp"
fi
# Shell scripts in run: steps are checked too when shellcheck is installed.
"$dir/actionlint" -color=false .github/workflows/*.yaml
echo "lint-workflows: ok: $(ls .github/workflows/*.yaml | wc -l) workflows" >&2
