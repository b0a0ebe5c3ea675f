# shellcheck shell=bash
# The connector registry API for the local stack, sourced by testing/stack:
# 'relkit registry serve' with a SQLite database under $STACK_DIR/registry,
# accepting tokens of the stack's test OIDC issuer (audience
# connector-registry, repository claim = the release's ORG/REPO), as the
# production registry accepts GitHub Actions tokens. Needs the sigstore
# service (the issuer) to be up first.

REGISTRY_ADDR=127.0.0.1:8090
REGISTRY_DIR=$STACK_DIR/registry

registry_build() {
	mkdir -p "$STACK_DIR/bin"
	# Part of this repository: always rebuilt (seconds once Go's cache is warm).
	(cd "$REPO_ROOT" && go build -o "$STACK_DIR/bin/relkit" ./tools/cmd/relkit) ||
		die "building relkit failed"
}

registry_up() {
	registry_build
	rm -rf "$REGISTRY_DIR"
	mkdir -p "$REGISTRY_DIR"
	start registry "$STACK_DIR/bin/relkit" registry serve --addr "$REGISTRY_ADDR" \
		--db "$REGISTRY_DIR/registry.db" --oidc-issuer "http://$OIDC_ADDR"
	wait_http registry "http://$REGISTRY_ADDR/healthz"
	log "registry: serving http://$REGISTRY_ADDR"
}

registry_down() { stop registry; }

registry_env() {
	cat <<-EOF
	export RELKIT_REGISTRY_URL=http://$REGISTRY_ADDR
	EOF
}
