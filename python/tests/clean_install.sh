#!/bin/sh
# Installs the built wheel into a brand-new virtualenv and runs a smoke test
# with no Rust toolchain reachable (PATH holds only the system directories).
#
#   python/tests/clean_install.sh WHEEL_DIR SCRATCH_DIR
set -eu
wheels=$(cd "$1" && pwd)
scratch=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch"
python3 -m venv "$scratch"
"$scratch/bin/pip" install -q --no-index --no-deps "$wheels"/httpqq-*.whl
cd "$scratch"
env -i HOME="$scratch" PATH=/usr/bin:/bin "$scratch/bin/python" "$here/smoke_installed.py"
