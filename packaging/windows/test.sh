#!/bin/sh
# Runs the Windows build under wine, as a Windows user's programs would use
# it: the C release archive for x86_64-pc-windows-gnu (from `make dist` or
# `make test`'s dist-check), unpacked in a fresh folder; the C suites and
# examples compiled by mingw-w64 against it (through its pkg-config files,
# shared and static), the C and C++ examples built by CMake with
# find_package(httpqq) in a mingw cross build, each run under wine (the
# client examples against the reference server's Linux command, across the
# two systems). `make test-windows` runs the core and server crates' own
# tests under wine before this.
#
#   sh packaging/windows/test.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND
#
# Uses the wine prefix WINEPREFIX (default: SCRATCH_DIR/../wine), made on
# first use by wine.sh.
set -eu
dist=$(cd "${1:?usage: test.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND}" && pwd)
scratch=${2:?usage: test.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND}
server_bin=${3:?usage: test.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
rm -rf "$scratch"
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
WINEPREFIX=${WINEPREFIX:-$(dirname "$scratch")/wine}
WINEDEBUG=-all
export WINEPREFIX WINEDEBUG
sh "$here/wine.sh" "$WINEPREFIX"

. "$repo/packaging/version.sh"
name=libhttpqq-$version-x86_64-pc-windows-gnu
tar -xzf "$dist/$name.tar.gz" -C "$scratch"
unpacked=$scratch/$name
cc=x86_64-w64-mingw32-gcc
warnings="-std=c99 -Wall -Wextra -Werror -pedantic"
# mingw's own runtime (libgcc, winpthreads) goes into each program, as a
# Windows user's would not have its DLLs; libhttpqq stays a DLL, linked
# through its import library (which -static would not look for).
export PKG_CONFIG_PATH="$unpacked/lib/pkgconfig"
pc() { pkg-config "$@"; }
runtime="-static-libgcc -Wl,-Bstatic -lpthread -Wl,-Bdynamic"

out=$scratch/c
mkdir -p "$out"
cp "$unpacked"/bin/*.dll "$out/"
for suite in test_httpqq test_agent; do
    # shellcheck disable=SC2046
    $cc $warnings "$repo/ffi/tests/c/$suite.c" -o "$out/$suite.exe" $(pc --cflags --libs httpqq-testing) $runtime -lws2_32
done
# shellcheck disable=SC2046
$cc $warnings "$repo/ffi/examples/with_test_server.c" -o "$out/with_test_server.exe" $(pc --cflags --libs httpqq-testing) $runtime
# shellcheck disable=SC2046
$cc $warnings "$repo/ffi/examples/chat.c" -o "$out/chat_shared.exe" $(pc --cflags --libs httpqq) $runtime
# shellcheck disable=SC2046
$cc $warnings "$repo/ffi/examples/chat.c" -o "$out/chat_static.exe" $(pc --cflags --libs httpqq-static) $runtime
if x86_64-w64-mingw32-objdump -p "$out/chat_static.exe" | grep -qi "DLL Name: httpqq"; then
    echo "the static build loads httpqq.dll" >&2
    exit 1
fi
x86_64-w64-mingw32-objdump -p "$out/chat_shared.exe" | grep -q "DLL Name: httpqq.dll" ||
    { echo "the shared build does not load httpqq.dll" >&2; exit 1; }

for suite in test_httpqq test_agent with_test_server; do
    echo "== C $suite.exe under wine"
    (cd "$out" && wine "./$suite.exe")
done

. "$repo/server/tests/demo_server.sh"
start_demo_server "$server_bin" "$scratch/server.out"
trap 'kill $server_pid 2> /dev/null || true' EXIT
echo "== C example under wine, shared and static, against the server's Linux command"
for build in shared static; do
    (cd "$out" && wine "./chat_$build.exe" "$address") > "$out/chat.txt"
    grep -q "Bob got from 10001: 你好, Bob" "$out/chat.txt" || { cat "$out/chat.txt"; exit 1; }
done

echo "== C and C++: CMake's find_package(httpqq) in a mingw cross build, run under wine"
build=$scratch/cmake-build
cmake -S "$repo/packaging/examples/cmake" -B "$build" -DEXAMPLES_DIR="$repo/ffi/examples" \
    -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER=$cc -DCMAKE_CXX_COMPILER=x86_64-w64-mingw32-g++ \
    -DCMAKE_EXE_LINKER_FLAGS=-static -DCMAKE_PREFIX_PATH="$unpacked" \
    -DCMAKE_FIND_ROOT_PATH="$unpacked" -DCMAKE_BUILD_TYPE=Release > "$scratch/cmake.log" 2>&1 ||
    { cat "$scratch/cmake.log"; exit 1; }
cmake --build "$build" > "$scratch/cmake-build.log" 2>&1 || { cat "$scratch/cmake-build.log"; exit 1; }
cp "$unpacked"/bin/*.dll "$build/"
for program in chat chat_static; do
    (cd "$build" && wine "./$program.exe" "$address") | grep -q "Bob got from 10001: 你好, Bob" ||
        { echo "$program.exe did not chat" >&2; exit 1; }
done
(cd "$build" && wine ./with_test_server.exe && wine ./hello_cpp.exe) > "$scratch/cmake-run.txt"
echo "   chat (httpqq::httpqq, httpqq::static), with_test_server and hello_cpp (httpqq::testing) ran"
