#!/bin/sh
# Builds the C release archives: for each Rust target triple given,
# OUT_DIR/libhttpqq-<version>-<triple>.tar.gz, one top folder holding
#
#   lib/                  libhttpqq (shared and static) and libhttpqq_testing
#   lib/pkgconfig/        httpqq.pc, httpqq-static.pc, httpqq-testing.pc,
#                         relocatable (${pcfiledir}): they work wherever the
#                         archive is unpacked
#   lib/cmake/httpqq/     the CMake package: httpqq::httpqq, httpqq::static,
#                         httpqq::testing
#   include/              httpqq.h, httpqq_testing.h, their flat _cdef.h,
#                         httpqq.hpp, httpqq_testing.hpp
#   share/httpqq/         valgrind.supp
#   LICENSE-MIT, LICENSE-APACHE, README.md
#
# and leaves each unpacked beside it (OUT_DIR/libhttpqq-<version>-<triple>/)
# for the other packages (Node, Ruby, Lua, Go, Debian) to take the library
# from.
#
#   sh packaging/c.sh PROFILE OUT_DIR TRIPLE...
#
# PROFILE: release (`make dist`), or dist-check (what `make test` builds:
# no optimisation, no debug information). Linux libraries are linked by
# zig for glibc 2.17 (cargo-zigbuild, ziglang: the project's .venv on
# PATH), importing the system's unwinder (packaging/linkstub.sh).
set -eu
profile=${1:?usage: c.sh PROFILE OUT_DIR TRIPLE...}
out=${2:?usage: c.sh PROFILE OUT_DIR TRIPLE...}
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${TARGET_DIR:-$repo/target}/dist-build
stubs=$build/linkstub

. "$repo/packaging/version.sh"
case $profile in
    dev) profile_dir=debug ;;
    *) profile_dir=$profile ;;
esac

