"""Functional neural-network kernels on NumPy arrays: ``conv2d`` (+ its backward) and ``dropout``.

Layouts and semantics follow PyTorch (``torch.nn.functional.conv2d``) for convolution and
TensorFlow (``tf.nn.dropout``'s ``noise_shape``) for dropout. The arithmetic runs in
``hetensor._core`` (C++; CUDA with ``device="cuda"`` on a CUDA build with a device).

Examples
--------
>>> import numpy as np
>>> import hetensor as ht
>>> F = ht.nn.functional
>>> x = np.ones((1, 2, 4, 4), dtype=np.float32)
>>> w = np.ones((3, 2, 3, 3), dtype=np.float32)
>>> y = F.conv2d(x, w, padding="same")
>>> y.shape, float(y[0, 0, 1, 1]), float(y[0, 0, 0, 0])
((1, 3, 4, 4), 18.0, 8.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .. import cuda as _cuda
from .._validate import check_finite as require_finite
from .._validate import check_int, check_optional_int, check_real, real_array
from ._args import IntPair, Padding, generator, padding_amounts, pair

__all__ = ["Conv2dGrads", "conv2d", "conv2d_backward", "dropout"]

Device = Literal["cpu", "cuda"]
Algorithm = Literal["auto", "gemm", "winograd", "tiled"]


class Conv2dGrads(NamedTuple):
    """Gradients returned by :func:`conv2d_backward` (``None`` where not requested)."""

    input: np.ndarray | None
    weight: np.ndarray | None
    bias: np.ndarray | None


def _float_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 when every input is float32 (or smaller float), else float64 (NumPy promotion)."""
    dt = np.result_type(*arrays)
    if dt.kind == "f" and dt.itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _threads(num_threads: int | None) -> int:
    """The kernels' thread count: ``num_threads`` (>= 1), or 0 for the default."""
    return check_optional_int("num_threads", num_threads, 1) or 0


def _device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda":
        _cuda.require()
    return device


def _prepare(
    x: ArrayLike,
    weight: ArrayLike,
    extra: Sequence[tuple[ArrayLike | None, str]],
    stride: IntPair,
    padding: Padding,
    dilation: IntPair,
    groups: int,
    check_finite: bool,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None], bool, tuple]:
    xa = real_array("input", x, finite=False)
    wa = real_array("weight", weight, finite=False)
    others = [None if a is None else real_array(name, a, finite=False) for a, name in extra]
    if wa.ndim != 4:
        raise ValueError(f"weight must be 4-D (C_out, C_in/groups, kH, kW), got shape {wa.shape}")
    if xa.ndim not in (3, 4):
        raise ValueError(f"input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {xa.shape}")
    unbatched = xa.ndim == 3
    if unbatched:
        xa = xa[None]
    groups = check_int("groups", groups, 1)
    dt = _float_dtype(xa, wa, *[a for a in others if a is not None])
    xa = np.ascontiguousarray(xa, dtype=dt)
    wa = np.ascontiguousarray(wa, dtype=dt)
    others = [None if a is None else np.ascontiguousarray(a, dtype=dt) for a in others]
    if check_finite:
        require_finite("input", xa)
        require_finite("weight", wa)
        for a, (_, name) in zip(others, extra, strict=True):
            if a is not None:
                require_finite(name, a)
    st = pair(stride, "stride", 1)
    dil = pair(dilation, "dilation", 1)
    pad = padding_amounts(padding, (wa.shape[2], wa.shape[3]), st, dil)
    return xa, wa, others, unbatched, (st, pad, dil, groups)


