#!/bin/sh
# Builds the LuaRocks package of httpqq for LuaJIT: its sources
# (OUT_DIR/lua/httpqq-lua-<version>/, with the rockspec, for `luarocks
# make`), their tarball, the rockspec, and the source rock
# (httpqq-<version>-1.src.rock, for `luarocks install`). LuaRocks finds
# libhttpqq as an external dependency (HTTPQQ_DIR, or the system's
# folders) and the installed module remembers where.
#
#   sh packaging/lua.sh OUT_DIR
set -eu
out=$(cd "${1:?usage: lua.sh OUT_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/packaging/version.sh"
lua_out=$out/lua
rm -rf "$lua_out"
sources=$lua_out/httpqq-lua-$version
mkdir -p "$sources/examples"
cp "$repo/bindings/lua/httpqq.lua" "$repo/bindings/lua/README.md" "$repo/packaging/lua/Makefile" \
    "$repo/LICENSE-MIT" "$repo/LICENSE-APACHE" "$sources/"
cp "$repo/bindings/lua/examples/chat.lua" "$sources/examples/"
(cd "$lua_out" && tar -czf "httpqq-lua-$version.tar.gz" "httpqq-lua-$version")
rockspec=httpqq-$version-1.rockspec
# The rockspec in the sources names no place (luarocks make ignores it);
# the one packed into the source rock names the tarball beside it.
sed -e "s|@VERSION@|$version|g" -e "s|@SOURCE_URL@|httpqq-lua-$version.tar.gz|" \
    "$repo/packaging/lua/httpqq.rockspec.in" > "$sources/$rockspec"
sed -e "s|@VERSION@|$version|g" -e "s|@SOURCE_URL@|file://$lua_out/httpqq-lua-$version.tar.gz|" \
    "$repo/packaging/lua/httpqq.rockspec.in" > "$lua_out/$rockspec"
command -v luarocks > /dev/null || sh "$repo/packaging/apt-install.sh" luarocks
(cd "$lua_out" && luarocks pack "$rockspec" > /dev/null)
echo "   $lua_out/httpqq-$version-1.src.rock"
