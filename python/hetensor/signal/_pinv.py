"""Pseudo-inverse of a multi-channel circular 2-D convolution, one small matrix per frequency.

The 2-D real FFT turns a circular cross-correlation with a (c_out, c_in, kh, kw) kernel into
one c_out x c_in matrix per frequency, so the pseudo-inverse of the whole (c_out*H*W) x
(c_in*H*W) operator is a pseudo-inverse per frequency. The FFTs run in ``scipy.fft`` (pocketfft
with ``workers`` threads, native float32 transforms) when SciPy is installed, else
``numpy.fft``; the per-frequency pseudo-inverses (LU inverses where provably full rank, LAPACK
``?gesdd`` SVDs elsewhere) and the frequency-domain products run in ``hetensor._core``,
threaded over frequencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import check_finite, check_ints, check_optional_int, check_real, real_array

__all__ = ["Conv2dPinv", "conv2d_pinv"]

try:  # scipy.fft: multithreaded (workers) and keeps float32 as complex64
    import scipy.fft as _fft

    _HAS_WORKERS = True
except ImportError:  # pragma: no cover - SciPy is optional
    _fft = np.fft  # type: ignore[misc]  # the same functions (no workers); mypy types scipy's
    _HAS_WORKERS = False


def _rfft2(a: np.ndarray, shape: tuple[int, int], workers: int | None) -> np.ndarray:
    if _HAS_WORKERS:
        return _fft.rfft2(a, s=shape, workers=workers)
    return np.fft.rfft2(a, s=shape)


def _irfft2(a: np.ndarray, shape: tuple[int, int], workers: int | None) -> np.ndarray:
    if _HAS_WORKERS:
        return _fft.irfft2(a, s=shape, workers=workers)
    return np.fft.irfft2(a, s=shape)


def _transfer_matrices(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The per-frequency transfer matrices ``A_f = conj(rfft2(K, s=shape)[:, :, f])``, shape
    (H * (W // 2 + 1), c_out, c_in), one contiguous matrix per frequency.

    A kh x kw kernel has only kh*kw non-zeros, so two small DFT-matrix products (conjugated
    DFTs give the conjugate spectrum) cost O(kh*H*W) per filter instead of a full (H, W) FFT
    per filter, and the second product writes the frequency-major layout directly."""
    h, w = shape
    c_out, c_in, kh, kw = kernel.shape
    cdt = np.complex64 if kernel.dtype == np.float32 else np.complex128

    def dft(n: int, k: int, m: int) -> np.ndarray:  # (m, k): exp(+2 pi i u r / n), angle mod n
        return np.exp(2j * np.pi * (np.outer(np.arange(m), np.arange(k)) % n) / n).astype(cdt)

    wr = w // 2 + 1
    t = kernel.astype(cdt) @ dft(w, kw, wr).T  # (c_out, c_in, kh, W//2+1)
    t = np.ascontiguousarray(t.transpose(2, 3, 0, 1)).reshape(kh, wr * c_out * c_in)
    return (dft(h, kh, h) @ t).reshape(h * wr, c_out, c_in)


