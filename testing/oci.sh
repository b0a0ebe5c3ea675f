# shellcheck shell=bash
# OCI registries, sourced by testing/stack:
#   oci            distribution (the CNCF registry) on 127.0.0.1:5000, built
#                  once per version and cached. It has no referrers API, so
#                  clients use the sha256-<hex> referrers tag scheme.
#   oci-referrers  testing/ociregistry (go-containerregistry's registry) on
#                  127.0.0.1:5001, with the OCI 1.1 referrers API; built
#                  once per source and go-containerregistry version.
#
# Both listen on 127.0.0.1 inside the stack's network namespace, without
# authentication or TLS (clients use plain HTTP for loopback registries),
# and store blobs under $STACK_DIR/oci, created fresh by each 'up'.
#
# Environment: RELKIT_REGISTRY_CACHE (default ~/.cache/relkit-registry)
# holds the built registries, one directory per version.

DISTRIBUTION_VERSION=v3.1.2
OCI_ADDR=127.0.0.1:5000
OCI_REFERRERS_ADDR=127.0.0.1:5001
OCI_DIR=$STACK_DIR/oci
OCI_SRC=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

oci_build() {
	local cache=${RELKIT_REGISTRY_CACHE:-$HOME/.cache/relkit-registry} key
	local dir=$cache/$DISTRIBUTION_VERSION t0
	if [ ! -x "$dir/bin/registry" ]; then
		t0=$(now_ms)
		log "building distribution $DISTRIBUTION_VERSION (once; cached in $dir)"
		mkdir -p "$dir"
		(cd "$dir" && GOBIN="$dir/bin.tmp" GOFLAGS=-buildvcs=false \
			go install "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION_VERSION") >&2 ||
			die "building distribution $DISTRIBUTION_VERSION failed"
		rm -rf "${dir:?}/bin" && mv "$dir/bin.tmp" "$dir/bin"
		log "built distribution in $(( ($(now_ms) - t0) / 1000 ))s"
	fi
	OCI_REGISTRY_BIN=$dir/bin/registry

	# Keyed by its source and the go-containerregistry it builds with.
	key=$( { cat "$OCI_SRC/testing/ociregistry/main.go"; grep 'google/go-containerregistry ' "$OCI_SRC/go.mod"; } |
		sha256sum | cut -c1-16)
	dir=$cache/ociregistry-$key
	if [ ! -x "$dir/ociregistry" ]; then
		log "building testing/ociregistry (once; cached in $dir)"
		mkdir -p "$dir"
		(cd "$OCI_SRC" && go build -o "$dir/ociregistry.tmp" ./testing/ociregistry) ||
			die "building testing/ociregistry failed"
		mv "$dir/ociregistry.tmp" "$dir/ociregistry"
	fi
	OCI_REFERRERS_BIN=$dir/ociregistry
}

oci_up() {
	oci_build
	rm -rf "$OCI_DIR"
	mkdir -p "$OCI_DIR/storage"
	cat >"$OCI_DIR/config.yml" <<-EOF
	version: 0.1
	log:
	  level: warn
	  accesslog:
	    disabled: true
	storage:
	  filesystem:
	    rootdirectory: $OCI_DIR/storage
	  delete:
	    enabled: true
	  maintenance:
	    uploadpurging:
	      enabled: false
	http:
	  addr: $OCI_ADDR
	  secret: relkit-test-only
	EOF
	# OTEL_TRACES_EXPORTER=none: distribution v3 would export traces to a
	# default collector address otherwise.
	start oci env OTEL_TRACES_EXPORTER=none "$OCI_REGISTRY_BIN" serve "$OCI_DIR/config.yml"
	wait_http oci "http://$OCI_ADDR/v2/"
	log "oci: distribution $DISTRIBUTION_VERSION on $OCI_ADDR"

	start oci-referrers "$OCI_REFERRERS_BIN" --addr "$OCI_REFERRERS_ADDR" --blobs "$OCI_DIR/referrers-blobs"
	wait_http oci-referrers "http://$OCI_REFERRERS_ADDR/v2/"
	log "oci: testing/ociregistry (referrers API) on $OCI_REFERRERS_ADDR"
}

oci_down() {
	stop oci-referrers oci
}

oci_env() {
	cat <<-EOF
	export OCI_REGISTRY=$OCI_ADDR
	export OCI_REFERRERS_REGISTRY=$OCI_REFERRERS_ADDR
	EOF
}
