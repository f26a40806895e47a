#!/bin/sh
# Builds the C test suites against an installed libhttpqq and
# libhttpqq_testing (found through pkg-config: httpqq-testing requires
# httpqq) and runs them, under valgrind memcheck as well; builds the C
# example (the client alone) with the shared and with the static library
# and runs it against the reference server's command; then drives the
# shared libraries from Python's ctypes.
#
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig ffi/tests/c/run.sh OUT_DIR SERVER_BIN
set -eu
out=$1
server_bin=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
mkdir -p "$out"

warnings="-std=c99 -Wall -Wextra -Werror -pedantic -g"
libdir=$(pkg-config --variable=libdir httpqq)
# Exactly what the README says: the .pc files carry the rpath, so the
# programs run without LD_LIBRARY_PATH; httpqq-static.pc names the archive.
testing="$(pkg-config --cflags --libs httpqq-testing) -lpthread"
client="$(pkg-config --cflags --libs httpqq)"
static="$(pkg-config --cflags --libs httpqq-static)"

for suite in test_httpqq test_agent; do
    cc $warnings "$here/$suite.c" -o "$out/$suite" $testing
done
cc $warnings "$repo/ffi/examples/chat.c" -o "$out/chat_shared" $client
cc $warnings "$repo/ffi/examples/chat.c" -o "$out/chat_static" $static
cc $warnings "$repo/ffi/examples/with_test_server.c" -o "$out/with_test_server" $testing
# The README's C example compiles against the installed headers.
awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' "$repo/README.md" > "$out/readme.c"
cc $warnings "$out/readme.c" -o "$out/readme" $client

if ldd "$out/chat_static" | grep -q libhttpqq; then
    echo "the static build links libhttpqq.so" >&2
    exit 1
fi
if ! ldd "$out/chat_shared" | grep -q "libhttpqq.so.* => $libdir"; then
    echo "the shared build does not find libhttpqq.so by its rpath" >&2
    exit 1
fi
# The lean library: a program that only talks to a server carries none.
if ldd "$out/chat_shared" | grep -q libhttpqq_testing; then
    echo "the client example links libhttpqq_testing" >&2
    exit 1
fi
if nm -D --defined-only "$libdir/libhttpqq.so" | grep -q httpqq_server_; then
    echo "libhttpqq exports the test server" >&2
    exit 1
fi
unset LD_LIBRARY_PATH

for suite in test_httpqq test_agent with_test_server; do
    echo "== C $suite"
    "$out/$suite"
done

echo "== C example, shared and static, against the server's command"
. "$repo/server/tests/demo_server.sh"
start_demo_server "$server_bin" "$out/server.out"
trap 'kill $server_pid 2> /dev/null || true' EXIT
for build in shared static; do
    "$out/chat_$build" "$address" > "$out/chat.txt"
    grep -q "Bob got from 10001: 你好, Bob" "$out/chat.txt" || { cat "$out/chat.txt"; exit 1; }
done

if command -v valgrind > /dev/null; then
    for suite in test_httpqq test_agent; do
        echo "== C suite $suite under valgrind memcheck"
        valgrind -q --error-exitcode=99 --leak-check=full \
            --suppressions="$(pkg-config --variable=prefix httpqq)/share/httpqq/valgrind.supp" \
            --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible \
            "$out/$suite"
    done
    echo "== C example (static) under valgrind memcheck"
    valgrind -q --error-exitcode=99 --leak-check=full \
        --suppressions="$(pkg-config --variable=prefix httpqq)/share/httpqq/valgrind.supp" \
        --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible \
        "$out/chat_static" "$address" > /dev/null
else
    echo "valgrind is not installed: the memcheck run is skipped" >&2
    exit 1
fi

echo "== Python ctypes over the shared library"
python3 "$repo/ffi/tests/ctypes/test_ctypes.py" "$libdir/libhttpqq.so" "$libdir/libhttpqq_testing.so"
