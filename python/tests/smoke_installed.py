"""Run by `make test` with the wheel installed into a fresh virtualenv and no
Rust toolchain on PATH: the package imports and works from the wheel alone."""

import shutil
import sys

import httpqq
from httpqq.testing import Server

assert shutil.which("cargo") is None and shutil.which("rustc") is None, "a Rust toolchain is on PATH"
assert "site-packages" in httpqq.__file__, httpqq.__file__

with Server() as server:
    client = server.client()
    with client.login(10001, "demo") as alice, client.login(10002, "demo") as bob:
        alice.send(10002, "from the wheel, 你好 & more")
        (message,) = bob.messages()
        assert message.text == "from the wheel, 你好 & more", message
print(f"httpqq {httpqq.__version__} works from the wheel on Python {sys.version.split()[0]}")
