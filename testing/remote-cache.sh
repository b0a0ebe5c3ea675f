#!/usr/bin/env bash
# An HTTP remote cache for Bazel: Debian's nginx with WebDAV PUT, bound to
# 127.0.0.1 only. Bazel stores /ac/ and /cas/ entries under DIR/cache.
#
#   testing/remote-cache.sh start DIR [PORT]   # prints http://127.0.0.1:PORT
#   testing/remote-cache.sh stop DIR           # stops it by its recorded PID
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR" >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
port=${3:-9092}

case "${cmd}" in
start)
  mkdir -p "${dir}/cache" "${dir}/tmp"
  cat >"${dir}/nginx.conf" <<CONF
worker_processes 2;
user $(id -un) $(id -gn);
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/cache;
    client_max_body_size 0;
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw;
    }
  }
}
CONF
  nginx -p "${dir}" -c "${dir}/nginx.conf" -e "${dir}/error.log"
  for _ in $(seq 50); do
    if curl -fsS -o /dev/null -X PUT --data ok "http://127.0.0.1:${port}/health" 2>/dev/null &&
      curl -fsS -o /dev/null "http://127.0.0.1:${port}/health" 2>/dev/null; then
      echo "http://127.0.0.1:${port}"
      exit 0
    fi
    sleep 0.1
  done
  echo "remote-cache: nginx did not answer on 127.0.0.1:${port}; see ${dir}/error.log" >&2
  exit 1
  ;;
stop)
  if [ -f "${dir}/nginx.pid" ]; then
    pid=$(cat "${dir}/nginx.pid")
    kill "${pid}" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    rm -f "${dir}/nginx.pid"
  fi
  ;;
*) usage ;;
esac
