#!/bin/sh
# Builds the C++ test against the installed libhttpqq and libhttpqq_testing
# (pkg-config httpqq-testing), with the installed httpqq.hpp and
# httpqq_testing.hpp (the ones in this folder are what is installed),
# with every warning an error, in C++17 and C++20, and runs it, then runs
# it under valgrind memcheck (any leak or memory error fails).
#
#   PKG_CONFIG_PATH=<prefix>/lib/pkgconfig sh bindings/cpp/run.sh <build dir>
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh <build dir>}
mkdir -p "$out"
CXX=${CXX:-c++}
flags="-Wall -Wextra -Werror -Wpedantic -Wconversion -Wsign-conversion -Wold-style-cast -Wshadow"
for std in c++17 c++20; do
    echo "== C++ ($std) with $flags"
    # shellcheck disable=SC2046,SC2086
    "$CXX" -std=$std $flags "$here/test.cpp" $(pkg-config --cflags --libs httpqq-testing) -pthread \
        -o "$out/test_$std"
    "$out/test_$std"
done
echo "== C++ under valgrind memcheck"
valgrind -q --error-exitcode=99 --leak-check=full \
    --suppressions="$(pkg-config --variable=prefix httpqq)/share/httpqq/valgrind.supp" \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible \
    "$out/test_c++17"
