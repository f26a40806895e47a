"""The README's Python examples run (those that start a test server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "Server()" in b and "print(" in b]


def test_the_readme_has_runnable_python_examples() -> None:
    assert BLOCKS, "the README lost its Python quick start"


@pytest.mark.parametrize("code", BLOCKS)
def test_readme_example_runs(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out
