# shellcheck shell=bash
# The local Sigstore stack, sourced by testing/stack: the real Fulcio (file
# CA) with a TesseraCT certificate transparency log, Rekor v2 (rekor-tiles,
# POSIX storage), the timestamp authority, and the project's test OIDC
# issuer minting GitHub-Actions-shaped tokens. cosign, the independent
# verifier, is built here too.
#
# Everything listens on 127.0.0.1 inside the stack's network namespace.
# Keys, certificates, logs and the client files trusted_root.json and
# signing_config.json are created fresh under $STACK_DIR/sigstore by each
# 'up'; the binaries are built once per version and cached.

# Pinned versions: measured to build with this repository's Go and to
# interoperate (see the environment facts).
COSIGN_VERSION=v3.1.3
FULCIO_VERSION=v1.8.8
TESSERACT_VERSION=v0.1.1
REKOR_TILES_VERSION=v2.3.0
TSA_VERSION=v2.1.3

OIDC_ADDR=127.0.0.1:8088
FULCIO_PORT=5555
FULCIO_GRPC_PORT=5554
CT_ADDR=127.0.0.1:6962
REKOR_PORT=3003
REKOR_GRPC_PORT=3005
TSA_PORT=3004

SIGSTORE_DIR=$STACK_DIR/sigstore

sigstore_build() {
	local t0; t0=$(now_ms)
	COSIGN_BIN=$(go_tool cosign $COSIGN_VERSION github.com/sigstore/cosign/v3/cmd/cosign)
	FULCIO_BIN=$(go_tool fulcio $FULCIO_VERSION github.com/sigstore/fulcio)
	TESSERACT_BIN=$(go_tool tesseract $TESSERACT_VERSION github.com/transparency-dev/tesseract/cmd/tesseract/posix)
	REKOR_BIN=$(go_tool rekor-tiles $REKOR_TILES_VERSION github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix)
	TSA_BIN=$(go_tool timestamp-authority $TSA_VERSION github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server)
	# The issuer is part of this repository: always rebuilt (seconds, cached by Go).
	mkdir -p "$STACK_DIR/bin"
	(cd "$REPO_ROOT" && go build -o "$STACK_DIR/bin/oidc-issuer" ./testing/oidc-issuer) ||
		die "building testing/oidc-issuer failed"
	OIDC_BIN=$STACK_DIR/bin/oidc-issuer
	log "sigstore: tools ready in $(( ($(now_ms) - t0) / 1000 ))s"
}

# sigstore_pki writes the keys and certificates of the stack with openssl.
sigstore_pki() {
	local d=$SIGSTORE_DIR/pki
	mkdir -p "$d"
	(
		cd "$d"
		umask 077
		# Fulcio's file CA: a root and an intermediate limited to code signing
		# (Fulcio requires the EKU on the intermediate and a PKCS#8 key).
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out root.key 2>/dev/null
		openssl req -x509 -new -key root.key -days 3650 -subj "/O=relkit-test/CN=relkit test fulcio root" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
			-out root.pem
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out intermediate.key 2>/dev/null
		openssl req -new -key intermediate.key -subj "/O=relkit-test/CN=relkit test fulcio intermediate" -out intermediate.csr
		printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
			"extendedKeyUsage=codeSigning" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >intermediate.ext
		openssl x509 -req -in intermediate.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 \
			-extfile intermediate.ext -out intermediate.pem 2>/dev/null
		cat intermediate.pem root.pem >fulcio-chain.pem
		# TesseraCT reads a SEC 1 EC key.
		openssl ecparam -name prime256v1 -genkey -noout -out ct.key
		openssl ec -in ct.key -pubout -out ct.pub 2>/dev/null
		# Rekor v2 signs checkpoints with Ed25519.
		openssl genpkey -algorithm ed25519 -out rekor.key
		openssl pkey -in rekor.key -pubout -out rekor.pub
		# The bearer token the issuer's /token endpoint asks for.
		openssl rand -hex 16 >request-token
	) || die "sigstore: creating keys failed"
}

