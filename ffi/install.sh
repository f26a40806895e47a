#!/bin/sh
# Builds the C libraries and installs them into a prefix:
#   lib/libhttpqq.so (+ soname links), lib/libhttpqq.a   the client
#   lib/libhttpqq_testing.so (+ soname links)          the in-process test
#                                                      server (shared only;
#                                                      it links libhttpqq)
#   include/httpqq.h, httpqq_cdef.h, httpqq_testing.h, httpqq_testing_cdef.h,
#   httpqq.hpp, httpqq_testing.hpp (the C++ binding, header-only)
#   lib/pkgconfig/httpqq.pc          the shared library, with an rpath (no
#                                    LD_LIBRARY_PATH needed to run what it
#                                    linked)
#   lib/pkgconfig/httpqq-static.pc   the static library, named by its path
#                                    (so it is linked even where the .so
#                                    sits beside it: cgo, -lhttpqq)
#   lib/pkgconfig/httpqq-testing.pc  the test server (Requires: httpqq)
#   share/httpqq/valgrind.supp       what memcheck must be told about the
#                                    agent's thread and the TLS library
#
#   ffi/install.sh PREFIX [debug|release]
#
# `make install PREFIX=...` builds in release; `make test-c` installs a
# debug build into target/c-test/prefix the same way. CARGO and TARGET_DIR
# are taken from the environment (cargo, target). The pkg-config files of
# the portable archives (`make dist`) are relocatable; these name the
# prefix.
set -eu
prefix=$1
profile=${2:-release}
here=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-cargo}
target_dir=${TARGET_DIR:-$here/target}
case $profile in
    release) flag=--release ;;
    debug) flag= ;;
    *) echo "install.sh: the profile is debug or release, not $profile" >&2; exit 2 ;;
esac
built=$target_dir/$profile

repo=$here
. "$repo/packaging/version.sh"

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/share/httpqq"
root=$(cd "$prefix" && pwd)

# The client first: the test server links it from where it is installed.
(cd "$here" && CARGO_TARGET_DIR=$target_dir $cargo build --quiet --locked $flag -p httpqq-ffi)
cp "$built/libhttpqq_ffi.a" "$prefix/lib/libhttpqq.a"
cp "$built/libhttpqq_ffi.so" "$prefix/lib/libhttpqq.so.$version"
ln -sf "libhttpqq.so.$version" "$prefix/lib/libhttpqq.so.$abi"
ln -sf "libhttpqq.so.$abi" "$prefix/lib/libhttpqq.so"

(cd "$here" && HTTPQQ_LIB_DIR=$root/lib CARGO_TARGET_DIR=$target_dir \
    $cargo build --quiet --locked $flag -p httpqq-ffi-testing)
cp "$built/libhttpqq_testing.so" "$prefix/lib/libhttpqq_testing.so.$version"
ln -sf "libhttpqq_testing.so.$version" "$prefix/lib/libhttpqq_testing.so.$abi"
ln -sf "libhttpqq_testing.so.$abi" "$prefix/lib/libhttpqq_testing.so"

for header in httpqq.h httpqq_cdef.h httpqq_testing.h httpqq_testing_cdef.h; do
    cp "$here/include/$header" "$prefix/include/"
done
cp "$here/bindings/cpp/httpqq.hpp" "$here/bindings/cpp/httpqq_testing.hpp" "$prefix/include/"
cp "$here/ffi/tests/c/valgrind.supp" "$prefix/share/httpqq/valgrind.supp"

# The system libraries the Rust standard library needs when linking
# statically (`cargo rustc -- --print native-static-libs` on Linux/glibc).
system_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
cat > "$prefix/lib/pkgconfig/httpqq.pc" <<PC
prefix=$root
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: httpqq
Description: HTTP QQ 1.1 client and codec (C API)
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
Description: HTTP QQ 1.1 client and codec (C API), linked statically
Version: $version
Libs: \${libdir}/libhttpqq.a $system_libs
Cflags: -I\${includedir}
PC
cat > "$prefix/lib/pkgconfig/httpqq-testing.pc" <<PC
prefix=$root
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: httpqq-testing
Description: the HTTP QQ reference server in your process, for tests (C API)
Version: $version
Requires: httpqq = $version
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lhttpqq_testing
Cflags: -I\${includedir}
PC
echo "installed libhttpqq and libhttpqq_testing $version into $prefix"
