#!/bin/sh
# Bazel's --workspace_status_command for release builds: the commit and its
# commit time (never the wall clock), read by relkit's release_stamp rule, and,
# inside relkit's release workflow, the workflow keys provenance records.
set -eu
commit=$(git rev-parse HEAD)
echo "STABLE_GIT_COMMIT ${commit}"
echo "STABLE_COMMIT_EPOCH $(git log -1 --format=%ct "${commit}")"
echo "STABLE_COMMIT_DATE $(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd "${commit}")"
# The release job of relkit's release.yaml sets WORKFLOW_REPOSITORY,
# WORKFLOW_SHA and WORKFLOW_PATH: the reusable workflow at its exact commit,
# which provenance records as builder.id. Elsewhere the builder is relkit's
# local builder.
if [ -n "${WORKFLOW_SHA:-}" ]; then
  echo "STABLE_WORKFLOW_REPOSITORY ${WORKFLOW_REPOSITORY}"
  echo "STABLE_WORKFLOW_REF ${WORKFLOW_SHA}"
  echo "STABLE_WORKFLOW_PATH ${WORKFLOW_PATH}"
fi
