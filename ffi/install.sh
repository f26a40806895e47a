#!/bin/sh
# Installs libhttpqq (shared and static), httpqq.h, httpqq_cdef.h and two
# pkg-config files into a prefix:
#   httpqq.pc         the shared library, with an rpath (no LD_LIBRARY_PATH
#                     needed to run what it linked)
#   httpqq-static.pc  the static library, named by its path (so that it is
#                     linked even where the .so sits beside it: cgo, -lhttpqq)
#
#   ffi/install.sh PREFIX CARGO_OUTPUT_DIR
#
# `make install PREFIX=...` builds in release and calls this; `make test-c`
# installs a debug build into target/c-test/prefix the same way.
set -eu
prefix=$1
built=$2
here=$(cd "$(dirname "$0")/.." && pwd)

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" = 0 ]; then abi="0.$minor"; else abi="$major"; fi

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
cp "$built/libhttpqq_ffi.a" "$prefix/lib/libhttpqq.a"
cp "$built/libhttpqq_ffi.so" "$prefix/lib/libhttpqq.so.$version"
ln -sf "libhttpqq.so.$version" "$prefix/lib/libhttpqq.so.$abi"
ln -sf "libhttpqq.so.$abi" "$prefix/lib/libhttpqq.so"
cp "$here/include/httpqq.h" "$here/include/httpqq_cdef.h" "$prefix/include/"

# The system libraries the Rust standard library needs when linking
# statically (`cargo rustc -- --print native-static-libs` on Linux/glibc).
system_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
root=$(cd "$prefix" && pwd)
cat > "$prefix/lib/pkgconfig/httpqq.pc" <<PC
prefix=$root
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: httpqq
Description: HTTP QQ 1.1 client, codec and reference server (C API)
Version: $version
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lhttpqq
Libs.private: $system_libs
Cflags: -I\${includedir}
PC
cat > "$prefix/lib/pkgconfig/httpqq-static.pc" <<PC
prefix=$root
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: httpqq-static
Description: HTTP QQ 1.1 client, codec and reference server (C API), linked statically
Version: $version
Libs: \${libdir}/libhttpqq.a $system_libs
Cflags: -I\${includedir}
PC
echo "installed libhttpqq $version into $prefix"
