# shellcheck shell=bash
# S3 for the local stack, sourced by testing/stack: versitygw (Apache-2.0),
# a real S3 API with SigV4 checks and conditional writes, storing into
# $STACK_DIR/s3 on the local filesystem (which needs extended attributes;
# ext4 and xfs have them). The bucket is readable anonymously, as through
# a CDN, so release URLs are plain HTTP GETs.

VERSITYGW_VERSION=v1.8.0
S3_ADDR=127.0.0.1:7070
S3_BUCKET=relkit-dist
S3_REGION=us-east-1
S3_DIR=$STACK_DIR/s3
# Built once per version, outside any checkout.
VERSITYGW_CACHE=${RELKIT_VERSITYGW_CACHE:-$HOME/.cache/relkit-versitygw}

s3_build() {
	local dir=$VERSITYGW_CACHE/$VERSITYGW_VERSION t0
	if [ ! -x "$dir/bin/versitygw" ]; then
		t0=$(now_ms)
		log "building versitygw $VERSITYGW_VERSION (once; cached in $dir)"
		mkdir -p "$dir"
		(cd "$dir" && GOBIN="$dir/bin.tmp" GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION") >&2 ||
			die "building versitygw $VERSITYGW_VERSION failed"
		rm -rf "${dir:?}/bin" && mv "$dir/bin.tmp" "$dir/bin"
		log "built versitygw in $(( ($(now_ms) - t0) / 1000 ))s"
	fi
	VERSITYGW_BIN=$dir/bin/versitygw
}

s3_up() {
	s3_build
	rm -rf "$S3_DIR"
	mkdir -p "$S3_DIR/data" "$S3_DIR/pki"
	# Fresh root credentials for each stack.
	(umask 077; openssl rand -hex 10 >"$S3_DIR/pki/access-key"; openssl rand -hex 20 >"$S3_DIR/pki/secret-key")
	ROOT_ACCESS_KEY=$(cat "$S3_DIR/pki/access-key") ROOT_SECRET_KEY=$(cat "$S3_DIR/pki/secret-key") \
		start s3 "$VERSITYGW_BIN" --quiet --port "$S3_ADDR" --region "$S3_REGION" posix "$S3_DIR/data"
	s3_wait
	s3_make_bucket
}

# s3_wait waits until the server answers at all (anonymous requests get 403).
s3_wait() {
	for _ in $(seq 1 300); do
		[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$S3_ADDR/")" != 000 ] && return 0
		kill -0 "$(cat "$STACK_DIR/pids/s3.pid")" 2>/dev/null || { tail -n 20 "$STACK_DIR/logs/s3.log" >&2; die "s3 exited during start"; }
		sleep 0.1
	done
	die "s3 did not answer on $S3_ADDR within 30s; log: $STACK_DIR/logs/s3.log"
}

# s3_make_bucket creates the bucket (a directory, for the posix backend)
# and lets anyone read its objects.
s3_make_bucket() {
	local policy
	s3_curl PUT "http://$S3_ADDR/$S3_BUCKET" "" || die "s3: creating bucket $S3_BUCKET failed"
	policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::'$S3_BUCKET'/*"]}]}'
	s3_curl PUT "http://$S3_ADDR/$S3_BUCKET?policy=" "$policy" || die "s3: making bucket $S3_BUCKET public failed"
	log "s3: bucket $S3_BUCKET ready at http://$S3_ADDR/$S3_BUCKET"
}

# s3_curl METHOD URL BODY: a SigV4-signed request as the root user (the
# server requires the payload hash header).
s3_curl() {
	local sum
	sum=$(printf %s "$3" | sha256sum | cut -d' ' -f1)
	in_ns curl -sS -f -o /dev/null -X "$1" --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$(cat "$S3_DIR/pki/access-key"):$(cat "$S3_DIR/pki/secret-key")" \
		-H "x-amz-content-sha256: $sum" -H "Content-Type: application/json" --data-binary "$3" "$2"
}

s3_down() { stop s3; }

s3_env() {
	cat <<-EOF
	export AWS_ACCESS_KEY_ID=$(cat "$S3_DIR/pki/access-key" 2>/dev/null)
	export AWS_SECRET_ACCESS_KEY=$(cat "$S3_DIR/pki/secret-key" 2>/dev/null)
	export AWS_REGION=$S3_REGION
	export AWS_EC2_METADATA_DISABLED=true
	export RELKIT_S3_ENDPOINT=http://$S3_ADDR
	export RELKIT_S3_REGION=$S3_REGION
	export RELKIT_S3_PATH_STYLE=true
	export RELKIT_BUCKET=$S3_BUCKET
	export RELKIT_BASE_URL=http://$S3_ADDR/$S3_BUCKET
	EOF
}
