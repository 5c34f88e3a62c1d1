"""Benchmark case: ht.nn.LSTM against a NumPy LSTM loop (forward, and forward + BPTT).

The NumPy loop is what one writes without a native kernel: the input projection of all steps
as one matmul, then per step a matmul and the gate math in NumPy (same algorithm, float32,
same shapes as the PyTorch cases).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from . import BLAS_SETTLE_S, BenchConfig, Row, Target, case, compare

SHAPES = [(100, 32, 64, 128), (50, 64, 256, 512)]

# per step: gates i, f, g, o, the previous cell state, tanh(c), the previous hidden state
_Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def numpy_lstm_forward(
    x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, list[_Cache]]:
    """Returns output (T, B, H) and the per-step caches for backward."""
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    gx = (x.reshape(steps * batch, -1) @ w_ih.T + b).reshape(steps, batch, 4 * hidden)
    h = np.zeros((batch, hidden), x.dtype)
    c = np.zeros((batch, hidden), x.dtype)
    out = np.empty((steps, batch, hidden), x.dtype)
    caches: list[_Cache] = []
    for t in range(steps):
        a = gx[t] + h @ w_hh.T
        i, f = _sigmoid(a[:, :hidden]), _sigmoid(a[:, hidden : 2 * hidden])
        g, o = np.tanh(a[:, 2 * hidden : 3 * hidden]), _sigmoid(a[:, 3 * hidden :])
        c_prev, h_prev = c, h
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        out[t] = h
        caches.append((i, f, g, o, c_prev, tc, h_prev))
    return out, caches


def numpy_lstm_backward(
    x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, d_out: np.ndarray, caches: list[_Cache]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    dg = np.empty((steps, batch, 4 * hidden), x.dtype)
    dh = np.zeros((batch, hidden), x.dtype)
    dc = np.zeros((batch, hidden), x.dtype)
    dw_hh = np.zeros_like(w_hh)
    for t in range(steps - 1, -1, -1):
        i, f, g, o, c_prev, tc, h_prev = caches[t]
        dht = dh + d_out[t]
        do = dht * tc
        dct = dc + dht * o * (1 - tc * tc)
        d = dg[t]
        d[:, :hidden] = dct * g * i * (1 - i)
        d[:, hidden : 2 * hidden] = dct * c_prev * f * (1 - f)
        d[:, 2 * hidden : 3 * hidden] = dct * i * (1 - g * g)
        d[:, 3 * hidden :] = do * o * (1 - o)
        dc = dct * f
        dh = d @ w_hh
        dw_hh += d.T @ h_prev
    flat = dg.reshape(steps * batch, -1)
    dx = (flat @ w_ih).reshape(x.shape)
    dw_ih = flat.T @ x.reshape(steps * batch, -1)
    return dx, dw_ih, dw_hh, flat.sum(axis=0)


def _shape_rows(shape: tuple[int, int, int, int], repeat: int) -> list[Row]:
    seq, batch, n_in, hidden = shape
    lstm = nn.LSTM(n_in, hidden, dtype=np.float32, seed=0)
    p = lstm.state_dict()
    w_ih, w_hh, b = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"] + p["bias_hh_l0"]
    x = np.random.default_rng(0).standard_normal((seq, batch, n_in)).astype(np.float32)
    g = np.ones((seq, batch, hidden), np.float32)

    def ours_forward() -> None:
        lstm(x)

    def ref_forward() -> None:
        numpy_lstm_forward(x, w_ih, w_hh, b)

    def ours_fb() -> None:
        lstm(x)
        lstm.backward(g)

    def ref_fb() -> None:
        _, caches = numpy_lstm_forward(x, w_ih, w_hh, b)
        numpy_lstm_backward(x, w_ih, w_hh, g, caches)

    label: dict[str, Any] = dict(
        zip(("seq", "batch", "input", "hidden"), shape, strict=True), dtype="float32"
    )
    return [
        compare(
            f"LSTM forward {shape}",
            ours_forward,
            ref_forward,
            reference="NumPy loop",
            repeat=repeat,
            target=Target(min_speedup=1.0),
            settle=BLAS_SETTLE_S,
            **label,
        ),
        compare(
            f"LSTM forward+backward {shape}",
            ours_fb,
            ref_fb,
            reference="NumPy loop",
            repeat=repeat,
            target=Target(min_speedup=1.0),
            settle=BLAS_SETTLE_S,
            **label,
        ),
    ]


@case("nn.lstm_numpy", group="nn", reference="NumPy LSTM loop")
def bench_lstm_numpy(cfg: BenchConfig) -> list[Row]:
    """ht.nn.LSTM vs a NumPy loop, forward and forward+backward, float32."""
    repeat = max(3, cfg.repeat // 2)
    shapes = [(20, 8, 16, 32)] if cfg.quick else SHAPES
    return [row for shape in shapes for row in _shape_rows(shape, repeat)]
