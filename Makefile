# The two commands of the README:
#   make demo   runs the demo (two accounts chatting through the reference server)
#   make test   runs every test of every language in the repository
# Both work on a fresh machine with the Rust toolchain; they install what
# else they need into this folder.

CARGO ?= cargo
TARGET_DIR ?= target
# Where `make install` puts libhttpqq, httpqq.h and httpqq.pc.
PREFIX ?= /usr/local
C_TEST_DIR := $(TARGET_DIR)/c-test

VENV := .venv

.PHONY: dist test-dist test-windows demo test test-rust fuzz-build test-c test-bindings c-prefix test-python wheel lint docs header install bench soak fuzz

demo:
	$(CARGO) run --quiet --locked -p httpqq-server --example demo

test: lint test-rust test-c test-bindings test-dist test-python test-windows docs demo
	@echo "all tests passed"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked
	$(CARGO) build --locked -p httpqq-bench
	$(MAKE) fuzz-build

# Every fuzz target compiles (so none can rot between `make fuzz` runs):
# type-checked with the cfg cargo-fuzz sets, without its sanitizers.
FUZZ_TARGETS := reply_decoder request_decoder server_socket ffi_strings server_requests admin_input
fuzz-build:
	cd fuzz && CARGO_TARGET_DIR=$(abspath $(TARGET_DIR))/fuzz-check RUSTFLAGS="--cfg fuzzing" $(CARGO) check --locked --bins

docs:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

# The C library: built in debug, installed into a scratch prefix exactly as
# `make install` does, then the C suite and example are compiled against it
# through pkg-config (shared and static), run, run under valgrind, and the
# shared library is driven from Python's ctypes.
test-c: c-prefix
	$(CARGO) build --locked -p httpqq-server --bin httpqq-server
	PKG_CONFIG_PATH=$(C_TEST_DIR)/prefix/lib/pkgconfig sh ffi/tests/c/run.sh $(C_TEST_DIR)/build $(TARGET_DIR)/debug/httpqq-server
	cc -std=c99 -Wall -Wextra -Werror -fsyntax-only -I$(C_TEST_DIR)/prefix/include bench/c_roundtrip.c

# The C library in debug, installed into a scratch prefix as `make install`
# lays it out; what the C and binding tests link and load.
c-prefix:
	CARGO=$(CARGO) TARGET_DIR=$(abspath $(TARGET_DIR)) sh ffi/install.sh $(C_TEST_DIR)/prefix debug

# Every binding (bindings/: Node.js, LuaJIT, Go, Ruby, C++) over that
# prefix; bindings/run.sh installs the toolchains it misses (apt-get, npm ci).
test-bindings: c-prefix
	$(CARGO) build --locked -p httpqq-server --bin httpqq-server
	sh bindings/run.sh $(C_TEST_DIR)/prefix $(TARGET_DIR)/bindings $(abspath $(TARGET_DIR))/debug/httpqq-server
	node --check bench/node_memory.js
	sh -n bench/run.sh
	sh -n bench/tls_rows.sh

# Regenerates include/httpqq.h from ffi/ (commit the result).
header:
	HTTPQQ_BLESS=1 $(CARGO) test --locked -p httpqq-ffi --test header

# Builds the C libraries in release and installs them into $(PREFIX):
# libhttpqq (shared and static) and libhttpqq_testing, their headers and
# httpqq.hpp, pkg-config files (httpqq, httpqq-static, httpqq-testing) and
# share/httpqq/valgrind.supp; ffi/install.sh says what goes where.
install:
	CARGO=$(CARGO) TARGET_DIR=$(abspath $(TARGET_DIR)) sh ffi/install.sh $(PREFIX) release

# The project-local virtualenv with the Python tools (maturin, pytest, mypy).
$(VENV)/.installed: python/requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r python/requirements-dev.txt
	touch $@

