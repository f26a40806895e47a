#!/bin/sh
# Builds every package `make dist` ships into OUT_DIR (target/dist), for
# each platform this project builds here: the C release archives
# (packaging/c.sh), and from them the packages of each ecosystem. The
# Python wheels and sdist are python/dist.sh's (`make wheel`).
#
#   sh packaging/dist.sh PROFILE OUT_DIR
#
# PROFILE: release (`make dist`) or dist-check (`make test`: the same
# packages, built faster). Run with the project's .venv first on PATH
# (ziglang, cargo-zigbuild).
set -eu
profile=${1:?usage: dist.sh PROFILE OUT_DIR}
out=${2:?usage: dist.sh PROFILE OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

# Linux (glibc 2.17 and newer, as the wheels); macOS (11.0 and newer) and
# Windows, cross-built (zig, mingw-w64): their packages are checked by
# packaging/check.sh (and Windows's run under wine), not run on them.
linux="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu"
triples="$linux x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu"
# shellcheck disable=SC2086
sh "$here/c.sh" "$profile" "$out" $triples
# shellcheck disable=SC2086
sh "$here/node.sh" "$out" $triples
# shellcheck disable=SC2086
sh "$here/ruby.sh" "$out" $triples
sh "$here/lua.sh" "$out"
sh "$here/go.sh" "$out"
# shellcheck disable=SC2086
sh "$here/deb.sh" "$out" $linux
