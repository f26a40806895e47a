# shellcheck shell=sh
# The version, and the part of it the shared libraries' names carry.
# Sourced (`. "$repo/packaging/version.sh"`, with $repo the checkout's
# root) by the packaging scripts and ffi/install.sh; sets
#
#   version  the workspace's version (Cargo.toml): 0.3.0
#   major, minor  its first two parts: 0 and 3
#   abi      what the soname carries: in 0.x every minor version may
#            break the ABI (libhttpqq.so.0.3, libhttpqq.0.3.dylib); from
#            1.0 on, only a major one (libhttpqq.so.1)
#
# The same rule gives the linker the sonames (ffi/soname.rs) and the
# source gem its file names (packaging/ruby/extconf.rb).
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" = 0 ]; then abi=0.$minor; else abi=$major; fi
