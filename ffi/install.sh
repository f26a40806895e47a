#!/bin/sh
# Installs libhttpqq (shared and static), httpqq.h and httpqq.pc into a prefix.
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
cp "$here/include/httpqq.h" "$prefix/include/httpqq.h"

# The system libraries the Rust standard library needs when linking
# statically (`cargo rustc -- --print native-static-libs` on Linux/glibc).
cat > "$prefix/lib/pkgconfig/httpqq.pc" <<PC
prefix=$(cd "$prefix" && pwd)
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: httpqq
Description: HTTP QQ 1.1 client, codec and reference server (C API)
Version: $version
Libs: -L\${libdir} -lhttpqq
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
Cflags: -I\${includedir}
PC
echo "installed libhttpqq $version into $prefix"
