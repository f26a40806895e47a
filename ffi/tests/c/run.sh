#!/bin/sh
# Builds the C test suite and the C example against an installed libhttpqq
# (found through pkg-config), with the shared and with the static library,
# and runs them, the shared build under valgrind memcheck as well; then
# drives the shared library from Python's ctypes.
#
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig ffi/tests/c/run.sh OUT_DIR
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
mkdir -p "$out"

cflags="-std=c99 -Wall -Wextra -Werror -pedantic -g $(pkg-config --cflags httpqq)"
libdir=$(pkg-config --variable=libdir httpqq)
# Exactly what the README says: httpqq.pc carries the rpath, so the
# programs run without LD_LIBRARY_PATH; httpqq-static.pc names the archive.
shared_libs="$(pkg-config --libs httpqq) -lpthread"
static_libs="$(pkg-config --libs httpqq-static)"

for example in "$here/test_httpqq.c" "$here/test_agent.c" "$repo/ffi/examples/chat.c"; do
    name=$(basename "$example" .c)
    cc $cflags "$example" -o "$out/${name}_shared" $shared_libs
    cc $cflags "$example" -o "$out/${name}_static" $static_libs
done
# The README's C example compiles against the installed header.
awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' "$repo/README.md" > "$out/readme.c"
cc $cflags "$out/readme.c" -o "$out/readme" $shared_libs

if ldd "$out/test_httpqq_static" | grep -q libhttpqq; then
    echo "the static build links libhttpqq.so" >&2
    exit 1
fi
if ! ldd "$out/test_httpqq_shared" | grep -q "libhttpqq.so.* => $libdir"; then
    echo "the shared build does not find libhttpqq.so by its rpath" >&2
    exit 1
fi
unset LD_LIBRARY_PATH

for suite in test_httpqq test_agent; do
    echo "== C suite $suite, shared library"
    "$out/${suite}_shared"
    echo "== C suite $suite, static library"
    "$out/${suite}_static"
done
echo "== C example"
"$out/chat_shared" > "$out/chat.txt"
grep -q "Bob got from 10001: 你好, Bob" "$out/chat.txt" || { cat "$out/chat.txt"; exit 1; }
"$out/chat_static" > /dev/null

if command -v valgrind > /dev/null; then
    for suite in test_httpqq test_agent; do
        for build in shared static; do
            echo "== C suite $suite, $build library, under valgrind memcheck"
            HTTPQQ_TEST_VALGRIND=1 valgrind -q --error-exitcode=99 --leak-check=full \
                --suppressions="$here/valgrind.supp" \
                --show-leak-kinds=definite,indirect,possible \
                --errors-for-leak-kinds=definite,indirect,possible \
                "$out/${suite}_$build"
        done
    done
else
    echo "valgrind is not installed: the memcheck run is skipped" >&2
    exit 1
fi

echo "== Python ctypes over the shared library"
python3 "$repo/ffi/tests/ctypes/test_ctypes.py" "$libdir/libhttpqq.so"
