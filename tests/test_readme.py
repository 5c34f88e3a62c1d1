"""The README's opening example runs as written."""

from __future__ import annotations

import pathlib
import re


def test_readme_quick_start(he, capsys):
    text = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    assert "[[" in capsys.readouterr().out
