# A real OCI registry, sourced by testing/stack: distribution (the CNCF
# registry), built once per version and cached. It has no referrers API,
# so clients use the sha256-<hex> referrers tag scheme against it.
#
# It listens on 127.0.0.1 inside the stack's network namespace, without
# authentication or TLS (clients use plain HTTP for loopback registries),
# and stores blobs under $STACK_DIR/oci, created fresh by each 'up'.
#
# Environment: RELKIT_REGISTRY_CACHE (default ~/.cache/relkit-registry)
# holds the built registry, one directory per version.

DISTRIBUTION_VERSION=v3.1.2
OCI_ADDR=127.0.0.1:5000
OCI_DIR=$STACK_DIR/oci

oci_build() {
	local dir=${RELKIT_REGISTRY_CACHE:-$HOME/.cache/relkit-registry}/$DISTRIBUTION_VERSION t0
	if [ ! -x "$dir/bin/registry" ]; then
		t0=$(now_ms)
		log "building distribution $DISTRIBUTION_VERSION (once; cached in $dir)"
		mkdir -p "$dir"
		(cd "$dir" && GOBIN="$dir/bin.tmp" GOFLAGS=-buildvcs=false \
			go install "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION_VERSION") >&2 ||
			die "building distribution $DISTRIBUTION_VERSION failed"
		rm -rf "$dir/bin" && mv "$dir/bin.tmp" "$dir/bin"
		log "built distribution in $(( ($(now_ms) - t0) / 1000 ))s"
	fi
	OCI_REGISTRY_BIN=$dir/bin/registry
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
}

oci_down() {
	stop oci
}

oci_env() {
	cat <<-EOF
	export OCI_REGISTRY=$OCI_ADDR
	EOF
}
