#!/bin/sh
# Builds the Debian packages from the Linux archives packaging/c.sh left
# unpacked in OUT_DIR, into OUT_DIR/deb/:
#
#   libhttpqq0     the shared client library (/usr/lib/<multiarch>/)
#   libhttpqq-dev  the headers (httpqq.h, httpqq_testing.h, httpqq.hpp,
#                  httpqq_testing.hpp, the flat _cdef.h), the static
#                  library, the unversioned links, pkg-config files and the
#                  CMake package, the test server (libhttpqq_testing, which
#                  only tests link) and the valgrind suppressions
#
#   sh packaging/deb.sh OUT_DIR TRIPLE...      (Linux triples)
set -eu
out=$(cd "${1:?usage: deb.sh OUT_DIR TRIPLE...}" && pwd)
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/packaging/version.sh"
deb_out=$out/deb
rm -rf "$deb_out"
mkdir -p "$deb_out"

for triple in "$@"; do
    case $triple in
        x86_64-unknown-linux-gnu) arch=amd64 multiarch=x86_64-linux-gnu ;;
        aarch64-unknown-linux-gnu) arch=arm64 multiarch=aarch64-linux-gnu ;;
        *) echo "deb.sh: no Debian architecture for $triple" >&2; exit 2 ;;
    esac
    unpacked=$out/libhttpqq-$version-$triple
    libdir=usr/lib/$multiarch

    # libhttpqq0: the runtime.
    root=$deb_out/libhttpqq0_$arch
    mkdir -p "$root/DEBIAN" "$root/$libdir" "$root/usr/share/doc/libhttpqq0"
    cp "$unpacked/lib/libhttpqq.so.$version" "$root/$libdir/"
    ln -s "libhttpqq.so.$version" "$root/$libdir/libhttpqq.so.$abi"
    cp "$repo/packaging/deb/copyright" "$root/usr/share/doc/libhttpqq0/"
    cat > "$root/DEBIAN/control" <<CONTROL
Package: libhttpqq0
Version: $version
Architecture: $arch
Multi-Arch: same
Section: libs
Priority: optional
Depends: libc6 (>= 2.17), libgcc-s1
Maintainer: The httpqq developers <httpqq@invalid>
Description: HTTP QQ 1.1 client library (C API)
 libhttpqq speaks the HTTP QQ 1.1 instant-messaging protocol: a client,
 its codec, and an agent for bots that stay up (backoff, penalties,
 re-login, a durable inbox), with optional TLS.
CONTROL
    echo "activate-noawait ldconfig" > "$root/DEBIAN/triggers"

    # libhttpqq-dev: what building against it needs, and the test server.
    dev=$deb_out/libhttpqq-dev_$arch
    mkdir -p "$dev/DEBIAN" "$dev/$libdir/pkgconfig" "$dev/$libdir/cmake/httpqq" "$dev/usr/include" \
        "$dev/usr/share/httpqq" "$dev/usr/share/doc/libhttpqq-dev"
    cp "$unpacked/lib/libhttpqq.a" "$unpacked/lib/libhttpqq_testing.so.$version" "$dev/$libdir/"
    ln -s "libhttpqq.so.$abi" "$dev/$libdir/libhttpqq.so"
    ln -s "libhttpqq_testing.so.$version" "$dev/$libdir/libhttpqq_testing.so.$abi"
    ln -s "libhttpqq_testing.so.$abi" "$dev/$libdir/libhttpqq_testing.so"
    cp "$unpacked"/include/* "$dev/usr/include/"
    cp "$unpacked/share/httpqq/valgrind.supp" "$dev/usr/share/httpqq/"
    cp "$repo/packaging/deb/copyright" "$dev/usr/share/doc/libhttpqq-dev/"
    # pkg-config and CMake as the system's: /usr, the multiarch folder.
    for pc in "$unpacked"/lib/pkgconfig/*.pc; do
        sed -e 's|^prefix=.*|prefix=/usr|' -e "s|^libdir=.*|libdir=\${prefix}/lib/$multiarch|" \
            -e 's| -Wl,-rpath,${libdir}||' "$pc" > "$dev/$libdir/pkgconfig/$(basename "$pc")"
    done
    sed -e "s|/\.\./\.\./\.\.\"|/../../../..\"|" -e "s|\${_httpqq_prefix}/lib/|\${_httpqq_prefix}/lib/$multiarch/|g" \
        "$unpacked/lib/cmake/httpqq/httpqq-config.cmake" > "$dev/$libdir/cmake/httpqq/httpqq-config.cmake"
    cp "$unpacked/lib/cmake/httpqq/httpqq-config-version.cmake" "$dev/$libdir/cmake/httpqq/"
    cat > "$dev/DEBIAN/control" <<CONTROL
Package: libhttpqq-dev
Version: $version
Architecture: $arch
Multi-Arch: same
Section: libdevel
Priority: optional
Depends: libhttpqq0 (= $version)
Maintainer: The httpqq developers <httpqq@invalid>
Description: HTTP QQ 1.1 client library (C API): development files
 Headers (C, and header-only C++17), the static library, pkg-config
 files (httpqq, httpqq-static, httpqq-testing) and a CMake package
 (httpqq::httpqq, httpqq::static, httpqq::testing) for libhttpqq, with
 libhttpqq_testing, the reference server to run inside your tests.
CONTROL

    for package in "$root" "$dev"; do
        dpkg-deb --root-owner-group --build "$package" "$deb_out" > /dev/null
        rm -rf "$package"
    done
    echo "   $deb_out/libhttpqq0_${version}_$arch.deb, libhttpqq-dev_${version}_$arch.deb"
done
