"""Benchmark harness behind ``hetensor bench``.

A benchmark *case* times hetensor against the reference a user would otherwise use (raw
OpenFHE, NumPy, PyTorch, ...) in the same run, and reports their ratio; absolute times on a
shared machine are noisy, ratios much less so. Cases register with :func:`case` and return
:class:`Row` objects, usually built with :func:`compare`.

Examples
--------
>>> from hetensor import bench
>>> @bench.case("demo.sum", group="demo", reference="builtin sum")
... def _demo(cfg):
...     data = list(range(1000))
...     return [bench.compare("sum 1000 ints", lambda: sum(data), lambda: sum(data),
...                           reference="builtin sum", repeat=cfg.repeat)]
>>> rows = bench.run("demo.sum", repeat=3, progress=False)
>>> rows[0].name
'sum 1000 ints'
>>> del bench.REGISTRY["demo.sum"]
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import pkgutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .._extras import install_hint, missing, unavailable

__all__ = [
    "BLAS_SETTLE_S",
    "REGISTRY",
    "BenchConfig",
    "Case",
    "Row",
    "Target",
    "case",
    "compare",
    "format_table",
    "run",
    "select",
    "time_pair",
    "write_json",
]


def _case_modules() -> list[str]:
    """Every module of this package registers cases on import (no list to keep in sync)."""
    return [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if not m.ispkg]


@dataclass(frozen=True)
class Target:
    """A goal a row is checked against: a time ratio bound and/or an overhead bound."""

    max_ratio: float | None = None  # ours / reference must be <= this
    min_speedup: float | None = None  # reference / ours must be >= this
    max_overhead_us: float | None = None  # ours - reference, microseconds

    def describe(self) -> str:
        parts = []
        if self.max_ratio is not None:
            parts.append(f"ratio<={self.max_ratio:g}")
        if self.min_speedup is not None:
            parts.append(f"speedup>={self.min_speedup:g}x")
        if self.max_overhead_us is not None:
            parts.append(f"overhead<={self.max_overhead_us:g}us")
        return ", ".join(parts)

    def met(self, row: Row) -> bool | None:
        if row.reference_seconds is None:
            return None
        ok = True
        if self.max_ratio is not None:
            ok &= row.ratio <= self.max_ratio
        if self.min_speedup is not None:
            ok &= row.speedup >= self.min_speedup
        if self.max_overhead_us is not None:
            ok &= row.overhead_us <= self.max_overhead_us
        return ok


@dataclass
class Row:
    """One measured comparison: hetensor's median time against the reference's."""

    name: str
    seconds: float
    reference: str = ""
    reference_seconds: float | None = None
    target: Target | None = None
    note: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    case: str = ""

    @property
    def ratio(self) -> float:
        """ours / reference (below 1: hetensor is faster)."""
        return self.seconds / self.reference_seconds if self.reference_seconds else float("nan")

    @property
    def speedup(self) -> float:
        """reference / ours (above 1: hetensor is faster)."""
        return self.reference_seconds / self.seconds if self.reference_seconds else float("nan")

    @property
    def overhead_us(self) -> float:
        if self.reference_seconds is None:
            return float("nan")
        return (self.seconds - self.reference_seconds) * 1e6

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["target"] = self.target.describe() if self.target else None
        out["ratio"] = self.ratio
        out["speedup"] = self.speedup
        out["overhead_us"] = self.overhead_us
        out["target_met"] = self.target.met(self) if self.target else None
        return out


@dataclass(frozen=True)
class BenchConfig:
    """Settings passed to every case."""

    repeat: int = 20
    quick: bool = False


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    reference: str
    fn: Callable[[BenchConfig], list[Row]]
    description: str = ""
    requires: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return next(iter(self.description.strip().splitlines()), "")

    def unavailable(self) -> str | None:
        """Why the case cannot run here (its missing modules and their extra), or None."""
        return unavailable(self.requires)


REGISTRY: dict[str, Case] = {}


def case(
    name: str,
    *,
    group: str,
    reference: str,
    description: str = "",
    requires: Iterable[str] = (),
) -> Callable[[Callable[[BenchConfig], list[Row]]], Callable[[BenchConfig], list[Row]]]:
    """Register a benchmark case (decorator).

    ``requires`` names the optional modules the case imports when it runs (its reference,
    usually); a case whose modules are missing is listed as unavailable and not run.
    """

    def register(fn: Callable[[BenchConfig], list[Row]]) -> Callable[[BenchConfig], list[Row]]:
        if name in REGISTRY:
            raise ValueError(f"benchmark case {name!r} is already registered")
        REGISTRY[name] = Case(
            name, group, reference, fn, description or (fn.__doc__ or ""), tuple(requires)
        )
        return fn

    return register


# Settle time for cases whose reference calls NumPy's threaded OpenBLAS: its workers spin for
# 2^28 cycles (~0.1 s) after each call before sleeping (OpenBLAS's THREAD_TIMEOUT default).
BLAS_SETTLE_S = 0.15


def time_pair(
    ours: Callable[[], Any],
    reference: Callable[[], Any],
    repeat: int,
    warmup: int = 1,
    settle: float = 0.0,
) -> tuple[float, float]:
    """Median seconds of ``ours`` and ``reference``, timed alternately to share the noise.

    ``settle`` seconds are slept (untimed) before each call: a thread pool that spins after
    its call (OpenBLAS's workers busy-wait ~0.1 s by default, NumPy's included) would
    otherwise hold the cores during the other side's next call.
    """
    for _ in range(warmup):
        ours()
        reference()
    a: list[float] = []
    b: list[float] = []
    clock = time.perf_counter
    for _ in range(max(1, repeat)):
        time.sleep(settle)
        t0 = clock()
        ours()
        t1 = clock()
        time.sleep(settle)
        t2 = clock()
        reference()
        t3 = clock()
        a.append(t1 - t0)
        b.append(t3 - t2)
    return statistics.median(a), statistics.median(b)


def compare(
    name: str,
    ours: Callable[[], Any],
    reference_fn: Callable[[], Any],
    *,
    reference: str,
    repeat: int,
    target: Target | None = None,
    note: str = "",
    settle: float = 0.0,
    **extras: Any,
) -> Row:
    """Time ``ours`` against ``reference_fn`` (see :func:`time_pair`) and return the row."""
    t_ours, t_ref = time_pair(ours, reference_fn, repeat, settle=settle)
    return Row(name, t_ours, reference, t_ref, target, note, dict(extras))


def load_cases(modules: Iterable[str] | None = None) -> dict[str, str]:
    """Import the case modules; returns {module: reason} for those that cannot load here.

    A module that cannot be imported here (the HE cases without openfhe, the PyTorch cases
    without torch) is reported as skipped, not fatal; the reason says what installs it.
    """
    skipped = {}
    for mod in _case_modules() if modules is None else modules:
        try:
            importlib.import_module(mod)
        except ImportError as err:
            why = str(err).splitlines()[0]
            if err.name and missing([err.name]):
                why = f"{why} ({install_hint([err.name])})"
            skipped[mod] = why
    return skipped


def select(pattern: str | None = None) -> list[Case]:
    """The registered cases whose name matches ``pattern`` (substring or glob), by name."""
    return [
        c
        for name, c in sorted(REGISTRY.items())
        if pattern is None or pattern in name or fnmatch.fnmatch(name, pattern)
    ]


def run(
    pattern: str | None = None,
    *,
    repeat: int = 20,
    quick: bool = False,
    progress: bool = True,
) -> list[Row]:
    """Run the registered cases whose name matches ``pattern`` (substring or glob).

    Cases whose optional modules are missing (:meth:`Case.unavailable`) are left out.
    """
    load_cases()
    cfg = BenchConfig(repeat=repeat, quick=quick)
    selected = [c for c in select(pattern) if c.unavailable() is None]
    rows: list[Row] = []
    if progress:
        from tqdm import tqdm

        iterator: Iterable[Case] = tqdm(selected, desc="bench", unit="case", leave=False)
    else:
        iterator = selected
    for c in iterator:
        for row in c.fn(cfg):
            row.case = c.name
            rows.append(row)
    return rows


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} us"


def format_table(rows: list[Row]) -> str:
    """Render rows as a fixed-width text table."""
    header = ["case", "hetensor", "reference", "ref time", "ratio", "speed-up", "target", "note"]
    lines = []
    for r in rows:
        met = r.target.met(r) if r.target else None
        target = ""
        if r.target:
            target = r.target.describe() + {True: " ok", False: " MISSED", None: ""}[met]
        extra = " ".join(f"{k}={v}" for k, v in r.extras.items())
        note = "; ".join(x for x in (r.note, extra) if x)
        has_ref = r.reference_seconds is not None
        lines.append(
            [
                r.name,
                _fmt_time(r.seconds),
                r.reference or "-",
                _fmt_time(r.reference_seconds),
                f"{r.ratio:.3f}" if has_ref else "-",
                f"{r.speedup:.2f}x" if has_ref else "-",
                target,
                note,
            ]
        )
    widths = [
        max(len(h), *(len(row[i]) for row in lines)) if lines else len(h)
        for i, h in enumerate(header)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in lines]
    out.append(
        "ratio = hetensor time / reference time (lower is better); speed-up = reference / hetensor"
    )
    return "\n".join(out)


def write_json(path: str | os.PathLike[str], rows: list[Row], meta: dict[str, Any]) -> None:
    """Write rows and run metadata as JSON, atomically (temp file + fsync + rename)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    payload = json.dumps({"meta": meta, "rows": [r.to_json() for r in rows]}, indent=2)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".bench-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
