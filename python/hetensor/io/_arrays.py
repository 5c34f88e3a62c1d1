"""Codec for plain NumPy arrays and state dicts; registers kinds ``ndarray``, ``state_dict``.

The array and state-dict helpers here are shared by the other codecs (a layer stores its
weights as a state dict next to its configuration).

An array is one dataset, Fletcher-32 checksummed where HDF5 allows it (non-empty arrays of
rank >= 1). A state dict is a group ``state`` with one entry per key, named ``e0``, ``e1``,
... in insertion order, the key itself stored as the entry's ``key`` attribute; nested dicts
become subgroups laid out the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InvalidDtypeError
from ._format import import_h5py
from ._registry import LoadOptions, register

__all__ = ["checked_array", "read_array", "read_state", "write_array", "write_state"]


def checked_array(value: Any, where: str) -> np.ndarray:
    """``value`` as an array, if its dtype is one hetensor stores.

    Parameters
    ----------
    value : array_like
        The value to store.
    where : str
        What the value is, for the error message.

    Returns
    -------
    numpy.ndarray
        ``numpy.asarray(value)``.

    Raises
    ------
    InvalidDtypeError
        The dtype is not boolean or numeric.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufc":
        raise InvalidDtypeError(
            f"{where}: cannot save an array of dtype {arr.dtype} (numbers and booleans only)"
        )
    return arr


def write_array(group: Any, name: str, value: Any, where: str) -> None:
    """Store ``value`` as dataset ``name`` of ``group``.

    Parameters
    ----------
    group : h5py.Group
        Where to create the dataset.
    name : str
        The dataset's name.
    value : array_like
        Numbers or booleans (see :func:`checked_array`).
    where : str
        What the value is, for error messages.
    """
    arr = checked_array(value, where)
    checksum = arr.ndim >= 1 and arr.size > 0
    group.create_dataset(name, data=arr, fletcher32=checksum)


def read_array(dataset: Any) -> np.ndarray:
    """The array stored by :func:`write_array` (a 0-d array for a scalar).

    Parameters
    ----------
    dataset : h5py.Dataset
        The dataset.

    Returns
    -------
    numpy.ndarray
        Its contents.
    """
    return np.asarray(dataset[()])


def write_state(group: Any, state: Mapping[Any, Any], where: str = "state") -> None:
    """Store a (nested) dict of arrays as the subgroup ``state`` of ``group``.

    Entries are stored under index names (``e0``, ``e1``, ...) with the key as an attribute,
    so any key round-trips exactly: HDF5 would read a ``/`` in a name as a path separator
    (``"layer/0.weight"`` would become a group ``layer`` holding ``0.weight``) and refuses
    names such as ``"."``.

    Parameters
    ----------
    group : h5py.Group
        Where to create the ``state`` subgroup.
    state : mapping of str to (array_like or mapping)
        The entries; nested mappings become nested groups.
    where : str, default "state"
        What the dict is, for error messages.

    Raises
    ------
    TypeError
        A key is not a string.
    InvalidDtypeError
        A value is not numeric or boolean.
    """
    g = group.create_group("state")
    for i, (key, value) in enumerate(state.items()):
        if not isinstance(key, str):
            raise TypeError(f"{where}: state dict keys must be str, got {type(key).__name__}")
        name = f"e{i}"
        if isinstance(value, Mapping):
            sub = g.create_group(name)
            write_state(sub, value, f"{where}[{key!r}]")
        else:
            write_array(g, name, value, f"{where}[{key!r}]")
        g[name].attrs["key"] = key


def read_state(group: Any, options: LoadOptions | None = None) -> dict[str, Any]:
    """The dict stored by :func:`write_state` under ``group``, keys in their saved order.

    Parameters
    ----------
    group : h5py.Group
        The group holding the ``state`` subgroup.
    options : LoadOptions, optional
        Unused (the reader signature).

    Returns
    -------
    dict
        Arrays (0-d for scalars) and nested dicts.
    """
    g = group["state"]
    out: dict[str, Any] = {}
    for name in sorted(g, key=lambda n: int(n[1:])):
        item = g[name]
        key = str(item.attrs["key"])
        out[key] = read_state(item) if isinstance(item, import_h5py().Group) else read_array(item)
    return out


def _write_ndarray(group: Any, arr: np.ndarray) -> None:
    write_array(group, "array", arr, "array")


def _read_ndarray(group: Any, options: LoadOptions) -> np.ndarray:
    return read_array(group["array"])


def _write_state_dict(group: Any, state: dict[str, Any]) -> None:
    write_state(group, state)


register(np.ndarray, "ndarray", _write_ndarray, _read_ndarray)
register(dict, "state_dict", _write_state_dict, read_state)
