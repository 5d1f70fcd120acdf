#!/bin/sh
# The benchmark's cheapest backend: nginx answering every request with the same 23 bytes
# ("hello from the backend\n", text/plain), so that what a front costs dominates what is measured.
# It follows docs/backend-contract.md, so Portico can start and supervise it like any backend:
#   PORTICO_PORT (or PORTICO_SOCKET with transport="unix")  where to listen, 127.0.0.1 only
#   PORTICO_TOKEN       requests without it are answered 400
#   PORTICO_PATH_BASE   .../.portico/shutdown is refused (501), so Portico sends SIGTERM at once,
#                       on which nginx stops at once
#   PORTICO_PARENT_PID  a watcher stops nginx when that process is gone
#   BENCH_NGINX_RUN     directory for this instance's config, pid file and logs (default: /tmp)
# bench/run.sh starts the same script itself for the "direct" and "nginx proxy" fronts.
set -eu
mkdir -p "${BENCH_NGINX_RUN:-/tmp}"
run=$(mktemp -d "${BENCH_NGINX_RUN:-/tmp}/nginx-backend.XXXXXX")
if [ -n "${PORTICO_SOCKET:-}" ]; then
    listen="unix:$PORTICO_SOCKET"
else
    listen="127.0.0.1:${PORTICO_PORT:?PORTICO_PORT or PORTICO_SOCKET is required}"
fi
cat > "$run/nginx.conf" <<EOF
# written by bench/nginx-backend.sh
worker_processes 1;
pid $run/nginx.pid;
error_log $run/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $run/client;
    proxy_temp_path $run/proxy;
    fastcgi_temp_path $run/fastcgi;
    uwsgi_temp_path $run/uwsgi;
    scgi_temp_path $run/scgi;
    keepalive_requests 1000000;
    default_type text/plain;
    server {
        listen $listen;
        location = ${PORTICO_PATH_BASE:-}/.portico/shutdown {
            return 501;
        }
        location / {
            if (\$http_x_portico_token != "${PORTICO_TOKEN:?}") {
                return 400;
            }
            return 200 "hello from the backend\n";
        }
    }
}
EOF
if [ -n "${PORTICO_PARENT_PID:-}" ]; then
    # the contract: exit when the front is gone. $$ stays this process's pid across the exec below.
    nginx_pid=$$
    ( while kill -0 "$PORTICO_PARENT_PID" 2>/dev/null && kill -0 "$nginx_pid" 2>/dev/null; do sleep 1; done
      kill -TERM "$nginx_pid" 2>/dev/null ) > /dev/null 2>&1 < /dev/null &
fi
exec nginx -p "$run" -c "$run/nginx.conf" -e "$run/error.log" -g 'daemon off;'
