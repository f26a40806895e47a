# Builds libhttpqq and libhttpqq_testing with cargo when the source gem is
# installed (a platform gem carries them built), into lib/httpqq/native/
# where lib/httpqq.rb looks. Needs a Rust toolchain (https://rustup.rs).
require "rbconfig"

rust = File.expand_path("rust", __dir__)
native = File.expand_path("../../lib/httpqq/native", __dir__)
version = File.read(File.join(rust, "Cargo.toml"))[/^version = "(.*)"/, 1]
# What the soname carries (packaging/version.sh): 0.3 for 0.3.x, 1 for 1.x.
abi = version.start_with?("0.") ? version.split(".").first(2).join(".") : version.split(".").first
cargo = ENV.fetch("CARGO", "cargo")
abort "httpqq: building the source gem needs cargo (a Rust toolchain: https://rustup.rs)" unless
  system("#{cargo} --version", out: File::NULL, err: File::NULL)

os = RbConfig::CONFIG["host_os"]
built, name, testing_built, testing_name, link_name =
  case os
  when /darwin/
    ["libhttpqq_ffi.dylib", "libhttpqq.#{abi}.dylib", "libhttpqq_testing.dylib", "libhttpqq_testing.#{abi}.dylib", "libhttpqq.dylib"]
  when /mswin|mingw/
    ["httpqq_ffi.dll", "httpqq.dll", "httpqq_testing.dll", "httpqq_testing.dll", "httpqq.dll"]
  else
    ["libhttpqq_ffi.so", "libhttpqq.so.#{abi}", "libhttpqq_testing.so", "libhttpqq_testing.so.#{abi}", "libhttpqq.so"]
  end
target = File.join(rust, "target", "release")
link = File.join(rust, "target", "link")

File.write("Makefile", <<~MAKE)
  all:
  \tcd #{rust} && #{cargo} build --release -p httpqq-ffi
  \tmkdir -p #{native} #{link}
  \tcp #{target}/#{built} #{native}/#{name}
  \tcp #{target}/#{built} #{link}/#{link_name}
  \tcd #{rust} && HTTPQQ_LIB_DIR=#{link} #{cargo} build --release -p httpqq-ffi-testing
  \tcp #{target}/#{testing_built} #{native}/#{testing_name}
  \trm -rf #{rust}/target
  install:
  clean:
MAKE
