# shellcheck shell=bash
# Shared helpers of testing/stack and the service scripts it sources.
#
# Every service runs inside one private network namespace, so whatever a
# server binds (some bind metrics on all interfaces) is reachable only from
# inside it, over its own loopback. Processes are started in the background
# with their PIDs recorded under $STACK_DIR/pids and stopped by those PIDs.

# STACK_NAME separates concurrent stacks (e.g. a test run beside a dev stack).
STACK_NAME=${RELKIT_STACK_NAME:-dev}
STACK_NETNS=relkit-$STACK_NAME
STACK_DIR=${RELKIT_STACK_DIR:-/tmp/relkit-stack-$STACK_NAME}
# Built tools are cached per version, outside any checkout.
TOOLS_CACHE=${RELKIT_TOOLS_CACHE:-$HOME/.cache/relkit-sigstore}

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# now_ms prints a monotonic-enough millisecond clock for timings.
now_ms() { date +%s%3N; }

# go_tool NAME VERSION PACKAGE [BINARY]: prints the path of a cached binary,
# building it with 'go install PACKAGE@VERSION' on first use. The build runs
# outside the relkit module, so the tool's own go.mod and go.sum decide its
# dependencies.
go_tool() {
	local name=$1 version=$2 pkg=$3 bin=${4:-$(basename "$3")}
	local dir=$TOOLS_CACHE/$name-$version
	if [ ! -x "$dir/bin/$bin" ]; then
		local t0; t0=$(now_ms)
		log "building $name $version (once; cached in $dir)"
		mkdir -p "$dir"
		(cd "$dir" && GOBIN="$dir/bin.tmp" GOFLAGS=-buildvcs=false go install "$pkg@$version") >&2 ||
			die "building $name $version failed"
		rm -rf "${dir:?}/bin" && mv "$dir/bin.tmp" "$dir/bin"
		log "built $name in $(( ($(now_ms) - t0) / 1000 ))s"
	fi
	printf '%s\n' "$dir/bin/$bin"
}

netns_up() {
	if ! ip netns list | grep -qx "$STACK_NETNS\( .*\)\?"; then
		ip netns add "$STACK_NETNS" || die "ip netns add $STACK_NETNS failed (needs root and iproute2)"
	fi
	ip netns exec "$STACK_NETNS" ip link set lo up
}

netns_down() {
	if ip netns list | grep -qx "$STACK_NETNS\( .*\)\?"; then
		ip netns del "$STACK_NETNS"
	fi
}

# in_ns CMD...: runs CMD inside the stack's namespace.
in_ns() { ip netns exec "$STACK_NETNS" "$@"; }

# start NAME CMD...: starts CMD in the namespace in the background, logging
# to $STACK_DIR/logs/NAME.log, and records its PID.
start() {
	local name=$1; shift
	mkdir -p "$STACK_DIR/pids" "$STACK_DIR/logs"
	# ip netns exec execs CMD, so $! is the server's own PID.
	ip netns exec "$STACK_NETNS" "$@" </dev/null >"$STACK_DIR/logs/$name.log" 2>&1 &
	echo $! >"$STACK_DIR/pids/$name.pid"
}

# wait_http NAME URL: waits until URL answers inside the namespace.
wait_http() {
	local name=$1 url=$2
	for _ in $(seq 1 300); do
		if in_ns curl -sf -o /dev/null --max-time 2 "$url"; then
			return 0
		fi
		if ! alive "$(cat "$STACK_DIR/pids/$name.pid")"; then
			tail -n 20 "$STACK_DIR/logs/$name.log" >&2
			die "$name exited during start; log: $STACK_DIR/logs/$name.log"
		fi
		sleep 0.1
	done
	tail -n 20 "$STACK_DIR/logs/$name.log" >&2
	die "$name did not answer $url within 30s; log: $STACK_DIR/logs/$name.log"
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# stop NAME...: stops recorded processes by PID: TERM to all, then KILL to
# those still running after 5s.
stop() {
	local name pid pids=()
	for name in "$@"; do
		[ -f "$STACK_DIR/pids/$name.pid" ] || continue
		pid=$(cat "$STACK_DIR/pids/$name.pid")
		if alive "$pid"; then
			kill "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
	done
	for _ in $(seq 1 50); do
		for pid in "${pids[@]}"; do
			alive "$pid" && break
			pid=
		done
		[ -z "${pid:-}" ] && break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		alive "$pid" && kill -9 "$pid" 2>/dev/null
	done
	for name in "$@"; do
		rm -f "$STACK_DIR/pids/$name.pid"
	done
}

# rfc3339_ago SECONDS: a UTC time SECONDS in the past.
rfc3339_ago() { date -u -d "@$(( $(date +%s) - $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
