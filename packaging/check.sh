#!/bin/sh
# Tries what `make dist` built the way its users install it: each package
# in a fresh folder of its own, with no Rust toolchain on PATH and without
# this checkout on any search path (the examples' sources are copied in),
# then runs its example; the C library, the npm tarballs and the platform
# gem also run a bot through a stop, a Ctrl-C and an exit with a call in
# flight (packaging/lifecycle/).
#
#   sh packaging/check.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND
#
# SERVER_COMMAND is httpqq-server, which the client-only examples talk to.
# The machine's own tools are used (cc, c++, pkg-config, cmake, node, npm,
# gem, luarocks, go, dpkg); the ones missing come from Debian (apt-get).
set -eu
dist=$(cd "${1:?usage: check.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND}" && pwd)
scratch=${2:?usage: check.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND}
server_bin=${3:?usage: check.sh DIST_DIR SCRATCH_DIR SERVER_COMMAND}
repo=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$scratch"
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

. "$repo/packaging/version.sh"
triple=$(rustc -vV | sed -n 's/^host: //p')
archive=$dist/libhttpqq-$version-$triple.tar.gz

missing=""
command -v cmake > /dev/null || missing="$missing cmake"
command -v pkg-config > /dev/null || missing="$missing pkg-config"
command -v luarocks > /dev/null || missing="$missing luarocks"
command -v go > /dev/null || missing="$missing golang-go"
command -v dpkg-deb > /dev/null || missing="$missing dpkg-dev"
# shellcheck disable=SC2086
sh "$repo/packaging/apt-install.sh" $missing

# A clean environment: the system's tools only (no ~/.cargo/bin), a home
# of its own, nothing of this checkout; the machine's network settings
# (proxies, certificate authorities) kept, so the package managers reach
# their registries.
network=$(env | grep -E '^([A-Za-z_]*(PROXY|proxy)|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR))=' || true)
clean() {
    # shellcheck disable=SC2086
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 \
        NPM_CONFIG_UPDATE_NOTIFIER=false $network "$@"
}
mkdir -p "$scratch/home"
if clean sh -c 'command -v cargo || command -v rustc' > /dev/null; then
    echo "check.sh: a Rust toolchain is on the clean PATH" >&2
    exit 1
fi
cp "$repo/ffi/examples/chat.c" "$repo/ffi/examples/with_test_server.c" "$scratch/"
# A bot in each language, through a stop, a Ctrl-C and an exit with a call
# in flight (lifecycle/check.py runs it; lifecycle/bot.* are the bots).
cp -r "$repo/packaging/lifecycle" "$scratch/lifecycle"
cp -r "$repo/packaging/examples/cmake" "$scratch/cmake-project"

. "$repo/server/tests/demo_server.sh"
start_demo_server "$server_bin" "$scratch/server.out"
trap 'kill $server_pid 2> /dev/null || true' EXIT

echo "== C: the release archive, unpacked in a fresh folder ($(basename "$archive"))"
mkdir -p "$scratch/c"
tar -xzf "$archive" -C "$scratch/c"
unpacked=$scratch/c/libhttpqq-$version-$triple
pc="PKG_CONFIG_PATH=$unpacked/lib/pkgconfig"
(
    cd "$scratch"
    clean "$pc" sh -c 'cc -std=c99 -Wall -Werror chat.c -o chat $(pkg-config --cflags --libs httpqq)'
    clean "$pc" sh -c 'cc -std=c99 -Wall -Werror chat.c -o chat_static $(pkg-config --cflags --libs httpqq-static)'
    clean "$pc" sh -c 'cc -std=c99 -Wall -Werror with_test_server.c -o with_test_server $(pkg-config --cflags --libs httpqq-testing)'
    clean ./chat "$address" | grep -q "Bob got from 10001: 你好, Bob"
    clean ./chat_static "$address" | grep -q "Bob got from 10001: 你好, Bob"
    if ldd chat_static | grep -q libhttpqq; then echo "chat_static links libhttpqq.so" >&2; exit 1; fi
    clean ./with_test_server
    clean "$pc" sh -c 'cc -std=c99 -Wall -Werror lifecycle/bot.c -o lifecycle/bot $(pkg-config --cflags --libs httpqq-testing) -pthread'
)
echo "   pkg-config: chat (shared, static) and with_test_server run"
clean python3 "$scratch/lifecycle/check.py" "C, the archive's library" "$scratch/lifecycle/bot"