def conv2d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    *,
    device: Device = "cpu",
    algorithm: Algorithm = "auto",
    check_finite: bool = True,
    num_threads: int | None = None,
) -> np.ndarray:
    """2-D convolution (cross-correlation) of NCHW input, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W) or (C_in, H, W)
        Input batch (an unbatched 3-D input gives a 3-D result).
    weight : array_like, shape (C_out, C_in / groups, kH, kW)
        Filters.
    bias : array_like, shape (C_out,), optional
        Added to every output pixel of its channel.
    stride, dilation : int or (int, int)
        Step between output pixels and between kernel taps (>= 1).
    padding : int, (int, int), "same" or "valid"
        Zeros added on both sides of each spatial axis. ``"same"`` (stride 1 only) keeps the
        input size, putting the extra row/column at the bottom/right when the total is odd,
        exactly as PyTorch.
    groups : int
        Input and output channels are split into ``groups`` independent convolutions.
    device : "cpu" or "cuda"
        ``"cuda"`` runs the tiled shared-memory CUDA kernel; it raises ``RuntimeError`` when this
        build has no CUDA kernels or no device is visible.
    algorithm : "auto", "gemm", "winograd" or "tiled"
        CPU algorithm: ``"auto"`` picks Winograd F(2x2,3x3) for 3x3 stride-1 undilated kernels
        with at least 8 channels per group, else cache-blocked im2col + OpenBLAS GEMM.
        ``"tiled"`` runs the CUDA kernels' per-tile code on the CPU (slow; for testing).
    check_finite : bool
        Raise :class:`~hetensor.errors.NonFiniteError` on NaN/inf input (one extra pass); with
        ``False`` non-finite values propagate as in NumPy/PyTorch.
    num_threads : int, optional
        Threads for the CPU kernels, at least 1 (default:
        ``ht._core.default_num_threads()``).

    Returns
    -------
    numpy.ndarray, shape (N, C_out, H_out, W_out)
        ``H_out = (H + pad_top + pad_bottom - dilation*(kH-1) - 1) // stride + 1`` (same for W).
        float32 when every input is float32, else float64.

    Raises
    ------
    ValueError
        Inconsistent shapes, bad stride/padding/dilation/groups, kernel larger than the padded
        input.
    TypeError
        A non-int ``groups``, ``stride``, ``dilation``, ``padding`` or ``num_threads``.
    hetensor.errors.InvalidDtypeError
        Complex, boolean, string or object input (integers are cast to float64).
    hetensor.errors.NonFiniteError
        NaN or infinity with ``check_finite=True``.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.array([[[[1.0, -1.0]]]])       # horizontal difference
    >>> ht.nn.functional.conv2d(x, w, stride=(2, 1))[0, 0]
    array([[-1., -1., -1.],
           [-1., -1., -1.]])
    """
    xa, wa, (ba,), unbatched, (st, pad, dil, g) = _prepare(
        x, weight, [(bias, "bias")], stride, padding, dilation, groups, check_finite
    )
    if algorithm not in ("auto", "gemm", "winograd", "tiled"):
        raise ValueError(
            f"algorithm must be 'auto', 'gemm', 'winograd' or 'tiled', got {algorithm!r}"
        )
    dev = _device(device)
    threads = _threads(num_threads)
    y = _core.conv.conv2d_forward(
        xa, wa, ba, st, pad, dil, g, algorithm=algorithm, device=dev, threads=threads
    )
    return y[0] if unbatched else y


def conv2d_backward(
    x: ArrayLike,
    weight: ArrayLike,
    grad_output: ArrayLike,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    *,
    needs: Sequence[Literal["input", "weight", "bias"]] = ("input", "weight", "bias"),
    device: Device = "cpu",
    algorithm: Literal["auto", "tiled"] = "auto",
    check_finite: bool = True,
    num_threads: int | None = None,
) -> Conv2dGrads:
    """Gradients of a :func:`conv2d` with respect to its input, weight and bias.

    For ``y = conv2d(x, weight, bias, stride, padding, dilation, groups)`` and an upstream
    gradient ``grad_output = dL/dy`` this returns ``dL/dx``, ``dL/dweight`` and
    ``dL/dbias = grad_output.sum((0, 2, 3))`` (the bias value itself does not matter).

    Parameters
    ----------
    x, weight : array_like
        The forward call's input and weight.
    grad_output : array_like, shape of the forward output
        Upstream gradient.
    stride, padding, dilation, groups
        As in :func:`conv2d`.
    needs : sequence of "input", "weight", "bias"
        Gradients to compute; the others come back as ``None``.
    device, check_finite, num_threads
        As in :func:`conv2d`.
    algorithm : "auto" or "tiled"
        ``"auto"``: cache-blocked im2col + GEMM (threaded over images and pixel blocks);
        ``"tiled"``: the CUDA kernels' per-tile code on the CPU (for tests).

    Returns
    -------
    Conv2dGrads
        Named tuple ``(input, weight, bias)``.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> x = np.ones((1, 1, 3, 3)); w = np.ones((1, 1, 2, 2))
    >>> g = ht.nn.functional.conv2d_backward(x, w, np.ones((1, 1, 2, 2)))
    >>> g.weight[0, 0], g.bias
    (array([[4., 4.],
           [4., 4.]]), array([4.]))
    """
    if algorithm not in ("auto", "tiled"):
        raise ValueError(f"algorithm must be 'auto' or 'tiled', got {algorithm!r}")
    if grad_output is None:
        raise TypeError("grad_output must be an array (the gradient of the loss), got None")
    unknown = set(needs) - {"input", "weight", "bias"}
    if unknown:
        raise ValueError(f"needs may name 'input', 'weight' and 'bias', got {sorted(unknown)}")
    xa, wa, (gya,), unbatched, (st, pad, dil, g) = _prepare(
        x, weight, [(grad_output, "grad_output")], stride, padding, dilation, groups, check_finite
    )
    if gya is None:  # pragma: no cover - refused above
        raise TypeError("grad_output must be an array, got None")
    if unbatched:
        gya = gya[None]
    dev = _device(device)
    threads = _threads(num_threads)
    gx, gw, gb = _core.conv.conv2d_backward(
        xa,
        wa,
        gya,
        st,
        pad,
        dil,
        g,
        need_input="input" in needs,
        need_weight="weight" in needs,
        need_bias="bias" in needs,
        algorithm="tiled" if algorithm == "tiled" else "auto",
        device=dev,
        threads=threads,
    )
    if unbatched and gx is not None:
        gx = gx[0]
    return Conv2dGrads(gx, gw, gb)


