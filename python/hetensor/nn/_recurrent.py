"""Recurrent layers with PyTorch's shapes, gate order and parameter names, on NumPy arrays."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import _core
from .._validate import (
    check_finite,
    check_float_dtype,
    check_int,
    check_mapping,
    check_optional_int,
    real_array,
)

__all__ = ["GRU", "LSTM", "RNN", "RecurrentGrads"]

State = np.ndarray | tuple[np.ndarray, np.ndarray]


class RecurrentGrads(NamedTuple):
    """Gradients from :meth:`RNN.backward` / :meth:`LSTM.backward` / :meth:`GRU.backward`.

    Attributes
    ----------
    input : numpy.ndarray
        Gradient of the loss with respect to the input sequence (the input's shape).
    hx : numpy.ndarray or tuple of numpy.ndarray
        With respect to the initial state: ``h0`` (RNN, GRU) or ``(h0, c0)`` (LSTM).
    params : dict of str to numpy.ndarray
        With respect to every parameter, keyed by its name (``weight_ih_l0``, ...).
    """

    input: np.ndarray
    hx: State
    params: dict[str, np.ndarray]


class _Recurrent:
    """Shared machinery: parameters, dtype/shape validation, the _core calls."""

    _gates: int = 1
    _has_cell = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bias: bool = True,
        batch_first: bool = False,
        bidirectional: bool = False,
        dtype: Any = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.input_size = check_int("input_size", input_size, 1)
        self.hidden_size = check_int("hidden_size", hidden_size, 1)
        self.num_layers = check_int("num_layers", num_layers, 1)
        dt = check_float_dtype("dtype", dtype)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.dtype = dt
        self._cache: dict[str, Any] | None = None
        self._params: dict[str, np.ndarray] = {}
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(self.hidden_size)  # PyTorch's init: U(-1/sqrt(H), 1/sqrt(H))
        for name, shape in self._param_shapes():
            self._params[name] = rng.uniform(-bound, bound, shape).astype(dt)

    # ------------------------------------------------------------------ parameters
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _extra_cell_params(self, suffix: str) -> list[tuple[str, tuple[int, ...]]]:
        return []

    def _head_param_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        return []

    def _param_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        return self._cell_param_shapes() + self._head_param_shapes()

    def _cell_param_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """The recurrent stack's parameters, in the order the C++ core takes them."""
        gh, h = self._gates * self.hidden_size, self.hidden_size
        shapes: list[tuple[str, tuple[int, ...]]] = []
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else h * self.num_directions
            for direction in range(self.num_directions):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                shapes += [(f"weight_ih{sfx}", (gh, in_size)), (f"weight_hh{sfx}", (gh, h))]
                if self.bias:
                    shapes += [(f"bias_ih{sfx}", (gh,)), (f"bias_hh{sfx}", (gh,))]
                shapes += self._extra_cell_params(sfx)
        return shapes

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(name, array)`` pairs in PyTorch's ``state_dict`` order (the arrays themselves)."""
        yield from self._params.items()

    def parameters(self) -> list[np.ndarray]:
        """The parameter arrays (modifiable in place, e.g. by an optimizer)."""
        return list(self._params.values())

    def __getattr__(self, name: str) -> np.ndarray:
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters by name, e.g. for ``numpy.savez``."""
        return {k: v.copy() for k, v in self._params.items()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Load parameters by name, e.g. from ``numpy.load("lstm.npz")`` of a PyTorch model.

        Values are cast to this layer's dtype. With ``strict`` the names must match exactly;
        otherwise unknown names are ignored and missing ones keep their values. A wrong shape
        or a non-finite value raises before anything is changed; ``state`` must be a mapping
        (``TypeError`` otherwise).
        """
        check_mapping("state", state)
        expected = dict(self._param_shapes())
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in expected]
        if strict and (missing or unexpected):
            raise KeyError(f"state_dict mismatch: missing {missing}, unexpected {unexpected}")
        new = {}
        for name, shape in expected.items():
            if name not in state:
                continue
            arr = real_array(name, state[name])
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            new[name] = np.array(arr, dtype=self.dtype)
        self._params.update(new)

    # ------------------------------------------------------------------ forward/backward
    def _kind(self) -> str:
        raise NotImplementedError

    def _core_params(self) -> list[np.ndarray]:
        return [self._params[name] for name, _ in self._cell_param_shapes()]

    def _core_flags(self) -> dict[str, bool]:
        return {}

    def _as_input(self, x: Any) -> tuple[np.ndarray, bool]:
        """Time-major contiguous (T, B, I) array of our dtype, and whether it was unbatched."""
        arr = real_array("input", x, finite=False)
        if arr.ndim not in (2, 3):
            raise ValueError(
                f"input must be 3-D ({'batch, seq' if self.batch_first else 'seq, batch'}, "
                f"input_size) or 2-D (seq, input_size), got shape {arr.shape}"
            )
        unbatched = arr.ndim == 2
        if unbatched:
            arr = arr[:, None, :]
        elif self.batch_first:
            arr = arr.transpose(1, 0, 2)
        if arr.shape[2] != self.input_size:
            raise ValueError(
                f"input has {arr.shape[2]} features, expected input_size={self.input_size}"
            )
        if arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError(f"input has an empty sequence or batch: shape {np.shape(x)}")
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        check_finite("input", arr)
        return arr, unbatched

    def _as_state(self, s: Any, name: str, batch: int, unbatched: bool) -> np.ndarray | None:
        if s is None:
            return None
        arr = real_array(name, s, finite=False)
        states = self.num_layers * self.num_directions
        want = (states, self.hidden_size) if unbatched else (states, batch, self.hidden_size)
        if arr.shape != want:
            raise ValueError(f"{name} has shape {arr.shape}, expected {want}")
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        check_finite(name, arr)
        return arr[:, None, :] if unbatched else arr

    def _to_user(self, seq: np.ndarray, unbatched: bool) -> np.ndarray:
        if unbatched:
            return seq[:, 0, :]
        return np.ascontiguousarray(seq.transpose(1, 0, 2)) if self.batch_first else seq

    def _from_user_seq(self, g: Any, name: str, like: np.ndarray, unbatched: bool) -> np.ndarray:
        arr = real_array(name, g, finite=False)
        want = self._to_user(like, unbatched).shape
        if arr.shape != want:
            raise ValueError(f"{name} has shape {arr.shape}, expected {want}")
        if unbatched:
            arr = arr[:, None, :]
        elif self.batch_first:
            arr = arr.transpose(1, 0, 2)
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        check_finite(name, arr)
        return arr

    def _forward(self, x: Any, h0: Any, c0: Any) -> tuple[np.ndarray, np.ndarray, Any]:
        xt, unbatched = self._as_input(x)
        batch = xt.shape[1]
        h0a = self._as_state(h0, "h0", batch, unbatched)
        c0a = self._as_state(c0, "c0", batch, unbatched) if self._has_cell else None
        out, h_n, c_n, tape = _core.nn.recurrent_forward(
            self._kind(),
            xt,
            h0a,
            c0a,
            self._core_params(),
            self.input_size,
            self.hidden_size,
            self.num_layers,
            self.bidirectional,
            self.bias,
            **self._core_flags(),
        )
        self._cache = {"x": xt, "tape": tape, "out": out, "unbatched": unbatched}
        if unbatched:
            h_n = h_n[:, 0, :]
            c_n = c_n[:, 0, :] if c_n is not None else None
        return self._to_user(out, unbatched), h_n, c_n

    def _backward(
        self, grad_output: Any, grad_h_n: Any, grad_c_n: Any
    ) -> tuple[np.ndarray, np.ndarray, Any, dict[str, np.ndarray]]:
        if self._cache is None:
            raise RuntimeError("backward needs a forward pass first")
        cache = self._cache
        if cache["tape"].consumed:
            raise RuntimeError("backward already ran for the last forward pass; run forward again")
        unbatched = cache["unbatched"]
        out = cache["out"]
        if grad_output is None:
            g_out = np.zeros_like(out)
        else:
            g_out = self._from_user_seq(grad_output, "grad_output", out, unbatched)
        batch = out.shape[1]
        g_h = self._as_state(grad_h_n, "grad_h_n", batch, unbatched)
        g_c = self._as_state(grad_c_n, "grad_c_n", batch, unbatched) if self._has_cell else None
        dx, dh0, dc0, grads = _core.nn.recurrent_backward(
            cache["tape"], cache["x"], self._core_params(), g_out, g_h, g_c
        )
        if unbatched:
            dh0 = dh0[:, 0, :]
            dc0 = dc0[:, 0, :] if dc0 is not None else None
        names = [name for name, _ in self._cell_param_shapes()]
        return self._to_user(dx, unbatched), dh0, dc0, dict(zip(names, grads, strict=True))

    def __repr__(self) -> str:
        opts = [f"{self.input_size}", f"{self.hidden_size}"]
        if self.num_layers != 1:
            opts.append(f"num_layers={self.num_layers}")
        for flag in ("batch_first", "bidirectional"):
            if getattr(self, flag):
                opts.append(f"{flag}=True")
        if not self.bias:
            opts.append("bias=False")
        opts.append(f"dtype={self.dtype.name}")
        return f"{type(self).__name__}({', '.join(opts)})"