class Conv2dPinv:
    """A multi-channel circular convolution and its pseudo-inverse (made by :func:`conv2d_pinv`).

    ``forward(x)`` is the circular cross-correlation (PyTorch's ``conv2d`` with wrap-around):
    ``y[j, h, w] = sum_{k, r, s} K[j, k, r, s] * x[k, (h + r) % H, (w + s) % W]``.
    ``apply(y)`` is the Moore-Penrose pseudo-inverse of that linear map, applied to ``y``: the
    minimum-norm least-squares solution ``x`` of ``forward(x) = y``.

    Attributes
    ----------
    kernel : numpy.ndarray, shape (c_out, c_in, kh, kw)
    image_shape : (int, int)
    rcond : float
        Relative cut-off used for the singular values.
    cutoff : "global" or "frequency"
    singular_values : numpy.ndarray, shape (H, W // 2 + 1, min(c_out, c_in))
        Per-frequency singular values of the transfer matrices (descending). Computed on first
        access (singular-values-only SVDs, then cached): building the operator does not need
        them for frequencies that are provably full rank.
    rank : numpy.ndarray of int64, shape (H, W // 2 + 1)
        Singular values kept per frequency.
    """

    def __init__(
        self,
        kernel: np.ndarray,
        image_shape: tuple[int, int],
        rcond: float,
        cutoff: Literal["global", "frequency"],
        workers: int | None,
    ) -> None:
        self.kernel = kernel
        self.image_shape = image_shape
        self.rcond = rcond
        self.cutoff = cutoff
        self.workers = workers
        self._threads = workers if workers is not None and workers > 0 else 0
        self._fft_workers = workers if workers is not None else _core.default_num_threads()
        H, W = image_shape
        self._wr = W // 2 + 1
        self._nf = H * self._wr
        self._a = _transfer_matrices(kernel, image_shape)  # (F, c_out, c_in)
        self._p, rank, self._stats = _core.conv.transfer_pinv(
            self._a, rcond, cutoff, threads=self._threads
        )
        self.rank = rank.reshape(H, self._wr)
        self._singular_values: np.ndarray | None = None

    @property
    def singular_values(self) -> np.ndarray:
        """Per-frequency singular values (H, W // 2 + 1, min(c_out, c_in)), descending;
        computed on first access."""
        if self._singular_values is None:
            s = _core.conv.transfer_singular_values(self._a, threads=self._threads)
            self._singular_values = s.reshape(self.image_shape[0], self._wr, s.shape[1])
        return self._singular_values

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the operator as a matrix: ``(c_out*H*W, c_in*H*W)``."""
        c_out, c_in = self.kernel.shape[:2]
        H, W = self.image_shape
        return (c_out * H * W, c_in * H * W)

    def _spectra(self, a: ArrayLike, channels: int, name: str) -> tuple[np.ndarray, tuple]:
        arr = real_array(name, a, finite=False)
        H, W = self.image_shape
        if arr.ndim < 3 or arr.shape[-3:] != (channels, H, W):
            raise ValueError(f"{name} must have shape (..., {channels}, {H}, {W}), got {arr.shape}")
        arr = arr.astype(self.kernel.dtype, copy=False)
        check_finite(name, arr)
        lead = arr.shape[:-3]
        flat = arr.reshape(-1, channels, H, W)
        spec = _rfft2(flat, self.image_shape, self._fft_workers)
        return np.ascontiguousarray(spec.reshape(flat.shape[0], channels, self._nf)), lead

    def _image(self, spec: np.ndarray, lead: tuple, channels: int) -> np.ndarray:
        H, W = self.image_shape
        out = _irfft2(spec.reshape(-1, channels, H, self._wr), self.image_shape, self._fft_workers)
        return out.astype(self.kernel.dtype, copy=False).reshape(*lead, channels, H, W)

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Circular cross-correlation of ``x`` (..., c_in, H, W) -> (..., c_out, H, W).

        On the interior it equals ``conv2d(x, kernel)`` (no padding):
        ``forward(x)[..., :H-kh+1, :W-kw+1] == hetensor.nn.functional.conv2d(x, kernel)``;
        the last ``kh-1`` rows and ``kw-1`` columns wrap around.
        """
        c_out, c_in = self.kernel.shape[:2]
        spec, lead = self._spectra(x, c_in, "x")
        y = _core.conv.apply_per_frequency(self._a, spec, threads=self._threads)
        return self._image(y, lead, c_out)

    def apply(self, y: ArrayLike) -> np.ndarray:
        """Pseudo-inverse applied to ``y`` (..., c_out, H, W) -> (..., c_in, H, W).

        Exact for circular convolution: ``forward(apply(y)) == y`` for ``y`` in the range of
        ``forward`` (to rounding), and ``apply(forward(x)) == x`` when every frequency has full
        column rank. For a cropped (``padding=0``) or zero-padded convolution it is an
        approximation: the border rows/columns do not follow the circular model (see
        :func:`conv2d_pinv`).
        """
        c_out, c_in = self.kernel.shape[:2]
        spec, lead = self._spectra(y, c_out, "y")
        x = _core.conv.apply_per_frequency(self._p, spec, threads=self._threads)
        return self._image(x, lead, c_in)

    __call__ = apply

    def pinv_matrices(self) -> np.ndarray:
        """The per-frequency pseudo-inverses, shape (H, W // 2 + 1, c_in, c_out), complex."""
        c_out, c_in = self.kernel.shape[:2]
        return self._p.reshape(self.image_shape[0], self._wr, c_in, c_out).copy()

    def transfer_matrices(self) -> np.ndarray:
        """The per-frequency transfer matrices ``A_f``, shape (H, W // 2 + 1, c_out, c_in)."""
        c_out, c_in = self.kernel.shape[:2]
        return self._a.reshape(self.image_shape[0], self._wr, c_out, c_in).copy()

    def __repr__(self) -> str:
        c_out, c_in, kh, kw = self.kernel.shape
        return (
            f"Conv2dPinv(kernel=({c_out}, {c_in}, {kh}, {kw}), image_shape={self.image_shape}, "
            f"rcond={self.rcond:.3g}, cutoff={self.cutoff!r}, min_rank={int(self.rank.min())})"
        )


