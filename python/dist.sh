#!/bin/sh
# Builds what the Python package ships: portable wheels for Linux x86_64
# and aarch64 (manylinux2014: glibc 2.17 or newer, linked through zig, from
# the ziglang package on PyPI, with the unwinder imported from the system's
# libgcc_s.so.1), for macOS x86_64 and arm64 (11.0 or newer, linked through
# zig; built and checked here, not run), for Windows x86_64 (linked by
# mingw-w64 from Debian, importing python3.dll through the import library
# pyo3 makes; built and checked here, not run), and the sdist.
#
#   sh python/dist.sh PROFILE OUT_DIR     (PROFILE: release, or dev for tests)
#
# Run with the project's virtualenv first on PATH (maturin, ziglang):
# `make wheel` does. In the dev profile the macOS and Windows wheels are
# built without debug information (dist-check), which only makes them
# slower to link.
set -eu
profile=${1:?usage: dist.sh PROFILE OUT_DIR}
out=${2:?usage: dist.sh PROFILE OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
rm -f "$out"/httpqq-*.whl "$out"/httpqq-*.tar.gz
for target in aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu; do
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
stubs=$(mktemp -d)
trap 'rm -rf "$stubs"' EXIT
for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do
    arch=${target%%-*}
    echo "== wheel for $target (manylinux2014, $profile)"
    # The extension imports the unwinder from the system's libgcc_s.so.1
    # (see python/linkstub/libgcc_s.c): linked against a stand-in made here.
    stub=$(sh "$here/../packaging/linkstub.sh" "$arch" "$stubs")
    upper=$(echo "$target" | tr 'a-z-' 'A-Z_')
    env "CARGO_TARGET_${upper}_RUSTFLAGS=-C link-arg=$stub" \
        maturin build --quiet --locked --profile "$profile" --zig --compatibility manylinux2014 \
        --target "$target" -m "$here/Cargo.toml" -o "$out"
done
# In packaging/c.sh's target folder and profile, so that what the C
# archives built for the target (rustls, SQLite, the server) is reused.
foreign_profile=$profile
[ "$profile" = dev ] && foreign_profile=dist-check
build=${TARGET_DIR:-$here/../target}/dist-build
for target in x86_64-apple-darwin aarch64-apple-darwin; do
    echo "== wheel for $target (macOS 11.0, $foreign_profile)"
    MACOSX_DEPLOYMENT_TARGET=11.0 maturin build --quiet --locked --profile "$foreign_profile" --zig \
        --target "$target" --target-dir "$build" -m "$here/Cargo.toml" -o "$out"
done
echo "== wheel for x86_64-pc-windows-gnu ($foreign_profile)"
command -v x86_64-w64-mingw32-gcc > /dev/null || {
    echo "dist.sh: the Windows wheel needs mingw-w64 (apt-get install mingw-w64)" >&2
    exit 1
}
maturin build --quiet --locked --profile "$foreign_profile" --target x86_64-pc-windows-gnu \
    --target-dir "$build" -m "$here/Cargo.toml" -o "$out"
echo "== sdist"
maturin sdist -m "$here/Cargo.toml" -o "$out"
ls -l "$out"