echo "== C and C++: CMake's find_package(httpqq) against the unpacked archive"
clean cmake -S "$scratch/cmake-project" -B "$scratch/cmake-build" -DEXAMPLES_DIR="$scratch" \
    -DCMAKE_PREFIX_PATH="$unpacked" -DCMAKE_BUILD_TYPE=Release > "$scratch/cmake.log" 2>&1 ||
    { cat "$scratch/cmake.log"; exit 1; }
clean cmake --build "$scratch/cmake-build" > "$scratch/cmake-build.log" 2>&1 ||
    { cat "$scratch/cmake-build.log"; exit 1; }
clean "$scratch/cmake-build/chat" "$address" | grep -q "Bob got from 10001: 你好, Bob"
clean "$scratch/cmake-build/chat_static" "$address" | grep -q "Bob got from 10001: 你好, Bob"
clean "$scratch/cmake-build/with_test_server"
clean "$scratch/cmake-build/hello_cpp"
echo "   cmake: chat (httpqq::httpqq, httpqq::static), with_test_server and hello_cpp (httpqq::testing) run"

echo "== Node.js: npm install of the tarballs in a fresh project, then its example"
platform=$(node -p 'process.platform + "-" + process.arch')
mkdir -p "$scratch/node-app"
(
    cd "$scratch/node-app"
    clean npm init -y > /dev/null
    clean npm install --silent --no-audit --no-fund \
        "$dist/node/httpqq-$version.tgz" "$dist/node/httpqq-$platform-$version.tgz"
    clean node node_modules/httpqq/examples/chat.js "$address" > chat.txt
    [ "$(grep -c 'Bob got from 10001: 你好, Bob' chat.txt)" = 2 ] || { cat chat.txt; exit 1; }
    cp "$scratch/lifecycle/bot.js" .
    clean python3 "$scratch/lifecycle/check.py" "Node.js, the npm tarballs" node bot.js
)
echo "   the package found its library in @httpqq/$platform, and its test Server ran"
echo "== Node.js: npm install --install-links of the package folders"
mkdir -p "$scratch/node-folders"
(
    cd "$scratch/node-folders"
    clean npm init -y > /dev/null
    clean npm install --silent --no-audit --no-fund --install-links \
        "$dist/node/httpqq" "$dist/node/httpqq-$platform"
    clean node node_modules/httpqq/examples/chat.js "$address" | grep -q 'Bob got from 10001'
)
echo "   installed from the folders, and ran"

echo "== Ruby: gem install of the platform gem into a fresh GEM_HOME, then its example"
gem_platform=$(ruby -e 'print Gem::Platform.local.to_s.sub(/-gnu$/, "")')
gems=$scratch/gems
clean GEM_HOME="$gems" gem install --local --no-document "$dist/ruby/httpqq-$version-$gem_platform.gem" > /dev/null
clean GEM_HOME="$gems" ruby "$gems/gems/httpqq-$version-$gem_platform/examples/chat.rb" "$address" > "$scratch/ruby.txt"
[ "$(grep -c 'Bob got from 10001: 你好, Bob' "$scratch/ruby.txt")" = 2 ] || { cat "$scratch/ruby.txt"; exit 1; }
clean GEM_HOME="$gems" python3 "$scratch/lifecycle/check.py" "Ruby, the platform gem" ruby "$scratch/lifecycle/bot.rb"
echo "   the gem carried its library, and its test Server ran"

