#!/bin/sh
# Installs what python/dist.sh built into brand-new virtualenvs and runs a
# smoke test in each with no Rust toolchain reachable (PATH holds only the
# system directories):
# - this machine's portable wheel, installed offline;
# - the sdist, built from source by pip (maturin from PyPI, the Rust
#   toolchain on PATH for the build only; the dev profile, to keep the test
#   quick, through MATURIN_PEP517_ARGS).
#
#   python/tests/clean_install.sh DIST_DIR SCRATCH_DIR
set -eu
dist=$(cd "$1" && pwd)
scratch=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch"
mkdir -p "$scratch"

smoke() {
    (cd "$scratch" && env -i HOME="$scratch" PATH=/usr/bin:/bin "$1/bin/python" "$here/smoke_installed.py" "$2")
}

echo "== the $(uname -m) wheel in a clean virtualenv"
python3 -m venv "$scratch/wheel"
"$scratch/wheel/bin/pip" install -q --no-index --no-deps "$dist"/httpqq-*_"$(uname -m)".whl
smoke "$scratch/wheel" wheel

echo "== the sdist, built from source in a clean virtualenv"
python3 -m venv "$scratch/sdist"
CARGO_TARGET_DIR="$scratch/cargo" MATURIN_PEP517_ARGS="--profile dev" \
    "$scratch/sdist/bin/pip" install -q --no-deps "$dist"/httpqq-*.tar.gz
smoke "$scratch/sdist" sdist
