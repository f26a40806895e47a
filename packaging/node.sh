#!/bin/sh
# Builds the Node.js packages from the C archives packaging/c.sh left
# unpacked in OUT_DIR, as duckdb and koffi ship theirs: the package
# `httpqq` (the JavaScript, its types and the flat declarations), which
# names one package per platform as an optional dependency, and those
# packages, `@httpqq/<os>-<cpu>` (`os` and `cpu` set, so npm installs only
# the one that fits), each carrying the two libraries in lib/, where
# `httpqq` finds them with no environment variable.
#
#   sh packaging/node.sh OUT_DIR TRIPLE...
#
# Leaves OUT_DIR/node/httpqq-<version>.tgz and
# OUT_DIR/node/httpqq-<os>-<cpu>-<version>.tgz (npm pack), and each
# package unpacked beside its tarball (for `npm install --install-links
# <folder>`).
set -eu
out=$(cd "${1:?usage: node.sh OUT_DIR TRIPLE...}" && pwd)
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/packaging/version.sh"
node_out=$out/node
rm -rf "$node_out"
mkdir -p "$node_out"

# The npm name of each platform: process.platform and process.arch.
platform_of() {
    case $1 in
        x86_64-unknown-linux-gnu) echo linux-x64 ;;
        aarch64-unknown-linux-gnu) echo linux-arm64 ;;
        x86_64-pc-windows-gnu) echo win32-x64 ;;
        x86_64-apple-darwin) echo darwin-x64 ;;
        aarch64-apple-darwin) echo darwin-arm64 ;;
        *) echo "node.sh: no npm platform for $1" >&2; exit 2 ;;
    esac
}

for triple in "$@"; do
    platform=$(platform_of "$triple")
    os=${platform%-*}
    cpu=${platform#*-}
    unpacked=$out/libhttpqq-$version-$triple
    package=$node_out/httpqq-$platform
    mkdir -p "$package/lib"
    # Named as index.js loads them (and libhttpqq_testing's DT_NEEDED).
    case $os in
        linux)
            cp "$unpacked/lib/libhttpqq.so.$version" "$package/lib/libhttpqq.so.$abi"
            cp "$unpacked/lib/libhttpqq_testing.so.$version" "$package/lib/libhttpqq_testing.so.$abi"
            libc='  "libc": ["glibc"],'
            ;;
        darwin)
            cp "$unpacked/lib/libhttpqq.$abi.dylib" "$unpacked/lib/libhttpqq_testing.$abi.dylib" "$package/lib/"
            libc=""
            ;;
        win32)
            cp "$unpacked/bin/httpqq.dll" "$unpacked/bin/httpqq_testing.dll" "$package/lib/"
            libc=""
            ;;
    esac
    cp "$repo/LICENSE-MIT" "$repo/LICENSE-APACHE" "$package/"
    cat > "$package/README.md" <<MD
# @httpqq/$platform

libhttpqq $version (the C library of httpqq, and libhttpqq_testing) for
$os on $cpu: installed by npm with the package \`httpqq\`, which finds the
libraries here. Not for use on its own.
MD
    cat > "$package/package.json" <<JSON
{
  "name": "@httpqq/$platform",
  "version": "$version",
  "description": "libhttpqq for $os-$cpu, for the httpqq package",
  "license": "MIT OR Apache-2.0",
  "os": ["$os"],
  "cpu": ["$cpu"],
$libc
  "files": ["lib/", "README.md", "LICENSE-MIT", "LICENSE-APACHE"]
}
JSON
    sed -i '/^$/d' "$package/package.json"
    (cd "$node_out" && npm pack --silent "$package" > /dev/null)
    echo "   $node_out/httpqq-$platform-$version.tgz"
done

# The package itself: the repository's, with the declarations and the
# platform packages added.
main=$node_out/httpqq
mkdir -p "$main/include" "$main/examples"
cp "$repo/bindings/node/index.js" "$repo/bindings/node/index.d.ts" "$repo/bindings/node/README.md" "$main/"
cp "$repo/bindings/node/examples/chat.js" "$main/examples/"
cp "$repo/include/httpqq_cdef.h" "$repo/include/httpqq_testing_cdef.h" "$main/include/"
cp "$repo/LICENSE-MIT" "$repo/LICENSE-APACHE" "$main/"
node - "$repo/bindings/node/package.json" "$main/package.json" "$version" <<'JS'
const fs = require('node:fs');
const [source, target, version] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(source, 'utf8'));
pkg.files = [...pkg.files, 'include/', 'examples/', 'LICENSE-MIT', 'LICENSE-APACHE'];
delete pkg.devDependencies;
delete pkg.scripts;
pkg.optionalDependencies = Object.fromEntries(
  ['linux-x64', 'linux-arm64', 'win32-x64', 'darwin-x64', 'darwin-arm64'].map((p) => [`@httpqq/${p}`, version]),
);
fs.writeFileSync(target, JSON.stringify(pkg, null, 2) + '\n');
JS
(cd "$node_out" && npm pack --silent "$main" > /dev/null)
echo "   $node_out/httpqq-$version.tgz"
