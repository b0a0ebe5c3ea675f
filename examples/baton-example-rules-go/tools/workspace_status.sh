#!/bin/sh
# Bazel's --workspace_status_command for release builds: the commit, its
# commit time (never the wall clock) and the version of the release tag on
# the commit. rules_go's x_defs read STABLE_* keys; relkit's stamp rule reads
# the commit keys.
set -eu
commit=$(git rev-parse HEAD)
echo "STABLE_GIT_COMMIT ${commit}"
echo "STABLE_COMMIT_EPOCH $(git log -1 --format=%ct "${commit}")"
echo "STABLE_COMMIT_DATE $(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd "${commit}")"
tag=$(git describe --tags --exact-match --match 'v[0-9]*' "${commit}" 2>/dev/null || echo v0.0.0-dev)
echo "STABLE_VERSION ${tag#v}"
