"""The 3-owner threshold demo of README runs (insecure toy ring, 1 worker, for speed)."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")


def test_threshold_demo(he, capsys):
    from hetensor.cli import main

    argv = ["demo", "threshold", "--insecure", "--rows", "30", "--workers", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "two owners are not enough" in out and "worst error" in out