def conv2d_pinv(
    kernel: ArrayLike,
    image_shape: Sequence[int],
    rcond: float | None = None,
    *,
    cutoff: Literal["global", "frequency"] = "global",
    workers: int | None = None,
) -> Conv2dPinv:
    """Pseudo-inverse of the multi-channel circular convolution with ``kernel`` on images of
    ``image_shape``, by per-frequency SVDs (zero-pad K to (H, W), rfft2, one thin SVD of each
    ``c_out x c_in`` transfer matrix, apply with irfft2).

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
        Real filters in PyTorch's ``conv2d`` layout (cross-correlation). float32 kernels
        work in float32/complex64, everything else in float64/complex128.
    image_shape : (int, int)
        ``(H, W)``, at least the kernel size.
    rcond : float, optional
        Singular values ``<= rcond * s_max`` count as zero (default ``max(c_out, c_in) * eps``).
    cutoff : "global" or "frequency"
        ``s_max`` is the largest singular value of the whole operator (``"global"``, the
        Moore-Penrose pseudo-inverse of the operator with ``rcond``, like
        ``numpy.linalg.pinv`` of its dense matrix) or of each frequency's matrix
        (``"frequency"``, like ``torch.linalg.pinv`` on the batch of transfer matrices).
    workers : int, optional
        Threads for the FFTs and the per-frequency work (default:
        ``ht._core.default_num_threads()``: ``HETENSOR_NUM_THREADS``, else ``OMP_NUM_THREADS``,
        else all cores).

    Returns
    -------
    Conv2dPinv
        Operator with ``apply(y)`` (pseudo-inverse) and ``forward(x)`` (circular convolution).

    Notes
    -----
    The result is exact for *circular* convolution. ``torch.nn.functional.conv2d`` with
    ``padding=0`` crops the wrap-around rows and columns instead (and zero padding replaces
    them by zeros), so its output is not in the circular model: zero-padding such a ``y`` back
    to ``(H, W)`` and applying the pseudo-inverse gives an approximation whose error is
    concentrated near the borders and does not vanish with more precision. Use circular
    padding (or tapered borders) where exactness matters.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> rng = np.random.default_rng(0)
    >>> op = ht.signal.conv2d_pinv(rng.standard_normal((2, 5, 3, 3)), (8, 8))  # wide: pinv
    >>> y = rng.standard_normal((2, 8, 8))
    >>> float(np.abs(op.forward(op.apply(y)) - y).max()) < 1e-10
    True
    """
    k = real_array("kernel", kernel, finite=False)
    if k.ndim != 4:
        raise ValueError(f"kernel must be 4-D (c_out, c_in, kh, kw), got shape {k.shape}")
    if min(k.shape) < 1:
        raise ValueError(f"kernel must not be empty, got shape {k.shape}")
    dt = np.float32 if k.dtype == np.float32 else np.float64
    k = np.ascontiguousarray(k, dtype=dt)
    check_finite("kernel", k)
    shape = check_ints("image_shape", image_shape)
    if len(shape) != 2:
        raise ValueError(f"image_shape must be (H, W), got {image_shape!r}")
    H, W = shape
    if H < k.shape[2] or W < k.shape[3]:
        raise ValueError(f"image_shape {shape} is smaller than the kernel {k.shape[2:]}")
    if cutoff not in ("global", "frequency"):
        raise ValueError(f"cutoff must be 'global' or 'frequency', got {cutoff!r}")
    if rcond is None:
        rcond = max(k.shape[0], k.shape[1]) * float(np.finfo(dt).eps)
    rcond = check_real("rcond", rcond, 0.0)
    workers = check_optional_int("workers", workers, 1)
    return Conv2dPinv(k, (H, W), rcond, cutoff, workers)