sigstore_up() {
	sigstore_build
	rm -rf "$SIGSTORE_DIR"
	mkdir -p "$SIGSTORE_DIR/ct" "$SIGSTORE_DIR/rekor"
	sigstore_pki
	local d=$SIGSTORE_DIR pki=$SIGSTORE_DIR/pki issuer=http://$OIDC_ADDR t0
	cat >"$d/fulcio.yaml" <<-EOF
	# Fulcio trusts only the test issuer, treated like GitHub Actions so that
	# certificates carry the same extensions as production ones.
	oidc-issuers:
	  $issuer:
	    issuer-url: $issuer
	    client-id: sigstore
	    type: ci-provider
	    ci-provider: github-workflow
	ci-issuer-metadata:
	  github-workflow:
	    default-template-values:
	      url: https://github.com
	      environment: ""
	    extension-templates:
	      github-workflow-trigger: event_name
	      github-workflow-sha: sha
	      github-workflow-name: workflow
	      github-workflow-repository: repository
	      github-workflow-ref: ref
	      build-signer-uri: "{{ .url }}/{{ .job_workflow_ref }}"
	      build-signer-digest: job_workflow_sha
	      runner-environment: runner_environment
	      source-repository-uri: "{{ .url }}/{{ .repository }}"
	      source-repository-digest: sha
	      source-repository-ref: ref
	      source-repository-identifier: repository_id
	      source-repository-owner-uri: "{{ .url }}/{{ .repository_owner }}"
	      source-repository-owner-identifier: repository_owner_id
	      build-config-uri: "{{ .url }}/{{ .workflow_ref }}"
	      build-config-digest: workflow_sha
	      build-trigger: event_name
	      run-invocation-uri: "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}"
	      source-repository-visibility-at-signing: repository_visibility
	      deployment-environment: environment
	    subject-alternative-name-template: "{{ .url }}/{{ .job_workflow_ref }}"
	EOF

	t0=$(now_ms)
	start oidc-issuer "$OIDC_BIN" --addr "$OIDC_ADDR" --request-token-file "$pki/request-token"
	start tesseract "$TESSERACT_BIN" --http_endpoint "$CT_ADDR" --origin 127.0.0.1/ctlog --path_prefix /ctlog \
		--private_key "$pki/ct.key" --storage_dir "$d/ct" --roots_pem_file "$pki/root.pem"
	# HTTP and gRPC on one port panic in this version (duplicate metrics).
	start fulcio "$FULCIO_BIN" serve --ca fileca --fileca-cert "$pki/fulcio-chain.pem" \
		--fileca-key "$pki/intermediate.key" --fileca-key-passwd "" --fileca-watch=false \
		--ct-log-url "http://$CT_ADDR/ctlog" --ct-log-public-key-path "$pki/ct.pub" \
		--config-path "$d/fulcio.yaml" --host 127.0.0.1 --port $FULCIO_PORT \
		--grpc-host 127.0.0.1 --grpc-port $FULCIO_GRPC_PORT --metrics-port 2113 \
		--legacy-unix-domain-socket "$d/fulcio.sock"
	# --hostname must equal the host of the Rekor URL in the trusted root.
	start rekor "$REKOR_BIN" serve --http-address 127.0.0.1 --http-port $REKOR_PORT \
		--grpc-address 127.0.0.1 --grpc-port $REKOR_GRPC_PORT --http-metrics-port 2114 \
		--hostname 127.0.0.1 --storage-dir "$d/rekor" --signer-filepath "$pki/rekor.key" \
		--checkpoint-interval 1s
	start tsa "$TSA_BIN" serve --host 127.0.0.1 --port $TSA_PORT --timestamp-signer memory \
		--disable-ntp-monitoring

	wait_http oidc-issuer "$issuer/.well-known/openid-configuration"
	wait_http tesseract "http://$CT_ADDR/ctlog/ct/v1/get-roots"
	wait_http fulcio "http://127.0.0.1:$FULCIO_PORT/api/v2/trustBundle"
	wait_http rekor "http://127.0.0.1:$REKOR_PORT/healthz"
	wait_http tsa "http://127.0.0.1:$TSA_PORT/api/v1/timestamp/certchain"
	log "sigstore: servers answering in $(( ($(now_ms) - t0) / 1000 ))s"

	in_ns curl -sf "http://127.0.0.1:$TSA_PORT/api/v1/timestamp/certchain" -o "$pki/tsa-chain.pem" ||
		die "sigstore: fetching the TSA certificate chain failed"
	sigstore_client_files
}

