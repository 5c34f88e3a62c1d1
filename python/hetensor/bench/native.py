"""Benchmark case: the C++ benchmark executable ``hetensor_bench`` (no Python in the loop).

``make bench-native`` builds it (CMake option ``HETENSOR_BUILD_BENCH``) into
``build/bench/hetensor_bench``; ``$HETENSOR_BENCH_EXE`` points elsewhere. The case runs it,
reads its JSON and adds one row per kernel with GFLOP/s and the fraction of the SGEMM/DGEMM
2048^3 rate measured in the same run. Without the executable the case reports one row saying
how to build it.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

from . import BenchConfig, Row, case

_REPO = pathlib.Path(__file__).resolve().parents[3]


def find_exe() -> pathlib.Path | None:
    """``$HETENSOR_BENCH_EXE``, else ``build/bench/hetensor_bench`` of a source checkout."""
    env = os.environ.get("HETENSOR_BENCH_EXE")
    for cand in ([pathlib.Path(env)] if env else []) + [
        _REPO / "build" / "bench" / "hetensor_bench"
    ]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    return None


@case("native.kernels", group="native", reference="SGEMM/DGEMM peak (same run)")
def bench_native(cfg: BenchConfig) -> list[Row]:
    """C++ kernels timed by hetensor_bench: GFLOP/s and fraction of GEMM peak."""
    exe = find_exe()
    if exe is None:
        msg = (
            "skipped: hetensor_bench not built (run `make bench-native` or set HETENSOR_BENCH_EXE)"
        )
        print(msg, file=sys.stderr)
        return [Row("native hetensor_bench", float("nan"), note=msg)]
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "native.json"
        args = [str(exe), "--json", str(out), "--repeat", str(max(1, cfg.repeat // 4))]
        if cfg.quick:
            args.append("--quick")
        subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
        data = json.loads(out.read_text())
    meta = data["meta"]
    rows = []
    for r in data["rows"]:
        note = (
            f"{r['gflops']:.1f} GFLOP/s, {100 * r['fraction_of_gemm_peak']:.1f}% of "
            + (
                f"SGEMM {meta['sgemm_gflops']:.0f}"
                if r["precision"] == "float32"
                else f"DGEMM {meta['dgemm_gflops']:.0f}"
            )
            + " GFLOP/s"
        )
        extras = dict(r["extras"], blas_threads=meta["blas_threads"])
        rows.append(Row(f"native {r['name']}", r["seconds"], note=note, extras=extras))
    return rows
