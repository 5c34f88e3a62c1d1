"""Demos run by ``hetensor demo NAME`` (``make demo`` runs the default one)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["DEFAULT", "DEMOS"]


def _walkthrough(argv: list[str]) -> int:
    from .walkthrough import main

    return main(argv)


def _ames(argv: list[str]) -> int:
    from .ames import main

    return main(argv)


def _threshold(argv: list[str]) -> int:
    from .threshold import main

    return main(argv)


DEMOS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "walkthrough": (
        _walkthrough,
        "encrypt -> compute on a public (server) context -> decrypt, with errors vs NumPy",
    ),
    "ames": (
        _ames,
        "Ames housing: owner encrypts, server trains ridge regression, table vs scikit-learn",
    ),
    "threshold": (
        _threshold,
        "3 data owners, one joint threshold key: Dask training, joint decryption (needs dask)",
    ),
}
DEFAULT = "ames"