_SHARED_DOC = """
    Parameters
    ----------
    input_size : int
        Features per time step of the input.
    hidden_size : int
        Features of the hidden state ``H``.
    num_layers : int
        Stacked layers; layer ``l > 0`` reads the (concatenated) outputs of layer ``l - 1``.
    bias : bool
        With ``bias_ih_l*`` and ``bias_hh_l*``.
    batch_first : bool
        Input and output as ``(batch, seq, feature)`` instead of ``(seq, batch, feature)``
        (states stay ``(num_layers * num_directions, batch, H)``, as in PyTorch).
    bidirectional : bool
        A second direction per layer reads the sequence backwards; outputs concatenate
        ``[forward, reverse]`` features and its parameters end in ``_reverse``.
    dtype : float32 or float64
        Computation dtype of parameters, outputs and gradients (PyTorch's default float32).
    seed : int, numpy.random.Generator or None
        Initialisation seed; parameters are ``U(-1/sqrt(H), 1/sqrt(H))`` like PyTorch's.
"""


class RNN(_Recurrent):
    (
        """Elman RNN ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, like ``torch.nn.RNN``.

    With ``output_size`` it adds the read-out ``y_t = sigmoid(W_hy h_t + b_hy)`` of the top
    layer (``weight_hy`` of shape ``(output_size, num_directions * H)``, ``bias_hy`` when
    ``bias``), and the output is ``y`` instead of ``h``.
    """
        + _SHARED_DOC
        + """    nonlinearity : {'tanh', 'relu'}
        The activation ``act``.
    output_size : int, optional
        Size of the sigmoid read-out; ``None`` (default) returns hidden states.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> rnn = ht.nn.RNN(4, 3, output_size=4, bias=False, dtype=np.float64, seed=0)
    >>> x = np.eye(4)[[0, 1, 2, 2]]              # one-hot sequence, unbatched (seq, features)
    >>> y, h_n = rnn(x)
    >>> y.shape, h_n.shape
    ((4, 4), (1, 3))
    >>> grads = rnn.backward(np.ones_like(y))   # d(sum y)/d(everything)
    >>> sorted(grads.params)
    ['weight_hh_l0', 'weight_hy', 'weight_ih_l0']
    """
    )

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        *,
        bias: bool = True,
        batch_first: bool = False,
        bidirectional: bool = False,
        output_size: int | None = None,
        dtype: Any = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.output_size = check_optional_int("output_size", output_size, 1)
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias=bias,
            batch_first=batch_first,
            bidirectional=bidirectional,
            dtype=dtype,
            seed=seed,
        )

    def _head_param_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        shapes: list[tuple[str, tuple[int, ...]]] = []
        if self.output_size is not None:
            shapes.append(("weight_hy", (self.output_size, self.num_directions * self.hidden_size)))
            if self.bias:
                shapes.append(("bias_hy", (self.output_size,)))
        return shapes

    def _kind(self) -> str:
        return f"rnn_{self.nonlinearity}"

    def __call__(self, x: Any, hx: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return self.forward(x, hx)

    def forward(self, x: Any, hx: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Run the whole sequence: ``(output, h_n)``.

        ``x``: ``(seq, batch, input_size)`` (``(batch, seq, ...)`` with ``batch_first``) or
        unbatched ``(seq, input_size)``; ``hx``: ``h0`` of shape
        ``(num_layers * num_directions, batch, H)`` (``(..., H)`` unbatched) or ``None`` for
        zeros. ``output`` holds the top layer's ``h_t`` for every step (or the read-out ``y_t``
        with ``output_size``); ``h_n`` the last state of every layer and direction.
        """
        out, h_n, _ = self._forward(x, hx, None)
        if self.output_size is None:
            return out, h_n
        z = out @ self._params["weight_hy"].T
        if self.bias:
            z += self._params["bias_hy"]
        y = _sigmoid(z)
        assert self._cache is not None
        self._cache.update(h_top=out, y=y)
        return y, h_n

    def backward(self, grad_output: Any = None, grad_h_n: Any = None) -> RecurrentGrads:
        """Backpropagation through time for the last forward pass.

        ``grad_output``: gradient of the loss with respect to ``output`` (its shape; ``None``
        for zeros); ``grad_h_n`` with respect to ``h_n`` (``None`` for zeros). Returns the
        gradients with respect to the input, ``h0`` and every parameter. Runs once per forward.
        """
        readout = None
        if self.output_size is not None and self._cache is not None and "y" in self._cache:
            y, h_top = self._cache["y"], self._cache["h_top"]
            gy = np.zeros_like(y) if grad_output is None else real_array("grad_output", grad_output)
            if gy.shape != y.shape:
                raise ValueError(f"grad_output has shape {gy.shape}, expected {y.shape}")
            dz = (gy * y * (1 - y)).astype(self.dtype, copy=False)
            flat_dz = dz.reshape(-1, dz.shape[-1])
            readout = {"weight_hy": flat_dz.T @ h_top.reshape(-1, h_top.shape[-1])}
            if self.bias:
                readout["bias_hy"] = flat_dz.sum(axis=0)
            grad_output = dz @ self._params["weight_hy"]
        dx, dh0, _, grads = self._backward(grad_output, grad_h_n, None)
        if readout is not None:
            grads.update(readout)
        return RecurrentGrads(dx, dh0, grads)


class LSTM(_Recurrent):
    (
        """Long short-term memory, like ``torch.nn.LSTM`` (gate order i, f, g, o).

    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)`` with ``[i, f, g, o] =
    [sigmoid, sigmoid, tanh, sigmoid](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.
    Two variants (not in PyTorch; their parameters are not PyTorch-loadable):

    - ``peepholes=True``: the gates also see the cell state, ``i`` and ``f`` through
      ``p_i * c_{t-1}``, ``p_f * c_{t-1}`` and ``o`` through ``p_o * c_t``, with the extra
      parameter ``weight_peephole_l*`` of shape ``(3, H)`` (rows i, f, o).
    - ``coupled_input_forget=True``: the input gate is ``1 - f`` (only entries that are
      forgotten are written); the gate blocks become ``[f, g, o]`` (``3H`` rows) and the
      peephole parameter ``(2, H)`` (rows f, o).
    """
        + _SHARED_DOC
        + """    peepholes : bool
        Peephole connections from the cell state to the gates.
    coupled_input_forget : bool
        Couple the input gate to the forget gate (``i = 1 - f``).

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> lstm = ht.nn.LSTM(8, 16, num_layers=2, batch_first=True, seed=0)
    >>> x = np.random.default_rng(0).standard_normal((5, 7, 8)).astype(np.float32)
    >>> out, (h_n, c_n) = lstm(x)
    >>> out.shape, h_n.shape, c_n.shape
    ((5, 7, 16), (2, 5, 16), (2, 5, 16))
    >>> g = lstm.backward(np.ones_like(out))
    >>> g.input.shape, g.hx[0].shape, g.params["weight_hh_l1"].shape
    ((5, 7, 8), (2, 5, 16), (64, 16))
    """
    )

    _has_cell = True

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bias: bool = True,
        batch_first: bool = False,
        bidirectional: bool = False,
        peepholes: bool = False,
        coupled_input_forget: bool = False,
        dtype: Any = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.peepholes = bool(peepholes)
        self.coupled_input_forget = bool(coupled_input_forget)
        self._gates = 3 if self.coupled_input_forget else 4
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias=bias,
            batch_first=batch_first,
            bidirectional=bidirectional,
            dtype=dtype,
            seed=seed,
        )

    def _extra_cell_params(self, suffix: str) -> list[tuple[str, tuple[int, ...]]]:
        if not self.peepholes:
            return []
        return [
            (f"weight_peephole{suffix}", (2 if self.coupled_input_forget else 3, self.hidden_size))
        ]

    def _kind(self) -> str:
        return "lstm"

    def _core_flags(self) -> dict[str, bool]:
        return {"peephole": self.peepholes, "coupled": self.coupled_input_forget}

    def __call__(
        self, x: Any, hx: tuple[Any, Any] | None = None
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        return self.forward(x, hx)

    def forward(
        self, x: Any, hx: tuple[Any, Any] | None = None
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Run the whole sequence: ``(output, (h_n, c_n))``.

        ``x`` as for :meth:`RNN.forward`; ``hx``: ``(h0, c0)``, each
        ``(num_layers * num_directions, batch, H)``, or ``None`` for zeros.
        """
        h0, c0 = _split_pair(hx)
        out, h_n, c_n = self._forward(x, h0, c0)
        return out, (h_n, c_n)

    def backward(
        self, grad_output: Any = None, grad_hx: tuple[Any, Any] | None = None
    ) -> RecurrentGrads:
        """Backpropagation through time for the last forward pass.

        ``grad_output`` with respect to ``output``; ``grad_hx``: ``(grad_h_n, grad_c_n)``
        (either may be ``None`` for zeros). ``RecurrentGrads.hx`` is ``(grad_h0, grad_c0)``.
        """
        gh, gc = _split_pair(grad_hx)
        dx, dh0, dc0, grads = self._backward(grad_output, gh, gc)
        return RecurrentGrads(dx, (dh0, dc0), grads)


class GRU(_Recurrent):
    (
        """Gated recurrent unit, like ``torch.nn.GRU`` (gate order r, z, n).

    ``r, z = sigmoid(W_i[rz] x + b_i[rz] + W_h[rz] h' + b_h[rz])``,
    ``n = tanh(W_in x + b_in + r * (W_hn h' + b_hn))``, ``h = (1 - z) * n + z * h'``.
    """
        + _SHARED_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> gru = ht.nn.GRU(3, 5, bidirectional=True, dtype=np.float64, seed=1)
    >>> out, h_n = gru(np.zeros((6, 2, 3)))
    >>> out.shape, h_n.shape
    ((6, 2, 10), (2, 2, 5))
    """
    )

    _gates = 3

    def _kind(self) -> str:
        return "gru"

    def __call__(self, x: Any, hx: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return self.forward(x, hx)

    def forward(self, x: Any, hx: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Run the whole sequence: ``(output, h_n)`` (shapes as for :meth:`RNN.forward`)."""
        out, h_n, _ = self._forward(x, hx, None)
        return out, h_n

    def backward(self, grad_output: Any = None, grad_h_n: Any = None) -> RecurrentGrads:
        """Backpropagation through time for the last forward pass (see :meth:`RNN.backward`)."""
        dx, dh0, _, grads = self._backward(grad_output, grad_h_n, None)
        return RecurrentGrads(dx, dh0, grads)


def _split_pair(hx: Any) -> tuple[Any, Any]:
    if hx is None:
        return None, None
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        raise TypeError("LSTM states are a pair (h, c)")
    return hx[0], hx[1]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out
