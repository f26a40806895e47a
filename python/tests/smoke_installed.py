"""Run by `make test` with the package installed into a fresh virtualenv
(from the wheel, or built from the sdist) and no Rust toolchain on PATH:
it imports and works from what was installed alone, its licenses are
installed, and so is the `httpqq` command."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
distribution = importlib.metadata.distribution("httpqq")
assert distribution.metadata["License-Expression"] == "MIT OR Apache-2.0"
licenses = {Path(f.name).name for f in distribution.files or [] if "licenses" in str(f)}
assert {"LICENSE-MIT", "LICENSE-APACHE"} <= licenses, licenses
command = os.path.join(os.path.dirname(sys.executable), "httpqq")
shown = subprocess.run([command, "--help"], capture_output=True, text=True, check=True)
assert "HTTPQQ_PASSWORD" in shown.stdout, shown.stdout
source = sys.argv[1] if len(sys.argv) > 1 else "wheel"
print(f"httpqq {httpqq.__version__} works from the {source} on Python {sys.version.split()[0]}")