echo "== Ruby: the source gem, built with cargo when installed (Rust on PATH for this one)"
source_gems=$scratch/source-gems
clean PATH="$HOME/.cargo/bin:/usr/local/bin:/usr/bin:/bin" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
    GEM_HOME="$source_gems" gem install --local --no-document "$dist/ruby/httpqq-$version.gem" > "$scratch/source-gem.log" 2>&1 ||
    { cat "$scratch/source-gem.log"; exit 1; }
clean GEM_HOME="$source_gems" ruby "$source_gems/gems/httpqq-$version/examples/chat.rb" "$address" |
    grep -q 'Bob got from 10001'
echo "   built with cargo at install, and ran"

echo "== LuaJIT: luarocks make (the sources) and install (the source rock) into fresh trees"
for way in make install; do
    tree=$scratch/rocks-$way
    mkdir -p "$scratch/lua-$way"
    cp -r "$dist/lua/httpqq-lua-$version" "$dist/lua/httpqq-$version-1.src.rock" "$scratch/lua-$way/"
    (
        if [ "$way" = make ]; then
            cd "$scratch/lua-$way/httpqq-lua-$version"
            clean luarocks --tree="$tree" make "httpqq-$version-1.rockspec" HTTPQQ_DIR="$unpacked"
        else
            cd "$scratch/lua-$way"
            clean luarocks --tree="$tree" install "httpqq-$version-1.src.rock" HTTPQQ_DIR="$unpacked"
        fi
    ) > "$scratch/lua-$way.log" 2>&1 || { cat "$scratch/lua-$way.log"; exit 1; }
    lua_path=$(clean luarocks --tree="$tree" path --lr-path)
    clean LUA_PATH="$lua_path;;" luajit "$scratch/lua-$way/httpqq-lua-$version/examples/chat.lua" "$address" \
        > "$scratch/lua.txt"
    [ "$(grep -c 'Bob got from 10001: 你好, Bob' "$scratch/lua.txt")" = 2 ] || { cat "$scratch/lua.txt"; exit 1; }
done
echo "   the module found libhttpqq where LuaRocks did, and its test Server ran"

echo "== Go: a fresh module takes httpqq-go from the proxy folder, over the unpacked archive"
module=$(sed -n 's/^module //p' "$repo/bindings/go/go.mod")
app=$scratch/go-app
mkdir -p "$app"
cp "$repo/bindings/go/examples/chat/main.go" "$repo/packaging/examples/go/app_test.go" "$app/"
(
    cd "$app"
    export_go="GOPROXY=file://$dist/go/proxy GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=1"
    cgo="CGO_CFLAGS=-I$unpacked/include"
    # shellcheck disable=SC2086
    clean $export_go go mod init example.com/app > /dev/null 2>&1
    # shellcheck disable=SC2086
    clean $export_go go get "$module@v$version" > /dev/null 2>&1
    # shellcheck disable=SC2086
    clean $export_go "$cgo" "CGO_LDFLAGS=-L$unpacked/lib -Wl,-rpath,$unpacked/lib" go build -o chat .
    clean ./chat "$address" | grep -q "Bob got from 10001: 你好, Bob"
    # shellcheck disable=SC2086
    clean $export_go "$cgo" "CGO_LDFLAGS=-L$unpacked/lib -Wl,-rpath,$unpacked/lib" go test -count=1 . > go-test.log 2>&1 ||
        { cat go-test.log; exit 1; }
    # shellcheck disable=SC2086
    clean $export_go "$cgo" "CGO_LDFLAGS=-L$unpacked/lib" go build -tags httpqq_static -o chat_static .
    if ldd chat_static | grep -q libhttpqq; then echo "the static Go build links libhttpqq.so" >&2; exit 1; fi
    clean ./chat_static "$address" | grep -q "Bob got from 10001: 你好, Bob"
)
echo "   go get, go build (shared and static) and go test with httpqqtest"

echo "== every Linux archive: its machine, soname, glibc floor and exports"
for tarball in "$dist"/libhttpqq-"$version"-*-linux-gnu.tar.gz; do
    name=$(basename "$tarball" .tar.gz)
    arch=${name#libhttpqq-"$version"-}; arch=${arch%%-*}
    mkdir -p "$scratch/elf"
    tar -xzf "$tarball" -C "$scratch/elf"
    lib=$scratch/elf/$name/lib
    case $arch in
        x86_64) machine="Advanced Micro Devices X86-64" ;;
        aarch64) machine="AArch64" ;;
    esac
    for so in "$lib/libhttpqq.so.$version" "$lib/libhttpqq_testing.so.$version"; do
        readelf -h "$so" | grep -q "Machine: *$machine" || { echo "$so: not $machine" >&2; exit 1; }
        newest=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
        [ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -n 1)" = 2.17 ] ||
            { echo "$so needs glibc $newest (more than 2.17)" >&2; exit 1; }
    done
    readelf -d "$lib/libhttpqq.so.$version" | grep -q "SONAME.*libhttpqq.so.$abi" ||
        { echo "$name: libhttpqq has no soname" >&2; exit 1; }
    readelf -d "$lib/libhttpqq_testing.so.$version" | grep -q "NEEDED.*libhttpqq.so.$abi" ||
        { echo "$name: libhttpqq_testing does not need libhttpqq" >&2; exit 1; }
    nm -D --defined-only "$lib/libhttpqq.so.$version" | grep -q ' T httpqq_client_new$' ||
        { echo "$name: libhttpqq does not export the client" >&2; exit 1; }
    if nm -D --defined-only "$lib/libhttpqq.so.$version" | grep -q ' T httpqq_server_'; then
        echo "$name: libhttpqq exports the test server" >&2
        exit 1
    fi
    echo "   $name: $machine, glibc $newest at most, lean"
done

echo "== macOS and Windows: the archives, Node packages and gems as their loaders will see them (built, not run, here)"
python=${PYTHON:-python3}
for triple in x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu; do
    name=libhttpqq-$version-$triple
    mkdir -p "$scratch/foreign"
    tar -xzf "$dist/$name.tar.gz" -C "$scratch/foreign"
    top=$scratch/foreign/$name
    case $triple in
        *-apple-darwin)
            arch=${triple%%-*}; [ "$arch" = aarch64 ] && arch=arm64
            shared=lib/libhttpqq.$abi.dylib testing=lib/libhttpqq_testing.$abi.dylib
            own="lib/libhttpqq.dylib lib/libhttpqq_testing.dylib"
            node=darwin-$([ "$arch" = arm64 ] && echo arm64 || echo x64) gem=$arch-darwin
            node_files="lib/libhttpqq.$abi.dylib lib/libhttpqq_testing.$abi.dylib"
            ;;
        *-windows-gnu)
            arch=x86_64
            shared=bin/httpqq.dll testing=bin/httpqq_testing.dll
            own="lib/libhttpqq.dll.a lib/libhttpqq_testing.dll.a"
            node=win32-x64 gem=x64-mingw-ucrt
            node_files="lib/httpqq.dll lib/httpqq_testing.dll"
            ;;
    esac
    for file in $shared $testing $own lib/libhttpqq.a lib/pkgconfig/httpqq.pc lib/pkgconfig/httpqq-static.pc \
        lib/pkgconfig/httpqq-testing.pc lib/cmake/httpqq/httpqq-config.cmake \
        lib/cmake/httpqq/httpqq-config-version.cmake include/httpqq.h include/httpqq_testing.h \
        include/httpqq.hpp share/httpqq/valgrind.supp LICENSE-MIT LICENSE-APACHE; do
        [ -e "$top/$file" ] || { echo "$name: no $file" >&2; exit 1; }
    done
    "$python" "$repo/packaging/inspect.py" "$top/$shared" "$arch" client
    "$python" "$repo/packaging/inspect.py" "$top/$testing" "$arch" testing
    # The Node package for the platform: its os and cpu, and the
    # libraries under the names index.js loads.
    tarball=$dist/node/httpqq-$node-$version.tgz
    for file in $node_files; do
        tar -tzf "$tarball" | grep -qx "package/$file" || { echo "$tarball: no $file" >&2; exit 1; }
    done
    tar -xzOf "$tarball" package/package.json | node -e '
        const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const [os, cpu] = process.argv[1].split("-");
        if (pkg.os[0] !== os || pkg.cpu[0] !== cpu) { console.error(pkg); process.exit(1); }' "$node"
    # The platform gem: its platform, and the libraries where httpqq.rb
    # looks (lib/httpqq/native/).
    gemfile=$dist/ruby/httpqq-$version-$gem.gem
    [ "$(ruby -rrubygems/package -e 'print Gem::Package.new(ARGV[0]).spec.platform' "$gemfile")" = "$gem" ] ||
        { echo "$gemfile: not for $gem" >&2; exit 1; }
    for file in $node_files; do
        tar -xOf "$gemfile" data.tar.gz | tar -tz | grep -qx "lib/httpqq/native/${file#lib/}" ||
            { echo "$gemfile: no lib/httpqq/native/${file#lib/}" >&2; exit 1; }
    done
    echo "   $name, @httpqq/$node and the $gem gem"
done

echo "== Debian: apt-get install of libhttpqq0 and libhttpqq-dev, then the examples against the system's"
arch=$(dpkg --print-architecture)
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
if dpkg -s libhttpqq0 > /dev/null 2>&1; then
    echo "check.sh: libhttpqq0 is installed on this machine already; not touching it" >&2
    exit 1
fi
remove_debs() {
    DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -qq libhttpqq-dev libhttpqq0 > /dev/null 2>&1 || true
}
trap 'kill $server_pid 2> /dev/null || true; remove_debs' EXIT
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    "$dist/deb/libhttpqq0_${version}_$arch.deb" "$dist/deb/libhttpqq-dev_${version}_$arch.deb" > "$scratch/apt.log" 2>&1 ||
    { cat "$scratch/apt.log"; exit 1; }
mkdir -p "$scratch/system"
(
    cd "$scratch/system"
    cp "$scratch/chat.c" "$scratch/with_test_server.c" .
    clean sh -c 'cc -std=c99 -Wall -Werror chat.c -o chat $(pkg-config --cflags --libs httpqq)'
    clean sh -c 'cc -std=c99 -Wall -Werror with_test_server.c -o with_test_server $(pkg-config --cflags --libs httpqq-testing)'
    ldd chat | grep -Eq "libhttpqq.so.$abi => (/usr)?/lib/" || { echo "chat does not use the system's libhttpqq" >&2; exit 1; }
    clean ./chat "$address" | grep -q "Bob got from 10001: 你好, Bob"
    clean ./with_test_server
    clean cmake -S "$scratch/cmake-project" -B cmake-build -DEXAMPLES_DIR="$scratch" > cmake.log 2>&1 || { cat cmake.log; exit 1; }
    clean cmake --build cmake-build > cmake-build.log 2>&1 || { cat cmake-build.log; exit 1; }
    clean cmake-build/chat "$address" | grep -q "Bob got from 10001: 你好, Bob"
    clean cmake-build/hello_cpp
    # Go and LuaRocks find it without being told where.
    cd "$app"
    clean GOPROXY="file://$dist/go/proxy" GOSUMDB=off GOFLAGS=-mod=mod go build -o chat_system .
    clean ./chat_system "$address" | grep -q "Bob got from 10001: 你好, Bob"
    cd "$scratch/lua-make/httpqq-lua-$version"
    clean luarocks --tree="$scratch/rocks-system" make "httpqq-$version-1.rockspec" > "$scratch/lua-system.log" 2>&1 ||
        { cat "$scratch/lua-system.log"; exit 1; }
    lua_path=$(clean luarocks --tree="$scratch/rocks-system" path --lr-path)
    clean LUA_PATH="$lua_path;;" luajit examples/chat.lua "$address" | grep -q "Bob got from 10001"
)
remove_debs
echo "   pkg-config, CMake, Go and LuaRocks found the system's libhttpqq; the packages are removed again"
