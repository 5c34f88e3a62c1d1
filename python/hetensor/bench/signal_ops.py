"""Benchmark cases: ``hetensor.signal.conv2d_pinv`` (build the operator, apply it to a batch of
8) against the same method written with NumPy (``numpy.fft.rfft2``, batched
``numpy.linalg.pinv`` over the frequencies, ``matmul``, ``numpy.fft.irfft2``), float64."""

from __future__ import annotations

import numpy as np

from ..signal import conv2d_pinv
from . import BLAS_SETTLE_S, BenchConfig, Row, Target, case, compare


def numpy_conv2d_pinv_apply(kernel: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reference: per-frequency pinv of conj(K_hat) applied to y (batch, c_out, H, W)."""
    c_out, c_in = kernel.shape[:2]
    b = y.shape[0]
    h, w = y.shape[-2:]
    wr = w // 2 + 1
    khat = np.fft.rfft2(kernel, s=(h, w))
    a = np.conj(np.moveaxis(khat.reshape(c_out, c_in, -1), 2, 0))  # (F, c_out, c_in)
    p = np.linalg.pinv(a, rcond=max(c_out, c_in) * np.finfo(np.float64).eps)  # (F, c_in, c_out)
    yf = np.fft.rfft2(y).reshape(b, c_out, -1).transpose(2, 1, 0)  # (F, c_out, B)
    xf = (p @ yf).transpose(2, 1, 0).reshape(b, c_in, h, wr)
    return np.fft.irfft2(xf, s=(h, w))


def _rows(c: int, hw: int, repeat: int) -> list[Row]:
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((c, c, 3, 3))
    y = rng.standard_normal((8, c, hw, hw))

    def ours() -> np.ndarray:
        return conv2d_pinv(kernel, (hw, hw), cutoff="frequency").apply(y)

    def ref() -> np.ndarray:
        return numpy_conv2d_pinv_apply(kernel, y)

    err = float(np.abs(ours() - ref()).max() / np.abs(ref()).max())
    return [
        compare(
            f"conv2d_pinv build+apply C={c} {hw}x{hw} batch 8",
            ours,
            ref,
            reference="NumPy rfft2 + linalg.pinv + matmul + irfft2",
            repeat=repeat,
            target=Target(min_speedup=2.0),
            note=f"float64, rel max|diff|={err:.1e}",
            settle=BLAS_SETTLE_S,
        )
    ]


@case("signal.conv2d_pinv", group="signal", reference="NumPy FFT + batched pinv")
def bench_pinv(cfg: BenchConfig) -> list[Row]:
    """C=16 at 128x128 and C=64 at 64x64, batch 8."""
    repeat = max(3, cfg.repeat // 5)
    return _rows(16, 128, repeat) + _rows(64, 64, repeat)
