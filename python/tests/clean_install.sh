#!/bin/sh
# Installs what python/dist.sh built into brand-new virtualenvs and runs a
# smoke test in each with no Rust toolchain reachable (PATH holds only the
# system directories):
# - this machine's portable wheel, installed offline;
# each then runs a bot through a stop, a Ctrl-C and an exit with a call in
# flight (packaging/lifecycle/), and exits 20 times with threads inside the
# native module (a crash at interpreter exit fails);
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

cp "$here/../../packaging/lifecycle/check.py" "$here/../../packaging/lifecycle/bot.py" "$scratch/"
smoke() {
    (cd "$scratch" && env -i HOME="$scratch" PATH=/usr/bin:/bin "$1/bin/python" "$here/smoke_installed.py" "$2")
    # A bot through a stop, a Ctrl-C and an exit with a call in flight.
    (cd "$scratch" && env -i HOME="$scratch" PATH=/usr/bin:/bin "$1/bin/python" check.py "Python, the $2" \
        "$1/bin/python" bot.py)
    # Exiting with daemon threads inside the native module, 20 times: a
    # crash at interpreter exit (139, a segfault) fails the test.
    n=0
    while [ $n -lt 20 ]; do
        status=0
        (cd "$scratch" && env -i HOME="$scratch" PATH=/usr/bin:/bin "$1/bin/python" "$here/exit_check.py") || status=$?
        if [ $status -ne 0 ]; then
            echo "the $2 exited with status $status (run $n) with threads inside the native module" >&2
            exit 1
        fi
        n=$((n + 1))
    done
    echo "the $2 exits cleanly with threads inside the native module (20 runs)"
}

echo "== the $(uname -m) wheel in a clean virtualenv"
python3 -m venv "$scratch/wheel"
"$scratch/wheel/bin/pip" install -q --no-index --no-deps "$dist"/httpqq-*manylinux_2_17_"$(uname -m)".whl
smoke "$scratch/wheel" wheel

echo "== the sdist, built from source in a clean virtualenv"
python3 -m venv "$scratch/sdist"
CARGO_TARGET_DIR="$scratch/cargo" MATURIN_PEP517_ARGS="--profile dev" \
    "$scratch/sdist/bin/pip" install -q --no-deps "$dist"/httpqq-*.tar.gz
smoke "$scratch/sdist" sdist
