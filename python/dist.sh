#!/bin/sh
# Builds what the Python package ships: portable wheels for Linux x86_64
# and aarch64 (manylinux2014: glibc 2.17 or newer, linked through zig, from
# the ziglang package on PyPI, with the unwinder imported from the system's
# libgcc_s.so.1) and the sdist.
#
#   sh python/dist.sh PROFILE OUT_DIR     (PROFILE: release, or dev for tests)
#
# Run with the project's virtualenv first on PATH (maturin, ziglang):
# `make wheel` does.
set -eu
profile=${1:?usage: dist.sh PROFILE OUT_DIR}
out=${2:?usage: dist.sh PROFILE OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
rm -f "$out"/httpqq-*.whl "$out"/httpqq-*.tar.gz
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu
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
echo "== sdist"
maturin sdist -m "$here/Cargo.toml" -o "$out"
ls -l "$out"
