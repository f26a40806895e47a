# The two commands of the README:
#   make demo   runs the demo (two accounts chatting through the reference server)
#   make test   runs every test of every language in the repository
# Both work on a fresh machine with the Rust toolchain; they install what
# else they need into this folder.

CARGO ?= cargo

.PHONY: demo test test-rust lint docs

demo:
	$(CARGO) run --quiet --locked -p httpqq-server --example demo

test: lint test-rust docs demo
	@echo "all tests passed"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked

docs:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked
