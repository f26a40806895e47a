# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "httpqq"
  spec.version = "0.3.0"
  spec.summary = "HTTP QQ 1.1 client and in-process reference server, over libhttpqq"
  spec.description = "Ruby bindings for libhttpqq through the ffi gem: sessions, the long-running " \
                     "agent, and the reference server for tests. Needs libhttpqq and httpqq_cdef.h installed."
  spec.authors = ["The httpqq developers"]
  spec.license = "MIT OR Apache-2.0"
  spec.files = ["lib/httpqq.rb", "README.md"]
  spec.require_paths = ["lib"]
  spec.required_ruby_version = ">= 3.1"
  spec.add_dependency "ffi", ">= 1.15"
end
