#!/bin/sh
# Runs every binding's tests against the libhttpqq installed in <prefix>
# (by `make test-c`, exactly as `make install` lays it out): Node.js
# (node --test and tsc), LuaJIT, Go (shared and static), Ruby (minitest)
# and C++ (warnings as errors, valgrind).
#
# The toolchains come from the package registries when missing: Debian's
# luajit, ruby, ruby-ffi and golang-go (apt-get, as root), and the Node
# package's locked dependencies (npm ci, into bindings/node/node_modules).
#
#   sh bindings/run.sh <prefix> <build dir>
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "${1:?usage: run.sh <prefix> <build dir>}" && pwd)
out=${2:?usage: run.sh <prefix> <build dir>}
mkdir -p "$out"
out=$(cd "$out" && pwd)

missing=""
command -v luajit > /dev/null || missing="$missing luajit"
command -v ruby > /dev/null || missing="$missing ruby"
ruby -e 'require "ffi"' 2> /dev/null || missing="$missing ruby-ffi"
command -v go > /dev/null || missing="$missing golang-go"
command -v node > /dev/null || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
    echo "== installing$missing (apt-get)"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing > /dev/null
fi

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

echo "== Go ($(go version | cut -d' ' -f3)), shared library"
(cd "$here/go" && GOFLAGS=-count=1 go test ./...)
echo "== Go, static library (-tags httpqq_static)"
(cd "$here/go" && go test -c -tags httpqq_static -o "$out/go_static.test" . && "$out/go_static.test" -test.count=1)
if ldd "$out/go_static.test" | grep -q libhttpqq; then
    echo "the static Go build links libhttpqq.so" >&2
    exit 1
fi

echo "== Ruby $(ruby -e 'print RUBY_VERSION') (ffi gem)"
ruby -I"$here/ruby/lib" "$here/ruby/test/test_httpqq.rb"

sh "$here/cpp/run.sh" "$out/cpp"
