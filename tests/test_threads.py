"""Kernels on several Python threads at once. They release the GIL, and conv2d (several work
items) and the LSTM both split their GEMMs over threads of their own while OpenBLAS, whose
thread count is process wide, is held at one thread. Run side by side, each must still give the
result it gives alone, OpenBLAS's thread count must be what it was before, and OpenBLAS must
never have handed work to its own threads meanwhile."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

import hetensor as ht
from hetensor import _core

F = ht.nn.functional
LOOPS = 30

Job = Callable[[], list[np.ndarray]]


def conv_job(rng: np.random.Generator) -> Job:
    """Forward (GEMM and Winograd) and backward of a batch-4 conv2d: several work items, run on
    two kernel threads whatever the default thread count, with per-item GEMMs large enough that
    OpenBLAS would split them over its own threads if its count were above 1."""
    x = rng.standard_normal((4, 16, 20, 20))
    w = rng.standard_normal((64, 16, 3, 3))
    b = rng.standard_normal(64)
    gy = rng.standard_normal((4, 64, 20, 20))

    def job() -> list[np.ndarray]:
        out = [
            F.conv2d(x, w, b, padding=1, algorithm=algo, num_threads=2)
            for algo in ("gemm", "winograd")
        ]
        g = F.conv2d_backward(x, w, gy, padding=1, num_threads=2)
        return [*out, g.input, g.weight, g.bias]

    return job


def lstm_job(rng: np.random.Generator) -> Job:
    """Forward and backward of a two-layer bidirectional LSTM, batch large enough for the
    recurrent kernels to split rows over their threads, and T * B rows enough for the input
    projections to be GEMMs that OpenBLAS would thread if allowed."""
    T, B, n_in, H, L, D = 32, 16, 64, 32, 2, 2
    lstm = ht.nn.LSTM(n_in, H, num_layers=L, bidirectional=True, dtype=np.float64, seed=3)
    x = rng.standard_normal((T, B, n_in))
    h0, c0 = rng.standard_normal((2, L * D, B, H))
    gout = rng.standard_normal((T, B, D * H))
    gh, gc = rng.standard_normal((2, L * D, B, H))

    def job() -> list[np.ndarray]:
        out, (h_n, c_n) = lstm(x, (h0, c0))
        g = lstm.backward(gout, (gh, gc))
        return [out, h_n, c_n, g.input, *g.hx, *(g.params[k] for k in sorted(g.params))]

    return job


def run_side_by_side(jobs: list[Job], loops: int) -> list[list[list[np.ndarray]]]:
    """Runs each job `loops` times on its own Python thread, all released together."""
    start = threading.Barrier(len(jobs))
    results: list[list[list[np.ndarray]]] = [[] for _ in jobs]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(loops):
                results[i].append(jobs[i]())
        except BaseException as e:  # re-raised on the calling thread below
            errors.append(e)
            start.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


def assert_same(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    # Within 1e-12 of each array's scale: the weight gradient sums the kernel threads' partial
    # sums in the order they finish.
    for g, w in zip(got, want, strict=True):
        scale = max(1.0, float(np.abs(w).max()))
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12 * scale)


def test_conv2d_and_lstm_on_two_python_threads():
    rng = np.random.default_rng(20240611)
    jobs = [conv_job(rng), lstm_job(rng)]
    blas_threads = _core.blas_num_threads()
    expected = [job() for job in jobs]  # one Python thread: the reference results
    assert _core.blas_num_threads() == blas_threads

    results = run_side_by_side(jobs, LOOPS)

    assert _core.blas_num_threads() == blas_threads
    for i, runs in enumerate(results):
        assert len(runs) == LOOPS
        for got in runs:
            assert_same(got, expected[i])


# ---------------------------------------------------------------- OpenBLAS's own threads
# A kernel that restored OpenBLAS's thread count while another kernel still relied on it being
# 1 leaves the results and the final count intact; what it does is let OpenBLAS hand parts of
# the other kernel's calls to its own thread pool. Its pool threads sleep on a condition
# variable until handed work, so in a fresh process where only these kernels call OpenBLAS,
# the threads started with hetensor's OpenBLAS must not run at all: their context-switch
# counts (Linux /proc) stay as they were.

CHILD = """
import os, sys
import numpy  # NumPy's own OpenBLAS threads start here, before the snapshot
before = set(os.listdir("/proc/self/task"))
sys.path.insert(0, {tests!r})
import test_threads
test_threads.report_pool_wakeups(before)
"""


def _switches(tid: str) -> tuple[str, int] | None:
    """(state letter, voluntary + involuntary context switches) of one of our threads."""
    try:
        lines = pathlib.Path(f"/proc/self/task/{tid}/status").read_text().splitlines()
    except OSError:  # the thread has ended
        return None
    fields = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    count = int(fields["voluntary_ctxt_switches"]) + int(fields["nonvoluntary_ctxt_switches"])
    return fields["State"].strip()[0], count


def report_pool_wakeups(before: set[str]) -> None:
    """In the child: prints the pool threads' switch counts before and after the jobs ran."""
    pool = sorted(set(os.listdir("/proc/self/task")) - before)
    rng = np.random.default_rng(7)
    jobs = [conv_job(rng), lstm_job(rng)]
    for job in jobs:
        job()
    # A pool thread spins a while after its start (or its last work) before it sleeps.
    deadline = time.monotonic() + 5.0
    base = [_switches(t) for t in pool]
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = [_switches(t) for t in pool]
        settled = now == base and all(s is None or s[0] == "S" for s in now)
        base = now
        if settled:
            break
    run_side_by_side(jobs, LOOPS)
    after = [_switches(t) for t in pool]
    report = {"blas_threads": _core.blas_num_threads(), "pool": pool}
    print(json.dumps({**report, "before": base, "after": after}))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_openblas_pool_stays_idle_while_kernels_share_it():
    if _core.blas_num_threads() == 1:
        pytest.skip("OpenBLAS runs single-threaded here: it has no pool to wake")
    child = CHILD.format(tests=str(pathlib.Path(__file__).parent))
    # The child gets this process's OpenBLAS thread count, whatever the environment says now:
    # Dask (the distributed tests) sets OMP/OPENBLAS/MKL_NUM_THREADS=1 in os.environ for the
    # worker processes it spawns, and a child inheriting that starts no OpenBLAS pool at all.
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = str(_core.blas_num_threads())
    proc = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["pool"], "no threads started with hetensor's OpenBLAS"
    assert report["blas_threads"] == _core.blas_num_threads()
    woken = [
        (tid, b, a)
        for tid, b, a in zip(report["pool"], report["before"], report["after"], strict=True)
        if b is not None and a is not None and a[1] != b[1]
    ]
    assert not woken, f"OpenBLAS pool threads ran while the kernels held it at 1: {woken}"