def dropout(
    x: ArrayLike,
    p: float,
    noise_shape: Sequence[int | None] | None = None,
    rng: np.random.Generator | int | None = None,
    training: bool = True,
    *,
    return_mask: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Inverted dropout with TensorFlow's ``noise_shape`` semantics, for any layout.

    Each element is zeroed with probability ``p`` and the survivors are scaled by
    ``1 / (1 - p)``, so the expectation is unchanged. ``noise_shape`` is the shape of the random
    keep/drop decisions, broadcast against ``x``: a dimension of size 1 shares one decision
    along that axis. For an NCHW tensor ``noise_shape=(N, C, 1, 1)`` drops whole feature maps
    (channel dropout); for NHWC it is ``(N, 1, 1, C)``. ``None`` entries take ``x``'s size.

    Parameters
    ----------
    x : array_like of real numbers
        Input (any shape); integers are cast to float64, as NumPy's ``x * 0.5`` would.
    p : float
        Drop probability in ``[0, 1]``; ``p = 1`` returns zeros.
    noise_shape : sequence of int or None, optional
        Shape of the decisions, of ``x.ndim`` entries, each equal to ``x``'s size or 1
        (default: ``x.shape``, independent elements).
    rng : numpy.random.Generator or int, optional
        Source of randomness; pass a Generator (or a seed) for reproducible masks. ``None``
        draws fresh OS entropy.
    training : bool
        ``False`` returns ``x`` unchanged (inference).
    return_mask : bool
        Also return the scaled mask ``m`` (shape ``noise_shape``; values 0 or ``1/(1-p)``), so
        that ``y = x * m`` and the backward pass is ``grad_x = grad_y * m``.

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        ``x * mask`` in ``x``'s floating dtype (and the mask).

    Raises
    ------
    hetensor.errors.InvalidDtypeError
        Boolean, complex, string or object input.
    hetensor.errors.NonFiniteError
        NaN or infinity in ``x``.
    TypeError, ValueError
        ``p`` not a number in ``[0, 1]``; a bad ``noise_shape``.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> x = np.ones((2, 3, 2, 2), dtype=np.float32)
    >>> y = ht.nn.functional.dropout(x, 0.5, noise_shape=(2, 3, 1, 1), rng=0)
    >>> sorted(set(y.ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    >>> bool(np.all(y.std(axis=(2, 3)) == 0))   # each feature map kept or dropped whole
    True
    """
    xa = real_array("x", x)
    if xa.dtype.kind != "f":
        xa = xa.astype(np.float64)  # integers compute in float64, as NumPy's x * 0.5 does
    p = check_real("dropout probability p", p, 0.0, 1.0)
    if noise_shape is None:
        shape = xa.shape
    else:
        given = tuple(noise_shape)
        if len(given) != xa.ndim:
            raise ValueError(
                f"noise_shape {given} must have one entry per dimension of x (shape {xa.shape})"
            )
        dims = []
        for i, (d, n) in enumerate(zip(given, xa.shape, strict=True)):
            if d is None:
                d = n
            if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
                raise TypeError(f"noise_shape entries must be ints or None, got {d!r}")
            if d not in (1, n):
                raise ValueError(
                    f"noise_shape {given} is not broadcastable to x's shape {xa.shape}: "
                    f"dimension {i} must be 1 or {n}, got {d}"
                )
            dims.append(int(d))
        shape = tuple(dims)
    gen = generator(rng)
    if not training or p == 0.0:
        mask = np.ones(shape, dtype=xa.dtype)
        return (xa, mask) if return_mask else xa
    if p == 1.0:
        mask = np.zeros(shape, dtype=xa.dtype)
    else:
        keep = gen.random(shape) >= p
        mask = keep.astype(xa.dtype) * xa.dtype.type(1.0 / (1.0 - p))
    y = xa * mask
    return (y, mask) if return_mask else y