# The Python package: portable wheels (manylinux2014, x86_64 and aarch64;
# macOS 11.0, x86_64 and arm64; through zig; Windows x86_64 through
# mingw-w64) and the sdist built by python/dist.sh in the dev profile;
# this machine's wheel installed into .venv, then pytest, stubtest (the
# stubs match the module), mypy --strict over the tests, examples and the
# command-line client; the wheels' tags, ELF and metadata checked; and the
# wheel and the sdist each installed in a fresh virtualenv without Rust on
# PATH. Run from the repository's root so that python/httpqq (sources
# without the native module) does not shadow the installed package.
test-python: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" TARGET_DIR=$(abspath $(TARGET_DIR)) sh python/dist.sh dev $(TARGET_DIR)/dist
	$(VENV)/bin/pip install -q --force-reinstall --no-deps $(TARGET_DIR)/dist/httpqq-*manylinux_2_17_$(shell uname -m).whl
	$(VENV)/bin/pytest -q -p no:cacheprovider --rootdir python python/tests
	$(VENV)/bin/python -m mypy.stubtest --allowlist python/stubtest-allowlist.txt httpqq
	$(VENV)/bin/mypy --strict --cache-dir $(TARGET_DIR)/mypy python/tests python/examples python/httpqq/cli.py packaging/lifecycle
	$(VENV)/bin/python -m py_compile bench/python_bench.py bench/pyclient.py
	$(VENV)/bin/python python/tests/check_dist.py $(TARGET_DIR)/dist
	sh python/tests/clean_install.sh $(TARGET_DIR)/dist $(TARGET_DIR)/py-clean

# What the Python package ships, in release: the wheels for Linux, macOS
# and Windows and the sdist, in target/dist.
wheel: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" TARGET_DIR=$(abspath $(TARGET_DIR)) sh python/dist.sh release $(TARGET_DIR)/dist

# Every package of every ecosystem, for every platform built here, into
# $(TARGET_DIR)/dist (packaging/dist.sh says what), in release; the
# wheels and sdist with them.
dist: $(VENV)/.installed wheel
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" TARGET_DIR=$(abspath $(TARGET_DIR)) sh packaging/dist.sh release $(TARGET_DIR)/dist

# The same packages, built faster (no optimisation), each installed in a
# fresh folder without Rust on PATH and its example run
# (packaging/check.sh).
test-dist: $(VENV)/.installed
	$(CARGO) build --locked -p httpqq-server --bin httpqq-server
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" TARGET_DIR=$(abspath $(TARGET_DIR)) sh packaging/dist.sh dist-check $(TARGET_DIR)/dist-check
	PYTHON=$(CURDIR)/$(VENV)/bin/python sh packaging/check.sh $(TARGET_DIR)/dist-check $(TARGET_DIR)/dist-scratch $(abspath $(TARGET_DIR))/debug/httpqq-server

# Windows, under wine (from Debian, with mingw-w64: packaging/windows/wine.sh
# installs them): the core and server crates' tests built for
# x86_64-pc-windows-gnu and run there; then the Windows release archive
# test-dist built, with the C suites, the C examples and the CMake
# project built against it by mingw-w64 and run (packaging/windows/test.sh).
WINE_PREFIX := $(abspath $(TARGET_DIR))/wine
test-windows: test-dist
	sh packaging/windows/wine.sh $(WINE_PREFIX)
	WINEPREFIX=$(WINE_PREFIX) WINEDEBUG=-all CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
		$(CARGO) test --locked --profile dist-check --target x86_64-pc-windows-gnu --lib --bins --tests \
		--target-dir $(abspath $(TARGET_DIR))/dist-build -p httpqq -p httpqq-server
	WINEPREFIX=$(WINE_PREFIX) sh packaging/windows/test.sh $(TARGET_DIR)/dist-check \
		$(TARGET_DIR)/windows-scratch $(abspath $(TARGET_DIR))/debug/httpqq-server

# The benchmarks (not part of `make test`, which only builds them): one
# table, every figure beside its baseline from the same run.
bench:
	sh bench/run.sh

# The long soak (50 clients × 2,000 messages; then 20 × 300 with the server
# SIGKILLed and restarted on its state file), in release.
soak:
	HTTPQQ_SOAK_CLIENTS=50 HTTPQQ_SOAK_MESSAGES=2000 \
	HTTPQQ_SOAK_KILL_CLIENTS=20 HTTPQQ_SOAK_KILL_MESSAGES=300 \
	$(CARGO) test --locked --release -p httpqq-server --test soak -- --nocapture

# Each fuzz target for FUZZ_SECONDS (default 600), with cargo-fuzz
# (installed when missing; RUSTC_BOOTSTRAP lets the stable toolchain take
# the sanitizer flags).
FUZZ_SECONDS ?= 600
fuzz:
	command -v cargo-fuzz > /dev/null || $(CARGO) install --locked cargo-fuzz
	for target in $(FUZZ_TARGETS); do \
		mkdir -p $(TARGET_DIR)/fuzz-corpus/$$target; \
		(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O $$target $(abspath $(TARGET_DIR))/fuzz-corpus/$$target seeds/$$target \
			-- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=4096) || exit 1; \
	done
