#!/bin/sh
# Installs the Debian packages a build or a test suite misses: quietly,
# without recommended extras, as root (through sudo when not root). The
# callers (bindings/run.sh, packaging/check.sh, packaging/lua.sh,
# packaging/windows/wine.sh) each look for the commands they need and
# name the packages that give the missing ones; none named, nothing done.
#
#   sh packaging/apt-install.sh [PACKAGE...]
set -eu
[ $# -gt 0 ] || exit 0
echo "== installing $* (apt-get)"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null
