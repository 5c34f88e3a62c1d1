"""Codec for :mod:`hetensor.nn` layers; registers kinds ``conv2d`` and ``recurrent``.

A layer is stored as its constructor arguments (JSON in the root attribute ``config``) and
its weights (a state dict, see :func:`hetensor.io._arrays.write_state`). ``RNN``, ``LSTM`` and
``GRU`` share the kind ``recurrent``; ``config["class"]`` says which one.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import FormatError
from ._arrays import read_state, write_state
from ._registry import LoadOptions, register

__all__: list[str] = []

_RECURRENT_OPTIONS = ("nonlinearity", "output_size", "peepholes", "coupled_input_forget")


def _write_conv2d(group: Any, conv: Any) -> None:
    config = {
        "in_channels": conv.in_channels,
        "out_channels": conv.out_channels,
        "kernel_size": list(conv.kernel_size),
        "stride": list(conv.stride),
        "padding": list(conv.padding) if isinstance(conv.padding, tuple) else conv.padding,
        "dilation": list(conv.dilation),
        "groups": conv.groups,
        "bias": conv.bias is not None,
        "dtype": str(conv.weight.dtype),
        "device": conv.device,
    }
    group.attrs["config"] = json.dumps(config)
    write_state(group, conv.state_dict())


def _read_conv2d(group: Any, options: LoadOptions) -> Any:
    from ..nn import Conv2d

    config = json.loads(group.attrs["config"])
    for key in ("kernel_size", "stride", "dilation", "padding"):
        if isinstance(config[key], list):
            config[key] = tuple(config[key])
    try:
        conv = Conv2d(**config)
        conv.load_state_dict(read_state(group))
    except (TypeError, ValueError) as err:
        raise FormatError(f"corrupt Conv2d file: {err}") from err
    return conv


def _write_recurrent(group: Any, layer: Any) -> None:
    config = {
        "class": type(layer).__name__,
        "input_size": layer.input_size,
        "hidden_size": layer.hidden_size,
        "num_layers": layer.num_layers,
        "bias": layer.bias,
        "batch_first": layer.batch_first,
        "bidirectional": layer.bidirectional,
        "dtype": str(layer.dtype),
    }
    config.update({k: getattr(layer, k) for k in _RECURRENT_OPTIONS if hasattr(layer, k)})
    group.attrs["config"] = json.dumps(config)
    write_state(group, layer.state_dict())


def _read_recurrent(group: Any, options: LoadOptions) -> Any:
    from .. import nn

    try:
        config = json.loads(group.attrs["config"])
        cls = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[config.pop("class")]
        layer = cls(**config)
        layer.load_state_dict(read_state(group))
    except (KeyError, TypeError, ValueError) as err:
        raise FormatError(f"corrupt recurrent-layer file: {err}") from err
    return layer


register("hetensor.nn:Conv2d", "conv2d", _write_conv2d, _read_conv2d)
register(
    ("hetensor.nn:RNN", "hetensor.nn:LSTM", "hetensor.nn:GRU"),
    "recurrent",
    _write_recurrent,
    _read_recurrent,
)
