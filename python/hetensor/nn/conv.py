"""``Conv2d``: a 2-D convolution layer holding its weight and bias, with forward and backward."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .._validate import check_float_dtype, check_int, check_mapping, real_array
from . import functional as F
from ._args import generator, padding_amounts, pair

__all__ = ["Conv2d"]


class Conv2d:
    """2-D convolution layer over NCHW input, as ``torch.nn.Conv2d`` (zero padding).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    kernel_size : int or (int, int)
        Filter height and width.
    stride, padding, dilation, groups
        As in :func:`hetensor.nn.functional.conv2d` (``padding`` may be ``"same"``/``"valid"``).
    bias : bool
        Whether the layer adds a learnable bias.
    dtype : float32 or float64
        Parameter dtype (default float32).
    rng : numpy.random.Generator or int, optional
        Randomness for the initialization (PyTorch's: weight and bias uniform in
        ``+-1/sqrt(fan_in)``, ``fan_in = in_channels / groups * kH * kW``, i.e.
        ``kaiming_uniform_(a=sqrt(5))``).
    device : "cpu" or "cuda"
        Where :meth:`forward` and :meth:`backward` run.

    Attributes
    ----------
    weight : numpy.ndarray, shape (out_channels, in_channels / groups, kH, kW)
    bias : numpy.ndarray, shape (out_channels,), or None
    grad_weight, grad_bias : numpy.ndarray or None
        Gradients from the last :meth:`backward` (overwritten by each call).

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> conv = ht.nn.Conv2d(2, 4, kernel_size=3, padding="same", rng=0)
    >>> x = np.random.default_rng(1).standard_normal((5, 2, 8, 8)).astype(np.float32)
    >>> y = conv(x)
    >>> gx = conv.backward(np.ones_like(y))
    >>> y.shape, gx.shape, conv.grad_weight.shape
    ((5, 4, 8, 8), (5, 2, 8, 8), (4, 2, 3, 3))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: F.IntPair = 1,
        padding: F.Padding = 0,
        dilation: F.IntPair = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        dtype: DTypeLike = np.float32,
        rng: np.random.Generator | int | None = None,
        device: F.Device = "cpu",
    ) -> None:
        in_channels = check_int("in_channels", in_channels, 1)
        out_channels = check_int("out_channels", out_channels, 1)
        groups = check_int("groups", groups, 1)
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        dt = check_float_dtype("dtype", dtype)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", 1)
        self.stride = pair(stride, "stride", 1)
        self.dilation = pair(dilation, "dilation", 1)
        padding_amounts(padding, self.kernel_size, self.stride, self.dilation)  # validate now
        self.padding = padding
        self.groups = groups
        self.device = device
        gen = generator(rng)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight: np.ndarray = gen.uniform(-bound, bound, shape).astype(dt)
        self.bias: np.ndarray | None = (
            gen.uniform(-bound, bound, self.out_channels).astype(dt) if bias else None
        )
        self.grad_weight: np.ndarray | None = None
        self.grad_bias: np.ndarray | None = None
        self._input: np.ndarray | None = None

    def _options(self) -> dict[str, Any]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
        }

    def forward(self, x: ArrayLike) -> np.ndarray:
        """The convolution of ``x`` (N, C_in, H, W) or (C_in, H, W); remembers ``x`` for
        :meth:`backward`."""
        xa = np.asarray(x)
        y = F.conv2d(xa, self.weight, self.bias, device=self.device, **self._options())
        self._input = xa
        return y

    __call__ = forward

    def backward(self, grad_output: ArrayLike) -> np.ndarray:
        """Gradient with respect to the last :meth:`forward` input; sets :attr:`grad_weight`
        and :attr:`grad_bias`."""
        if self._input is None:
            raise RuntimeError("backward() called before forward()")
        needs: tuple[Literal["input", "weight", "bias"], ...] = (
            ("input", "weight", "bias") if self.bias is not None else ("input", "weight")
        )
        g = F.conv2d_backward(
            self._input,
            self.weight,
            grad_output,
            needs=needs,
            device=self.device,
            **self._options(),
        )
        self.grad_weight = g.weight
        self.grad_bias = g.bias
        assert g.input is not None
        return g.input

    def zero_grad(self) -> None:
        """Forget the stored gradients."""
        self.grad_weight = None
        self.grad_bias = None

    def parameters(self) -> list[np.ndarray]:
        """``[weight]`` or ``[weight, bias]``."""
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keyed ``"weight"`` and ``"bias"`` as in PyTorch."""
        out = {"weight": self.weight.copy()}
        if self.bias is not None:
            out["bias"] = self.bias.copy()
        return out

    def load_state_dict(self, state: dict[str, ArrayLike]) -> None:
        """Load parameters (e.g. from :meth:`state_dict` or a PyTorch ``Conv2d``, converted
        with ``.numpy()``); shapes must match and extra or missing keys raise ``KeyError``,
        a non-mapping ``TypeError``, NaN or infinity ``NonFiniteError``."""
        check_mapping("state", state)
        expected = {"weight"} | ({"bias"} if self.bias is not None else set())
        if set(state) != expected:
            raise KeyError(f"state_dict keys {sorted(state)} do not match {sorted(expected)}")
        w = real_array("weight", state["weight"])
        if w.shape != self.weight.shape:
            raise ValueError(f"weight has shape {w.shape}, expected {self.weight.shape}")
        new_bias = None
        if self.bias is not None:
            new_bias = real_array("bias", state["bias"])
            if new_bias.shape != self.bias.shape:
                raise ValueError(f"bias has shape {new_bias.shape}, expected {self.bias.shape}")
            new_bias = new_bias.astype(self.bias.dtype)
        self.weight = w.astype(self.weight.dtype)
        self.bias = new_bias

    def __repr__(self) -> str:
        s = (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in (0, (0, 0)):
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s + ")"
