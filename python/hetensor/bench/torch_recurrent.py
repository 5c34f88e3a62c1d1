"""Benchmark cases: ht.nn LSTM / GRU / RNN against torch.nn on the CPU (same dtype, 2 threads).

Shapes (seq, batch, input, hidden) = (100, 32, 64, 128) and (50, 64, 256, 512), one layer,
float32 (PyTorch's default; LSTM also float64). "forward" times ``torch.no_grad()`` inference
against hetensor's forward; "forward+backward" times the forward with autograd plus
``output.backward(grad)`` (gradients for the input and all weights) against hetensor's
forward + ``backward(grad)``. Both use 2 threads (torch.set_num_threads(2); OpenBLAS's 2).
Needs torch: run ``make bench-torch`` (.venv-torch); without torch the cases are listed as
unavailable.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

# As in conv.py: PyTorch's OpenMP workers wait passively, so they do not spin on the cores of
# the hetensor call timed next (whichever module imports torch first sets it).
# torch is imported where a case runs, so the cases are listed (as unavailable) without it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .. import _core, nn
from . import BenchConfig, Row, Target, case, compare

SHAPES = [(100, 32, 64, 128), (50, 64, 256, 512)]
QUICK_SHAPES = [(20, 8, 16, 32)]


def _pair(kind: str, shape: tuple[int, int, int, int], dtype: Any) -> tuple[Any, Any, Any, Any]:
    import torch

    seq, batch, n_in, hidden = shape
    ours = getattr(nn, kind)(n_in, hidden, dtype=dtype, seed=0)
    ref = getattr(torch.nn, kind)(n_in, hidden).to(getattr(torch, np.dtype(dtype).name))
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((seq, batch, n_in)).astype(dtype)
    return ours, ref, x, torch.from_numpy(x.copy())


def _shape_rows(kind: str, shape: tuple[int, int, int, int], dtype: Any, repeat: int) -> list[Row]:
    import torch

    ours, ref, x, xt = _pair(kind, shape, dtype)
    out, _ = ours(x)
    g = np.ones_like(out)
    gt = torch.ones(out.shape, dtype=xt.dtype)

    def ours_forward() -> None:
        ours(x)

    def ref_forward() -> None:
        with torch.no_grad():
            ref(xt)

    def ours_fb() -> None:
        ours(x)
        ours.backward(g)

    def ref_fb() -> None:
        xg = xt.detach().requires_grad_()
        ref.zero_grad(set_to_none=True)
        ref(xg)[0].backward(gt)

    label = dict(
        zip(("seq", "batch", "input", "hidden"), shape, strict=True),
        dtype=np.dtype(dtype).name,
        threads=f"torch={torch.get_num_threads()},blas={_core.blas_num_threads()}",
    )
    return [
        compare(
            f"{kind} forward {shape}",
            ours_forward,
            ref_forward,
            reference=f"torch.nn.{kind} (no_grad)",
            repeat=repeat,
            target=Target(min_speedup=1.0),
            **label,
        ),
        compare(
            f"{kind} forward+backward {shape}",
            ours_fb,
            ref_fb,
            reference=f"torch.nn.{kind} autograd",
            repeat=repeat,
            target=Target(min_speedup=1.0),
            **label,
        ),
    ]


def _rows(kind: str, cfg: BenchConfig, dtypes: tuple[Any, ...]) -> list[Row]:
    import torch

    torch.set_num_threads(2)
    repeat = max(3, cfg.repeat // 2)
    return [
        row
        for shape in (QUICK_SHAPES if cfg.quick else SHAPES)
        for dtype in dtypes
        for row in _shape_rows(kind, shape, dtype, repeat)
    ]


@case("torch.lstm", group="nn", reference="torch.nn.LSTM", requires=("torch",))
def bench_lstm(cfg: BenchConfig) -> list[Row]:
    """LSTM forward and forward+backward vs torch.nn.LSTM (float32 and float64)."""
    return _rows("LSTM", cfg, (np.float32, np.float64))


@case("torch.gru", group="nn", reference="torch.nn.GRU", requires=("torch",))
def bench_gru(cfg: BenchConfig) -> list[Row]:
    """GRU forward and forward+backward vs torch.nn.GRU (float32)."""
    return _rows("GRU", cfg, (np.float32,))


@case("torch.rnn", group="nn", reference="torch.nn.RNN", requires=("torch",))
def bench_rnn(cfg: BenchConfig) -> list[Row]:
    """Elman RNN (tanh) forward and forward+backward vs torch.nn.RNN (float32)."""
    return _rows("RNN", cfg, (np.float32,))
