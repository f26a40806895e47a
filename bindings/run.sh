#!/bin/sh
# Runs every binding's tests against the libhttpqq and libhttpqq_testing
# installed in <prefix> (by `make test-c`, exactly as `make install` lays
# them out): Node.js (node --test and tsc), LuaJIT, Go (shared; the static
# build's example against the server's command), Ruby (minitest) and C++
# (warnings as errors, valgrind).
#
# The toolchains come from the package registries when missing: Debian's
# luajit, ruby, ruby-ffi and golang-go (apt-get, as root), and the Node
# package's locked dependencies (npm ci, into bindings/node/node_modules).
#
#   sh bindings/run.sh <prefix> <build dir> <httpqq-server command>
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "${1:?usage: run.sh <prefix> <build dir>}" && pwd)
out=${2:?usage: run.sh <prefix> <build dir> <httpqq-server command>}
server_bin=${3:?usage: run.sh <prefix> <build dir> <httpqq-server command>}
mkdir -p "$out"
out=$(cd "$out" && pwd)

missing=""
command -v luajit > /dev/null || missing="$missing luajit"
command -v ruby > /dev/null || missing="$missing ruby"
ruby -e 'require "ffi"' 2> /dev/null || missing="$missing ruby-ffi"
command -v go > /dev/null || missing="$missing golang-go"
command -v node > /dev/null || missing="$missing nodejs npm"
# shellcheck disable=SC2086
sh "$here/../packaging/apt-install.sh" $missing

# Found without LD_LIBRARY_PATH: the runtimes load it by path, and what
# links it (Go, C++) gets the rpath from httpqq.pc.
export HTTPQQ_LIB="$prefix/lib/libhttpqq.so"
export HTTPQQ_CDEF="$prefix/include/httpqq_cdef.h"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset LD_LIBRARY_PATH

echo "== Node.js $(node --version) (koffi)"
(cd "$here/node" && npm ci --silent --no-audit --no-fund && npm test --silent)

echo "== LuaJIT ($(luajit -v | cut -d' ' -f1-2))"
(cd "$here/lua" && luajit test.lua)

# Go takes the library where CGO_CFLAGS and CGO_LDFLAGS say, as its
# README tells a user to with the release archive.
export CGO_CFLAGS="-I$prefix/include"
export CGO_LDFLAGS="-L$prefix/lib -Wl,-rpath,$prefix/lib"
echo "== Go ($(go version | cut -d' ' -f3)), shared library"
(cd "$here/go" && GOFLAGS=-count=1 go test ./...)
echo "== Go, static library (-tags httpqq_static): the example against the server's command"
(cd "$here/go" && go build -tags httpqq_static -o "$out/go_chat_static" ./examples/chat)
if ldd "$out/go_chat_static" | grep -q libhttpqq; then
    echo "the static Go build links libhttpqq.so" >&2
    exit 1
fi
. "$here/../server/tests/demo_server.sh"
start_demo_server "$server_bin" "$out/server.out"
trap 'kill $server_pid 2> /dev/null || true' EXIT
"$out/go_chat_static" "$address" | grep -q "Bob got from 10001: 你好, Bob"
kill $server_pid

echo "== Ruby $(ruby -e 'print RUBY_VERSION') (ffi gem)"
ruby -I"$here/ruby/lib" "$here/ruby/test/test_httpqq.rb"

sh "$here/cpp/run.sh" "$out/cpp"
