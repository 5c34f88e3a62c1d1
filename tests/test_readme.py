"""Every Python code block of README.md and docs/**/*.md runs as written.

The rules, which the pages follow:

- Only fenced blocks opened with ```python are run; shell, console and other blocks are not.
- A block that contains ``if __name__ == "__main__":`` is a script (every block that starts
  Dask is written so, as a user would paste it into a file): it is written to a temporary
  file and run with ``sys.executable`` in a subprocess, in a temporary directory, with a
  timeout, and must exit with status 0.
- Every other block is exec'd in-process. The in-process blocks of one page that are not
  slow run in order in one namespace (a later block may use names an earlier one defined),
  in one temporary working directory per page; running one block alone first runs the
  page's earlier such blocks.
- A block immediately preceded by the HTML comment ``<!-- test: slow -->`` is marked slow:
  it runs only under ``-m slow`` (``make test-slow``), in a fresh namespace (or as a script)
  of its own, so fast blocks never depend on it.

Test ids are ``<page>:<n>``, ``n`` counting the page's Python blocks from 1. Docstring
examples are not run here.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest

ROOT = pathlib.Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
SLOW_MARKER = re.compile(r"<!--\s*test:\s*slow\s*-->\s*$")
SCRIPT_TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository root
    index: int  # 1-based among the page's Python blocks
    code: str
    slow: bool

    @property
    def script(self) -> bool:
        return 'if __name__ == "__main__":' in self.code

    @property
    def shared(self) -> bool:
        """Runs in the page's shared namespace."""
        return not self.slow and not self.script


def python_blocks(path: pathlib.Path) -> list[Block]:
    text = path.read_text()
    page = path.relative_to(ROOT).as_posix()
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1).strip() != "python":
            continue
        slow = bool(SLOW_MARKER.search(text[: match.start()].rstrip() + "\n"))
        blocks.append(Block(page, len(blocks) + 1, match.group(2), slow))
    return blocks


BLOCKS = [b for p in PAGES for b in python_blocks(p)]


def _param(block: Block):
    marks = [pytest.mark.slow] if block.slow else []
    return pytest.param(block, id=f"{block.page}:{block.index}", marks=marks)


def _exec(block: Block, namespace: dict) -> None:
    exec(compile(block.code, f"{block.page}:{block.index}", "exec"), namespace)


class _Page:
    """The shared namespace of a page's fast in-process blocks and how far it has run."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        self.namespace: dict = {"__name__": "__doc_block__"}
        self.done = 0  # index of the last shared block run


_PAGES: dict[str, _Page] = {}


def _run_shared(block: Block, tmp_path_factory, monkeypatch) -> None:
    state = _PAGES.get(block.page)
    if state is None or state.done >= block.index:  # first run, or run again: start afresh
        state = _PAGES[block.page] = _Page(tmp_path_factory.mktemp("page"))
    monkeypatch.chdir(state.workdir)
    earlier = [b for b in BLOCKS if b.page == block.page and b.shared]
    for prior in earlier:
        if state.done < prior.index < block.index:
            try:
                _exec(prior, state.namespace)
            except Exception as err:  # pragma: no cover - reported as this block's failure
                pytest.fail(f"earlier block {prior.page}:{prior.index} failed: {err!r}")
            state.done = prior.index
    state.done = block.index
    _exec(block, state.namespace)


def _run_script(block: Block, tmp_path) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.code)
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    res = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}"


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_code_block(block, he, tmp_path, tmp_path_factory, monkeypatch):
    if block.script:
        _run_script(block, tmp_path)
    elif block.slow:
        monkeypatch.chdir(tmp_path)
        _exec(block, {"__name__": "__doc_block__"})
    else:
        _run_shared(block, tmp_path_factory, monkeypatch)


def test_readme_quick_start(he, capsys):
    """The README's first block, the quick start, prints the decrypted Gram matrix."""
    first = python_blocks(ROOT / "README.md")[0]
    assert not first.slow and not first.script
    _exec(first, {})
    assert "[[" in capsys.readouterr().out


def test_blocks_found():
    """The collection above sees the pages' blocks (a broken pattern would test nothing)."""
    assert len([b for b in BLOCKS if b.page == "README.md"]) >= 5
    assert {b.page for b in BLOCKS} >= {"README.md", "docs/getting-started.md"}