for triple in "$@"; do
    echo "== libhttpqq $version for $triple ($profile)"
    rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
    name=libhttpqq-$version-$triple
    stage=$out/$name
    rm -rf "$stage" "$stage.tar.gz"
    mkdir -p "$stage/lib/pkgconfig" "$stage/lib/cmake/httpqq" "$stage/include" "$stage/share/httpqq"
    upper=$(echo "$triple" | tr 'a-z-' 'A-Z_')
    case $triple in
        *-linux-gnu)
            arch=${triple%%-*}
            zig_target=$triple.2.17
            stub=$(sh "$repo/packaging/linkstub.sh" "$arch" "$stubs")
            rustflags="-C link-arg=$stub"
            shared=lib/libhttpqq.so.$version
            testing=lib/libhttpqq_testing.so.$version
            built_shared=libhttpqq_ffi.so
            built_testing=libhttpqq_testing.so
            static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
            ;;
        *-apple-darwin)
            zig_target=$triple
            rustflags=""
            shared=lib/libhttpqq.$abi.dylib
            testing=lib/libhttpqq_testing.$abi.dylib
            built_shared=libhttpqq_ffi.dylib
            built_testing=libhttpqq_testing.dylib
            static_libs="-liconv -lSystem -lc -lm"
            ;;
        *-windows-gnu)
            zig_target=""
            rustflags=""
            shared=bin/httpqq.dll
            testing=bin/httpqq_testing.dll
            built_shared=httpqq_ffi.dll
            built_testing=httpqq_testing.dll
            static_libs="-lbcrypt -ladvapi32 -lkernel32 -lntdll -luserenv -lws2_32 -ldbghelp"
            mkdir -p "$stage/bin"
            ;;
        *) echo "c.sh: no packaging for $triple" >&2; exit 2 ;;
    esac
    built=$build/$triple/$profile_dir

    # The client, then the test server linked against it as laid out.
    compile() {
        if [ -n "$zig_target" ]; then
            # (MACOSX_DEPLOYMENT_TARGET: macOS 11.0 and newer, as the
            # wheels; unused elsewhere.)
            env "CARGO_TARGET_${upper}_RUSTFLAGS=$rustflags" MACOSX_DEPLOYMENT_TARGET=11.0 "$@" \
                cargo zigbuild --quiet --locked --profile "$profile" --target "$zig_target" \
                --target-dir "$build" -p "$package"
        else
            env "$@" cargo build --quiet --locked --profile "$profile" --target "$triple" \
                --target-dir "$build" -p "$package"
        fi
    }
    package=httpqq-ffi compile "CARGO_TERM_COLOR=never"
    cp "$built/$built_shared" "$stage/$shared"
    cp "$built/libhttpqq_ffi.a" "$stage/lib/libhttpqq.a"
    case $triple in
        *-linux-gnu)
            ln -s "libhttpqq.so.$version" "$stage/lib/libhttpqq.so.$abi"
            ln -s "libhttpqq.so.$abi" "$stage/lib/libhttpqq.so"
            link_dir=$stage/lib
            ;;
        *-apple-darwin)
            ln -s "libhttpqq.$abi.dylib" "$stage/lib/libhttpqq.dylib"
            link_dir=$stage/lib
            ;;
        *-windows-gnu)
            # The import library, naming httpqq.dll (ffi/build.rs): what
            # programs link, and ld takes before the static library.
            cp "$built/libhttpqq_ffi.dll.a" "$stage/lib/libhttpqq.dll.a"
            link_dir=$stage/lib
            ;;
    esac
    package=httpqq-ffi-testing compile "HTTPQQ_LIB_DIR=$link_dir"
    cp "$built/$built_testing" "$stage/$testing"
    case $triple in
        *-linux-gnu)
            ln -s "libhttpqq_testing.so.$version" "$stage/lib/libhttpqq_testing.so.$abi"
            ln -s "libhttpqq_testing.so.$abi" "$stage/lib/libhttpqq_testing.so"
            ;;
        *-apple-darwin)
            ln -s "libhttpqq_testing.$abi.dylib" "$stage/lib/libhttpqq_testing.dylib"
            ;;
        *-windows-gnu)
            cp "$built/libhttpqq_testing.dll.a" "$stage/lib/libhttpqq_testing.dll.a"
            ;;
    esac
    if [ "$profile" = release ]; then
        case $triple in
            x86_64-unknown-linux-gnu) strip --strip-unneeded "$stage/$shared" "$stage/$testing" ;;
        esac
    fi

    for header in httpqq.h httpqq_cdef.h httpqq_testing.h httpqq_testing_cdef.h; do
        cp "$repo/include/$header" "$stage/include/"
    done
    cp "$repo/bindings/cpp/httpqq.hpp" "$repo/bindings/cpp/httpqq_testing.hpp" "$stage/include/"
    cp "$repo/ffi/tests/c/valgrind.supp" "$stage/share/httpqq/"
    cp "$repo/LICENSE-MIT" "$repo/LICENSE-APACHE" "$stage/"
    cp "$repo/packaging/README-c.md" "$stage/README.md"

    # pkg-config: relocatable, the rpath naming where it was unpacked
    # (Windows has none: its DLLs go beside the program, or on PATH).
    case $triple in
        *-windows-gnu) rpath="" ;;
        *) rpath='-Wl,-rpath,${libdir} ' ;;
    esac
    for pc in httpqq httpqq-static httpqq-testing; do
        {
            echo 'prefix=${pcfiledir}/../..'
            echo 'libdir=${prefix}/lib'
            echo 'includedir=${prefix}/include'
            echo
            case $pc in
                httpqq)
                    echo "Name: httpqq"
                    echo "Description: HTTP QQ 1.1 client and codec (C API)"
                    echo "Version: $version"
                    echo "Libs: -L\${libdir} $rpath-lhttpqq"
                    ;;
                httpqq-static)
                    echo "Name: httpqq-static"
                    echo "Description: HTTP QQ 1.1 client and codec (C API), linked statically"
                    echo "Version: $version"
                    echo "Libs: \${libdir}/libhttpqq.a $static_libs"
                    ;;
                httpqq-testing)
                    echo "Name: httpqq-testing"
                    echo "Description: the HTTP QQ reference server in your process, for tests (C API)"
                    echo "Version: $version"
                    echo "Requires: httpqq = $version"
                    echo "Libs: -L\${libdir} $rpath-lhttpqq_testing"
                    ;;
            esac
            echo 'Cflags: -I${includedir}'
        } > "$stage/lib/pkgconfig/$pc.pc"
    done

    # CMake: the package config and its version.
    implib_line="" soname_line="" testing_implib_line="" testing_soname_line=""
    case $triple in
        *-linux-gnu)
            soname_line="IMPORTED_SONAME \"libhttpqq.so.$abi\""
            testing_soname_line="IMPORTED_SONAME \"libhttpqq_testing.so.$abi\""
            ;;
        *-windows-gnu)
            implib_line="IMPORTED_IMPLIB \"\${_httpqq_prefix}/lib/libhttpqq.dll.a\""
            testing_implib_line="IMPORTED_IMPLIB \"\${_httpqq_prefix}/lib/libhttpqq_testing.dll.a\""
            ;;
    esac
    cmake_libs=$(echo "$static_libs" | sed 's/-framework \([A-Za-z]*\)/-framework_\1/g; s/-l//g; s/ /;/g; s/-framework_\([A-Za-z]*\)/-framework \1/g')
    sed -e "s|@UP@|../../..|" -e "s|@SHARED@|$shared|" -e "s|@STATIC@|lib/libhttpqq.a|" -e "s|@TESTING@|$testing|" \
        -e "s|@IMPLIB_LINE@|$implib_line|" -e "s|@SONAME_LINE@|$soname_line|" \
        -e "s|@TESTING_IMPLIB_LINE@|$testing_implib_line|" \
        -e "s|@TESTING_SONAME_LINE@|$testing_soname_line|" \
        -e "s|@STATIC_LIBS@|$cmake_libs|" \
        "$repo/packaging/cmake/httpqq-config.cmake.in" > "$stage/lib/cmake/httpqq/httpqq-config.cmake"
    sed -e "s|@VERSION@|$version|" -e "s|@MAJOR@|$major|" -e "s|@MINOR@|$minor|" \
        "$repo/packaging/cmake/httpqq-config-version.cmake.in" \
        > "$stage/lib/cmake/httpqq/httpqq-config-version.cmake"

    (cd "$out" && tar -czf "$name.tar.gz" "$name")
    echo "   $out/$name.tar.gz"
done
