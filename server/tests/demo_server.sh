# Sourced by the shell test scripts (ffi/tests/c/run.sh, bindings/run.sh,
# bench/run.sh): starts the reference server's command on a free loopback
# port in the background and sets $address to the host:port it listens on
# and $server_pid to its process; the caller stops it.
#
#   start_demo_server SERVER_COMMAND LOG_FILE [PREFIX_COMMAND] [ARGS...]
#
# PREFIX_COMMAND runs the command under another (`taskset -c 1`; "" for
# none); ARGS replace `--demo`.
start_demo_server() {
    command=$1
    log=$2
    wrapper=${3:-}
    shift 2
    [ $# -gt 0 ] && shift
    [ $# -gt 0 ] || set -- --demo
    # The log exists before the server does: the background shell opens
    # it only when it gets to run, and the first look must not fail then.
    : > "$log"
    # shellcheck disable=SC2086
    $wrapper "$command" --listen 127.0.0.1:0 "$@" > "$log" 2>&1 &
    server_pid=$!
    address=""
    for _ in $(seq 100); do
        address=$(sed -n 's/^httpqq-server listening on //p' "$log")
        [ -n "$address" ] && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$log" >&2
    return 1
}
