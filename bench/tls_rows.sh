# Rows 17 and 18 (sourced by bench/run.sh, which sets repo, work, bench,
# server_bin, throughput_rows, pin and pids): TLS with one certificate for
# both sides, made here.
#
# Row 17: the server's TLS listener against nginx over TLS with the same
# certificate and the same fixed reply, 32 connections from wrk, kept
# connections and a new connection (a full handshake) per request.
# Row 18: the Rust client over TLS against a bare rustls client.
tls_dir=$work/tls
mkdir -p "$tls_dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tls_dir/key.pem" -out "$tls_dir/cert.pem" -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
    -days 2 2> /dev/null
start_tls_server() {
    : > "$work/$2.out" # looked at before the server's shell has opened it
    $1 "$server_bin" --listen 127.0.0.1:0 --accounts bench/accounts.toml \
        --tls-listen 127.0.0.1:0 --tls-cert "$tls_dir/cert.pem" --tls-key "$tls_dir/key.pem" \
        > "$work/$2.out" 2>&1 &
    pids="$pids $!"
    for _ in $(seq 50); do
        plain_addr=$(sed -n 's/^httpqq-server listening on //p' "$work/$2.out")
        tls_addr=$(sed -n 's/^httpqq-server listening with TLS on //p' "$work/$2.out")
        [ -n "$tls_addr" ] && break
        sleep 0.1
    done
}
start_tls_server "" tls-free
"$bench" login --endpoint "$plain_addr" --uin 10004
body="VER=1.1&CMD=GetMsgEx&SEQ=1&UIN=10004"
reply=$(curl -s --cacert "$tls_dir/cert.pem" --data-binary "$body" "https://$tls_addr/")
case "$reply" in *RES=0*) ;; *) echo "the TLS listener did not answer GetMsgEx: $reply" >&2; exit 1 ;; esac
nginx_tls_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx-tls"
cat > "$work/nginx-tls/nginx.conf" <<CONF
worker_processes 2;
pid $repo/$work/nginx-tls/nginx.pid;
error_log $repo/$work/nginx-tls/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $repo/$work/nginx-tls;
    server {
        listen 127.0.0.1:$nginx_tls_port ssl;
        ssl_certificate $repo/$tls_dir/cert.pem;
        ssl_certificate_key $repo/$tls_dir/key.pem;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / {
            default_type "text/plain; charset=UTF-8";
            return 200 '$reply';
        }
    }
}
CONF
/usr/sbin/nginx -c "$repo/$work/nginx-tls/nginx.conf" -p "$repo/$work/nginx-tls"
throughput_rows 17 "server throughput over TLS" "https://$tls_addr/" \
    "https://127.0.0.1:$nginx_tls_port/" "nginx over TLS, same certificate and reply" 5
kill "$(cat "$work/nginx-tls/nginx.pid")" 2>/dev/null || true

start_tls_server "taskset -c 1" tls-pinned
$pin "$bench" tls-client --addr "$tls_addr" --ca "$tls_dir/cert.pem"
