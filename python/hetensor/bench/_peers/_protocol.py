"""The protocol every peer worker speaks (imported by path: no hetensor import here).

A worker module defines ``prepare(op, data, params) -> Prepared`` and calls
:func:`main` with it. The operation names and their operands:

============== ============================ =====================================
op             operands (in the IN file)    result
============== ============================ =====================================
encrypt        x (n,)                       decrypt(encrypt(x))
decrypt        x (n,)                       decrypt of a ciphertext of x
add            x, y (n,)                    x + y
multiply       x, y (n,)                    x * y (relinearized, rescaled)
total_sum      x (n,)                       sum(x)
sum_axis0      M (r, c)                     M.sum(axis=0)
sum_axis1      M (r, c)                     M.sum(axis=1)
matvec_plain   A (r, c) plain, v (c,)       A @ v, v encrypted
matvec_enc     A (r, c), v (c,) encrypted   A @ v
matmul_enc     A (n, k), B (k, m) encrypted A @ B
ridge          X (n, d), y (n,)             weights after ``epochs`` GD steps
============== ============================ =====================================

``ridge`` is timed once (time to model) and reports its split in ``Prepared.split``.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OPS = (
    "encrypt",
    "decrypt",
    "add",
    "multiply",
    "total_sum",
    "sum_axis0",
    "sum_axis1",
    "matvec_plain",
    "matvec_enc",
    "matmul_enc",
    "ridge",
)


class Unsupported(Exception):
    """The library has no way to do this operation (reported, not an error)."""


@dataclass
class Prepared:
    """What a worker built for one operation.

    ``run`` is the timed call; ``result`` turns its last return value into the decrypted
    NumPy result (untimed). ``params`` describes the context (ring, depth, scale...);
    ``split`` names the phases of a one-shot run (``ridge``).
    """

    run: Callable[[], Any]
    result: Callable[[Any], np.ndarray]
    params: dict[str, Any]
    split: dict[str, float] = field(default_factory=dict)
    one_shot: bool = False


def peak_rss_mib() -> float:
    """The process's resident high-water mark, MiB (Linux: ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """One untimed warm-up, then ``repeat`` timed calls: (seconds each, last value)."""
    out = fn()
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def main(library: str, version: str, prepare: Callable[[str, dict, dict], Prepared]) -> int:
    """Run the worker's command line (see the module docstring); returns the exit status."""
    if len(sys.argv) != 6:
        print(f"usage: {sys.argv[0]} OP IN.npz OUT.npz REPEAT PARAMS_JSON", file=sys.stderr)
        return 2
    op, in_path, out_path, repeat, params_json = sys.argv[1:]
    if op not in OPS:
        print(f"unknown op {op!r}; one of {', '.join(OPS)}", file=sys.stderr)
        return 2
    with np.load(in_path) as f:
        data = {k: f[k] for k in f.files}
    report: dict[str, Any] = {"library": library, "version": version, "op": op}
    t0 = time.perf_counter()
    try:
        prep = prepare(op, data, json.loads(params_json))
    except Unsupported as why:
        report["unsupported"] = str(why)
        print(json.dumps(report))
        return 0
    report["setup_s"] = time.perf_counter() - t0
    if prep.one_shot:
        t0 = time.perf_counter()
        value = prep.run()
        times = [time.perf_counter() - t0]
    else:
        times, value = timed(prep.run, int(repeat))
    np.savez(out_path, result=np.asarray(prep.result(value), dtype=np.float64))
    report.update(
        times=times,
        median_s=statistics.median(times),
        params=prep.params,
        split=prep.split,
        peak_rss_mib=round(peak_rss_mib(), 1),
    )
    print(json.dumps(report))
    return 0
