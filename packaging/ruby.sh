#!/bin/sh
# Builds the Ruby gems, as the sqlite3 gem ships its own: one platform gem
# per target (httpqq-<version>-<platform>.gem) carrying libhttpqq and
# libhttpqq_testing in lib/httpqq/native/ and the flat declarations in
# lib/httpqq/include/, where lib/httpqq.rb finds them; and the source gem
# (httpqq-<version>.gem), which builds the libraries with cargo when it is
# installed (a Rust toolchain needed then, and only then).
#
#   sh packaging/ruby.sh OUT_DIR TRIPLE...
#
# Takes the libraries from the archives packaging/c.sh left unpacked in
# OUT_DIR; leaves the gems in OUT_DIR/ruby/.
set -eu
out=$(cd "${1:?usage: ruby.sh OUT_DIR TRIPLE...}" && pwd)
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/packaging/version.sh"
ruby_out=$out/ruby
rm -rf "$ruby_out"
mkdir -p "$ruby_out"

# The gem as the repository has it, in `stage`.
common() {
    stage=$1
    mkdir -p "$stage/lib/httpqq/include" "$stage/examples"
    cp "$repo/bindings/ruby/lib/httpqq.rb" "$stage/lib/"
    cp "$repo/bindings/ruby/README.md" "$repo/LICENSE-MIT" "$repo/LICENSE-APACHE" "$stage/"
    cp "$repo/bindings/ruby/examples/chat.rb" "$stage/examples/"
    cp "$repo/include/httpqq_cdef.h" "$repo/include/httpqq_testing_cdef.h" "$stage/lib/httpqq/include/"
}

# The repository's gemspec with the platform, the files and (for the
# source gem) the extension.
gemspec() {
    stage=$1 platform=$2 extension=$3
    ruby - "$repo/bindings/ruby/httpqq.gemspec" "$stage" "$platform" "$extension" <<'RUBY'
source, stage, platform, extension = ARGV
spec = Gem::Specification.load(source)
Dir.chdir(stage) do
  spec.files = Dir["**/*"].select { |f| File.file?(f) }.sort
end
if platform == "ruby"
  spec.extensions = [extension]
  spec.description += " The source gem builds libhttpqq with cargo (Rust) when installed."
else
  spec.platform = Gem::Platform.new(platform)
  spec.description = spec.description.sub(/ Needs libhttpqq.*/, " Carries libhttpqq for #{platform}.")
end
File.write(File.join(stage, "httpqq.gemspec"), spec.to_ruby)
RUBY
}

for triple in "$@"; do
    case $triple in
        x86_64-unknown-linux-gnu) platform=x86_64-linux ;;
        aarch64-unknown-linux-gnu) platform=aarch64-linux ;;
        x86_64-pc-windows-gnu) platform=x64-mingw-ucrt ;;
        x86_64-apple-darwin) platform=x86_64-darwin ;;
        aarch64-apple-darwin) platform=arm64-darwin ;;
        *) echo "ruby.sh: no gem platform for $triple" >&2; exit 2 ;;
    esac
    unpacked=$out/libhttpqq-$version-$triple
    stage=$ruby_out/stage-$platform
    common "$stage"
    native=$stage/lib/httpqq/native
    mkdir -p "$native"
    case $triple in
        *-linux-gnu)
            cp "$unpacked/lib/libhttpqq.so.$version" "$native/libhttpqq.so.$abi"
            cp "$unpacked/lib/libhttpqq_testing.so.$version" "$native/libhttpqq_testing.so.$abi"
            ;;
        *-apple-darwin)
            cp "$unpacked/lib/libhttpqq.$abi.dylib" "$unpacked/lib/libhttpqq_testing.$abi.dylib" "$native/"
            ;;
        *-windows-gnu)
            cp "$unpacked/bin/httpqq.dll" "$unpacked/bin/httpqq_testing.dll" "$native/"
            ;;
    esac
    gemspec "$stage" "$platform" ""
    (cd "$stage" && gem build --silent httpqq.gemspec -o "$ruby_out/httpqq-$version-$platform.gem" > /dev/null)
    echo "   $ruby_out/httpqq-$version-$platform.gem"
done

# The source gem: the Rust it needs (core, server, ffi and its two
# libraries) under ext/httpqq/, built by ext/httpqq/extconf.rb.
stage=$ruby_out/stage-ruby
common "$stage"
rust=$stage/ext/httpqq/rust
mkdir -p "$rust"
(cd "$repo" && git ls-files core server ffi include Cargo.lock LICENSE-MIT LICENSE-APACHE |
    grep -v '^ffi/tests/' | grep -v '^server/tests/' | tar -cf - -T -) | tar -xf - -C "$rust"
sed -e 's/^members = .*/members = ["core", "server", "ffi", "ffi\/boundary", "ffi\/testing"]/' \
    "$repo/Cargo.toml" > "$rust/Cargo.toml"
cp "$repo/packaging/ruby/extconf.rb" "$stage/ext/httpqq/"
gemspec "$stage" ruby ext/httpqq/extconf.rb
(cd "$stage" && gem build --silent httpqq.gemspec -o "$ruby_out/httpqq-$version.gem" > /dev/null)
echo "   $ruby_out/httpqq-$version.gem"
rm -rf "$ruby_out"/stage-*
