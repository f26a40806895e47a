#!/bin/sh
# Makes the stand-in libgcc_s.so.1 that Linux libraries built with zig are
# linked against, so that they import the unwinder from the system's
# libgcc_s.so.1 instead of carrying their own (docs/DECISIONS.md, 132):
# used by python/dist.sh for the wheels and packaging/c.sh for the C
# libraries.
#
#   sh packaging/linkstub.sh ARCH OUT_DIR    (ARCH: x86_64, aarch64)
#
# Prints the stub's path. Needs `python -m ziglang` (the project's .venv).
set -eu
arch=$1
out=$2
here=$(cd "$(dirname "$0")/../python/linkstub" && pwd)
mkdir -p "$out/$arch"
python -m ziglang cc -target "$arch-linux-gnu.2.17" -shared -fPIC -nostdlib \
    -Wl,-soname,libgcc_s.so.1 -Wl,--version-script="$here/libgcc_s.map" \
    -o "$out/$arch/libgcc_s.so.1" "$here/libgcc_s.c"
echo "$out/$arch/libgcc_s.so.1"
