#!/usr/bin/env bash
# The example's release tree without Bazel: builds the unsigned release of
# examples/baton-example for every platform and packages it with relkit into
# dist/releases/ORG/REPO/TAG/ (archives, SBOMs, provenance, checksums,
# manifest.json). Deterministic: run it twice and compare. Those files equal
# the ones `bazel build //:release` writes for the same commit and tag
# (tests/bazel/run.sh checks it): a release can be reproduced without Bazel.
#
# With MSI=1 it also builds the two Windows installers, as the Bazel example
# does, and writes index.json with each one's recipe and template, so that
# 'relkit publish' can rebuild them around Authenticode-signed executables.
#
# Environment: TAG (default v0.1.0), ORG (default ConductorOne),
# BASE_URL (default https://dist.example.com), MSI (default 0).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

TAG=${TAG:-v0.1.0}
ORG=${ORG:-ConductorOne}
REPO=baton-example
BASE_URL=${BASE_URL:-https://dist.example.com}
root=$PWD

[ -x bin/relkit ] || scripts/setup.sh
build_relkit
relkit() { "$root/bin/relkit" "$@"; }

relkit validate-inputs --tag "$TAG" --repo-root examples/baton-example
forms=$(relkit version-forms "$TAG")
version=$(sed -E 's/.*"version":"([^"]*)".*/\1/' <<<"$forms")
# The commit time of the last change to the example, so rebuilds of one
# commit are identical; fall back to a fixed epoch outside git.
epoch=$(git log -1 --format=%ct -- examples/baton-example 2>/dev/null || true)
epoch=${epoch:-1767225600}
commit=$(git rev-parse HEAD 2>/dev/null || printf '0%.0s' {1..40})
date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

out="dist/releases/$ORG/$REPO/$TAG"
bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
rm -rf "$out"; mkdir -p "$out"

platforms="darwin/amd64 darwin/arm64 linux/amd64 linux/arm64 windows/amd64 windows/arm64"
archives=()
for p in $platforms; do
	os=${p%/*} arch=${p#*/}
	exe=$REPO; [ "$os" = windows ] && exe=$REPO.exe
	echo "building $p" >&2
	(cd examples/baton-example && CGO_ENABLED=0 GOOS=$os GOARCH=$arch \
		go build -trimpath -buildvcs=false \
		-ldflags "-s -w -buildid= -X main.version=$version -X main.commit=$commit -X main.date=$date" \
		-o "$bins/$os-$arch/$exe" ./cmd/baton-example)
	format=zip; [ "$os" = linux ] && format=tar.gz
	name="$REPO-$TAG-$os-$arch.$format"
	relkit archive --format "$format" --mtime "$epoch" --out "$out/$name" "$bins/$os-$arch/$exe"
	archives+=("$out/$name")
done
relkit sbom --epoch "$epoch" --out-dir "$out" "${archives[@]}"
if [ "${MSI:-0}" = 1 ]; then
	installers=()
	for arch in amd64 arm64; do
		msi="${REPO}_${TAG}_windows_$arch.msi"
		echo "building $msi" >&2
		# The template travels with the tree (not a release asset) for publishing.
		cp templates/msi/default.wxs "$out/$msi.wxs"
		relkit msi build --binary "$bins/windows-$arch/$REPO.exe" --name "$REPO" --vendor "$ORG" \
			--tag "$TAG" --arch "$arch" --template "$out/$msi.wxs" --epoch "$epoch" --out "$out/$msi" >/dev/null
		archives+=("$out/$msi")
		installers+=("{\"arch\": \"$arch\", \"msi\": \"$msi\", \"name\": \"$REPO\", \"binary_name\": \"\", \"vendor\": \"$ORG\", \"template\": \"$msi.wxs\", \"epoch\": $epoch}")
	done
	# The part of connector_release's index.json that publishing reads.
	(IFS=,; printf '{\n  "installers": [%s]\n}\n' "${installers[*]}") >"$out/index.json"
fi
checksums="$out/${REPO}_${version}_checksums.txt"
relkit checksums --out "$checksums" "${archives[@]}"
# The checksums file is a subject too, so publishing attests it like the archives.
subjects=(--subject "$checksums"); for a in "${archives[@]}"; do subjects+=(--subject "$a"); done
relkit provenance --out "$out/provenance.intoto.json" "${subjects[@]}" \
	--repository "$ORG/$REPO" --tag "$TAG" --commit "$commit" --toolchain "go=$(go env GOVERSION)" \
	--toolchain relkit=source
# --expect-attestations declares the bundles that publishing adds, so the
# manifest signed at publish time is this one.
relkit manifest build --dir "$out" --org "$ORG" --repo "$REPO" --tag "$TAG" --base-url "$BASE_URL" \
	--released-at "$date" --expect-attestations
echo "release tree: $out" >&2
ls -l "$out" >&2
