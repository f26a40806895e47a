#!/bin/sh
# Makes ready what the Windows builds and tests need on this Linux
# machine: mingw-w64 and wine from Debian (apt-get, when missing), Rust's
# x86_64-pc-windows-gnu target (rustup), and the wine prefix PREFIX the
# tests run in, quiet, with the stand-in bcryptprimitives.dll that
# Debian's wine 8 lacks (bcryptprimitives.c). Callers then run wine with
# WINEPREFIX=PREFIX.
#
#   sh packaging/windows/wine.sh PREFIX
set -eu
prefix=${1:?usage: wine.sh PREFIX}
here=$(cd "$(dirname "$0")" && pwd)
missing=""
command -v x86_64-w64-mingw32-gcc > /dev/null || missing="$missing mingw-w64"
command -v wine > /dev/null || missing="$missing wine wine64"
command -v cmake > /dev/null || missing="$missing cmake"
command -v pkg-config > /dev/null || missing="$missing pkg-config"
# shellcheck disable=SC2086
sh "$here/../apt-install.sh" $missing
rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
system32=$prefix/drive_c/windows/system32
if [ ! -f "$system32/bcryptprimitives.dll" ]; then
    echo "== a wine prefix in $prefix"
    mkdir -p "$prefix"
    WINEPREFIX=$prefix WINEDEBUG=-all wineboot --init > /dev/null 2>&1
    x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -o "$system32/bcryptprimitives.dll" \
        "$here/bcryptprimitives.c" -ladvapi32
fi
