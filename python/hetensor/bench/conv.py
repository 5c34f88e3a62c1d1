"""Benchmark cases: conv2d against PyTorch's CPU convolution (oneDNN), and the FFT
pseudo-inverse against a NumPy implementation of the same method.

PyTorch cases (``torch.conv2d.*``) need torch (``make bench-torch`` runs them in .venv-torch);
without it they are listed as unavailable. Both sides use 2 threads (``torch.set_num_threads(2)``,
``HETENSOR_NUM_THREADS``/cores for hetensor on the 2-core reference machine). Every row also
reports GFLOP/s (direct-convolution FLOPs 2*N*C_out*C_in/groups*kh*kw*H_out*W_out, so Winograd
counts as "equivalent" GFLOP/s) and the fraction of the SGEMM speed measured in the same run:
a 1024^3 float32 product through the same OpenBLAS call the kernels make (``_core.conv.gemm``).
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

import numpy as np

from .. import _core
from ..nn import functional as F
from . import BenchConfig, Row, Target, case, compare

# PyTorch's OpenMP workers spin after each call and would steal one of the two cores from the
# hetensor call timed next; passive waiting keeps the alternating timings fair to both sides.
# torch is imported where a case runs, so the cases are listed (as unavailable) without it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

THREADS = 2


@functools.lru_cache(maxsize=1)
def sgemm_gflops() -> float:
    """GFLOP/s of a 1024^3 float32 GEMM through hetensor's OpenBLAS (best of 5)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    _core.conv.gemm(a, b)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        _core.conv.gemm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * 1024**3 / best / 1e9


def _conv_rows(
    label: str, n: int, c: int, k: int, hw: int, repeat: int, backward: bool
) -> list[Row]:
    import torch

    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, hw, hw), dtype=np.float32)
    w = (rng.standard_normal((k, c, 3, 3), dtype=np.float32) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(k, dtype=np.float32)
    xt, wt, bt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
    flops = 2.0 * n * k * c * 9 * hw * hw
    gemm = sgemm_gflops()
    shape = f"N={n} C={c}->{k} {hw}x{hw} 3x3 pad 1 float32, {THREADS} threads"

    def fwd_ours() -> np.ndarray:
        return F.conv2d(x, w, b, padding=1, num_threads=THREADS)

    def fwd_torch() -> Any:
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, bt, padding=1)

    err = float(np.abs(fwd_ours() - fwd_torch().numpy()).max())
    rows = [
        compare(
            f"conv2d forward {label}",
            fwd_ours,
            fwd_torch,
            reference=f"torch {torch.__version__} conv2d (oneDNN)",
            repeat=repeat,
            target=Target(max_ratio=1 / 0.7),
            note=shape + f"; max|diff|={err:.1e}",
        )
    ]
    if backward:
        gy = rng.standard_normal((n, k, hw, hw), dtype=np.float32)
        xg = xt.clone().requires_grad_(True)
        wg = wt.clone().requires_grad_(True)
        bg = bt.clone().requires_grad_(True)
        gyt = torch.from_numpy(gy)

        def bwd_torch() -> object:
            # forward + backward in torch (autograd needs the graph); the forward share is
            # subtracted below from the forward row's reference time
            y = torch.nn.functional.conv2d(xg, wg, bg, padding=1)
            return torch.autograd.grad(y, (xg, wg, bg), gyt)

        def bwd_ours() -> object:
            F.conv2d(x, w, b, padding=1, num_threads=THREADS)
            return F.conv2d_backward(x, w, gy, padding=1, num_threads=THREADS)

        rows.append(
            compare(
                f"conv2d forward+backward {label}",
                bwd_ours,
                bwd_torch,
                reference=f"torch {torch.__version__} conv2d + autograd",
                repeat=max(3, repeat // 2),
                note=shape,
            )
        )
    for r in rows:
        mult = 3.0 if "backward" in r.name else 1.0  # backward: two more convolution-sized products
        ours = mult * flops / r.seconds / 1e9
        ref = mult * flops / r.reference_seconds / 1e9 if r.reference_seconds else float("nan")
        r.extras.update(
            gflops=f"{ours:.1f}",
            torch_gflops=f"{ref:.1f}",
            sgemm_gflops=f"{gemm:.1f}",
            of_sgemm=f"{ours / gemm:.2f}",
            torch_of_sgemm=f"{ref / gemm:.2f}",
        )
    return rows


@case("torch.conv2d.resnet", group="conv", reference="torch conv2d (oneDNN)", requires=("torch",))
def bench_conv_resnet(cfg: BenchConfig) -> list[Row]:
    """N=8, C=64->64, 56x56, 3x3: Winograd F(2x2,3x3) on our side."""
    return _conv_rows("8x64->64x56x56", 8, 64, 64, 56, max(5, cfg.repeat // 2), not cfg.quick)


@case("torch.conv2d.stem", group="conv", reference="torch conv2d (oneDNN)", requires=("torch",))
def bench_conv_stem(cfg: BenchConfig) -> list[Row]:
    """N=32, C=3->32, 224x224, 3x3: im2col + GEMM (few input channels)."""
    return _conv_rows("32x3->32x224x224", 32, 3, 32, 224, max(3, cfg.repeat // 4), False)
