# shellcheck shell=bash
# Shared helpers for relkit's scripts: stage timing and tool caches.
# Source it; do not run it.

# Heavy tool builds and Go caches live here, keyed by version, so repeat
# runs on one machine are fast and a fresh machine still works.
: "${RELKIT_CACHE:=$HOME/.cache}"
export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$RELKIT_CACHE/relkit-go/mod}"
export GOCACHE="${GOCACHE_OVERRIDE:-$RELKIT_CACHE/relkit-go/build}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export GOTOOLCHAIN=local

# build_relkit: (re)builds bin/relkit from this checkout. Incremental, so a
# binary left by an older checkout never runs against newer scripts.
build_relkit() {
	mkdir -p bin
	go build -trimpath -o bin/relkit ./tools/cmd/relkit
}

_stage_names=()
_stage_secs=()
_stage_status=()

# stage NAME CMD...: runs CMD, records its duration and result, never exits.
stage() {
	local name=$1; shift
	local start=$SECONDS status=0
	printf '\n=== stage %s\n' "$name" >&2
	"$@" || status=$?
	local took=$((SECONDS - start))
	_stage_names+=("$name"); _stage_secs+=("$took"); _stage_status+=("$status")
	if [ "$status" -eq 0 ]; then
		printf '=== stage %s: ok in %ds\n' "$name" "$took" >&2
	else
		printf '=== stage %s: FAILED (exit %d) in %ds\n' "$name" "$status" "$took" >&2
	fi
	return 0
}

# stage_report prints the timing table and returns non-zero if a stage failed.
stage_report() {
	local i failed=0
	printf '\nstage timings:\n' >&2
	for i in "${!_stage_names[@]}"; do
		printf '  %-28s %5ds  %s\n' "${_stage_names[$i]}" "${_stage_secs[$i]}" \
			"$([ "${_stage_status[$i]}" -eq 0 ] && echo ok || echo FAILED)" >&2
		[ "${_stage_status[$i]}" -eq 0 ] || failed=1
	done
	return $failed
}

# apt_install PKG...: installs missing Debian packages (root, as on CI).
apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing Debian packages: ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: need root to install ${missing[*]} (or install them yourself)" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
