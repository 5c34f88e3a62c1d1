"""The CUDA kernels' per-tile code (conv2d_tile.hpp), run on the CPU through algorithm="tiled",
on shapes spanning several 8x16 tiles, partial tiles, and channel blocks; and the CUDA kernels
themselves where a device exists (marked gpu)."""

from __future__ import annotations

import numpy as np
import pytest
from conv_reference import reference_conv2d

import hetensor as ht

F = ht.nn.functional

SHAPES = [
    # (N, C, H, W, K, kh, kw, stride, padding, dilation, groups)
    (2, 3, 20, 37, 10, 3, 3, 1, 1, 1, 1),  # 3 x 3 tiles with partial edges, 2 channel blocks
    (1, 4, 17, 33, 8, 5, 4, (2, 3), (2, 1), (1, 2), 2),
    (1, 6, 9, 40, 9, 3, 3, 2, 0, 3, 3),
    (3, 2, 8, 16, 3, 1, 1, 1, 0, 1, 1),  # exactly one tile
    (1, 1, 30, 7, 2, 7, 3, (3, 1), (3, 1), 1, 1),
]


def _expected(x, w, b, stride, padding, dilation, groups):
    st = (stride, stride) if isinstance(stride, int) else stride
    dil = (dilation, dilation) if isinstance(dilation, int) else dilation
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return reference_conv2d(x, w, b, st, (ph, ph, pw, pw), dil, groups)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tiled_forward_backward_on_cpu(shape, dtype):
    n, c, h, w_, k, kh, kw, stride, padding, dilation, groups = shape
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, c, h, w_)).astype(dtype)
    w = rng.standard_normal((k, c // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = F.conv2d(x, w, b, algorithm="tiled", **args)
    want = _expected(x, w, b, stride, padding, dilation, groups)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(y, want, atol=tol * max(1, np.abs(want).max()))
    gy = rng.standard_normal(y.shape).astype(dtype)
    tiled = F.conv2d_backward(x, w, gy, algorithm="tiled", **args)
    fast = F.conv2d_backward(x, w, gy, **args)
    for got, ref in zip(tiled, fast, strict=True):
        np.testing.assert_allclose(got, ref, atol=tol * max(1, np.abs(ref).max()))


@pytest.mark.gpu
@pytest.mark.parametrize("shape", SHAPES)
def test_cuda_matches_cpu(shape):
    if not ht.cuda.is_available():
        pytest.skip("no CUDA device")
    n, c, h, w_, k, kh, kw, stride, padding, dilation, groups = shape
    rng = np.random.default_rng(12)
    x = rng.standard_normal((n, c, h, w_))
    w = rng.standard_normal((k, c // groups, kh, kw))
    b = rng.standard_normal(k)
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    np.testing.assert_allclose(
        F.conv2d(x, w, b, device="cuda", **args), F.conv2d(x, w, b, **args), atol=1e-11
    )
    gy = rng.standard_normal(F.conv2d(x, w, b, **args).shape)
    for got, ref in zip(
        F.conv2d_backward(x, w, gy, device="cuda", **args),
        F.conv2d_backward(x, w, gy, **args),
        strict=True,
    ):
        np.testing.assert_allclose(got, ref, atol=1e-10)
    y32 = F.conv2d(
        x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), device="cuda", **args
    )
    np.testing.assert_allclose(y32, F.conv2d(x, w, b, **args), atol=1e-3)
