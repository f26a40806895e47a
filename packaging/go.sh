#!/bin/sh
# Builds the Go module as a module proxy serves it
# (OUT_DIR/go/proxy/github.com/httpqq/httpqq-go/@v/: list, v<version>.info,
# .mod and .zip), so that `go get` takes it from the folder before the
# module is published: GOPROXY=file://OUT_DIR/go/proxy. The module is
# cgo over libhttpqq: a user unpacks the release archive for their
# platform and points CGO_CFLAGS and CGO_LDFLAGS at it (bindings/go/README.md).
#
#   sh packaging/go.sh OUT_DIR
set -eu
out=$(cd "${1:?usage: go.sh OUT_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/packaging/version.sh"
module=$(sed -n 's/^module //p' "$repo/bindings/go/go.mod")
at=$out/go/proxy/$module/@v
rm -rf "$out/go"
mkdir -p "$at"
echo "v$version" > "$at/list"
cp "$repo/bindings/go/go.mod" "$at/v$version.mod"
printf '{"Version":"v%s","Time":"%s"}\n' "$version" "$(git -C "$repo" log -1 --format=%cI)" > "$at/v$version.info"
# The zip holds the module's files (git's list, new files included: no
# build output) under
# module@version/, with the licenses.
files=$(cd "$repo/bindings/go" && git ls-files --cached --others --exclude-standard)
python3 - "$repo/bindings/go" "$module@v$version" "$at/v$version.zip" \
    "$repo/LICENSE-MIT" "$repo/LICENSE-APACHE" $files <<'PY'
import os, sys, zipfile
root, prefix, target, mit, apache, *names = sys.argv[1:]
licenses = [mit, apache]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
    for name in names:
        z.write(os.path.join(root, name), f"{prefix}/{name}")
    for license in licenses:
        z.write(license, f"{prefix}/{os.path.basename(license)}")
PY
echo "   $at/v$version.zip"