# sigstore_client_files writes the files clients need: a cosign wrapper
# that never reaches the public TUF repository, the trusted root and the
# signing config.
sigstore_client_files() {
	local d=$SIGSTORE_DIR pki=$SIGSTORE_DIR/pki start
	mkdir -p "$d/cosign-home"
	cat >"$d/cosign" <<-EOF
	#!/bin/sh
	# cosign $COSIGN_VERSION with a private HOME and TUF_ROOT: never the public TUF CDN.
	HOME="$d/cosign-home" TUF_ROOT="$d/cosign-home/tuf" exec "$COSIGN_BIN" "\$@"
	EOF
	chmod +x "$d/cosign"
	start=$(rfc3339_ago 3600)
	"$d/cosign" trusted-root create \
		--fulcio="url=http://127.0.0.1:$FULCIO_PORT,certificate-chain=$pki/fulcio-chain.pem,start-time=$start" \
		--rekor="url=http://127.0.0.1:$REKOR_PORT,public-key=$pki/rekor.pub,start-time=$start,origin=127.0.0.1" \
		--ctfe="url=http://$CT_ADDR/ctlog,public-key=$pki/ct.pub,start-time=$start" \
		--tsa="url=http://127.0.0.1:$TSA_PORT/api/v1/timestamp,certificate-chain=$pki/tsa-chain.pem,start-time=$start" \
		--out "$d/trusted_root.json" >&2 || die "sigstore: cosign trusted-root create failed"
	"$d/cosign" signing-config create \
		--fulcio="url=http://127.0.0.1:$FULCIO_PORT,api-version=1,start-time=$start,operator=relkit-test" \
		--rekor="url=http://127.0.0.1:$REKOR_PORT,api-version=2,start-time=$start,operator=relkit-test" \
		--rekor-config=ANY \
		--oidc-provider="url=http://$OIDC_ADDR,api-version=1,start-time=$start,operator=relkit-test" \
		--tsa="url=http://127.0.0.1:$TSA_PORT/api/v1/timestamp,api-version=1,start-time=$start,operator=relkit-test" \
		--tsa-config=ANY \
		--out "$d/signing_config.json" >&2 || die "sigstore: cosign signing-config create failed"
}

sigstore_down() {
	stop tsa rekor fulcio tesseract oidc-issuer
}

sigstore_env() {
	local d=$SIGSTORE_DIR
	cat <<-EOF
	export SIGSTORE_DIR=$d
	export SIGSTORE_TRUSTED_ROOT=$d/trusted_root.json
	export SIGSTORE_SIGNING_CONFIG=$d/signing_config.json
	export SIGSTORE_OIDC_ISSUER=http://$OIDC_ADDR
	export SIGSTORE_FULCIO_URL=http://127.0.0.1:$FULCIO_PORT
	export SIGSTORE_REKOR_URL=http://127.0.0.1:$REKOR_PORT
	export SIGSTORE_TSA_URL=http://127.0.0.1:$TSA_PORT/api/v1/timestamp
	export SIGSTORE_CT_URL=http://$CT_ADDR/ctlog
	export COSIGN=$d/cosign
	export ACTIONS_ID_TOKEN_REQUEST_URL='http://$OIDC_ADDR/token?api-version=2.0'
	export ACTIONS_ID_TOKEN_REQUEST_TOKEN=$(cat "$d/pki/request-token" 2>/dev/null)
	EOF
}
