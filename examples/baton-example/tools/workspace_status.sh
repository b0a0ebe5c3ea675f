#!/bin/sh
# Bazel's --workspace_status_command for release builds: the commit and its
# commit time (never the wall clock), read by relkit's release_stamp rule.
set -eu
commit=$(git rev-parse HEAD)
echo "STABLE_GIT_COMMIT ${commit}"
echo "STABLE_COMMIT_EPOCH $(git log -1 --format=%ct "${commit}")"
echo "STABLE_COMMIT_DATE $(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd "${commit}")"
