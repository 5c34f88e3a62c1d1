"""The type registry behind :func:`hetensor.save` and :func:`hetensor.load`.

Each entry ties a ``kind`` (the name stored in the file) to the classes it stores, a writer and
a reader. :func:`hetensor.io.save` stores an object with the most recently registered entry
whose classes it is an instance of; :func:`hetensor.io.load` picks the reader by the file's
``kind``. Classes may be named by ``"module:QualName"`` strings, resolved only once that module
has been imported by someone else, so registering a type never imports its package.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ClassSpec",
    "Entry",
    "LoadOptions",
    "Reader",
    "Writer",
    "entry_for",
    "readers",
    "register",
]


@dataclass(frozen=True)
class LoadOptions:
    """What a reader gets besides the HDF5 group.

    Attributes
    ----------
    context : Context or None
        The context passed to :func:`load` (needed for encrypted objects and secret keys).
    isolate : bool
        Deserialize untrusted OpenFHE bytes in a child process first (see
        :meth:`hetensor.Context.from_bytes`).
    format_version : int
        The file's format version (<= FILE_FORMAT_VERSION), for readers of older layouts.
    attrs : dict
        All root attributes of the file.
    """

    context: Any
    isolate: bool
    format_version: int
    attrs: Mapping[str, Any]


Writer = Callable[[Any, Any], None]  # (h5py group, object) -> None
Reader = Callable[[Any, LoadOptions], Any]  # (h5py group, options) -> object
ClassSpec = type | str  # a class, or "module:QualName" (resolved once the module is imported)


def _check_spec(spec: Any) -> ClassSpec:
    if isinstance(spec, type):
        return spec
    if isinstance(spec, str):
        module, sep, qualname = spec.partition(":")
        if not (sep and module and qualname):
            raise ValueError(f"class path must look like 'module:QualName', got {spec!r}")
        return spec
    raise TypeError(f"expected a class or a 'module:QualName' string, got {type(spec).__name__}")


def _resolve(spec: ClassSpec) -> type | None:
    if not isinstance(spec, str):
        return spec
    module, _, qualname = spec.partition(":")
    if module not in sys.modules:  # not imported: no object can be an instance
        return None
    cls: type = getattr(sys.modules[module], qualname)
    return cls


def _type_name(spec: ClassSpec) -> str:
    if isinstance(spec, str):
        return spec.replace(":", ".")
    return f"{spec.__module__}.{spec.__qualname__}"


@dataclass(frozen=True)
class Entry:
    """One registered kind.

    Attributes
    ----------
    name : str
        The ``kind`` stored in the file.
    classes : tuple of (type or str)
        The classes stored under this kind (instances of subclasses match too).
    write : Writer
        ``(group, obj) -> None``.
    read : Reader
        ``(group, options) -> obj``.
    """

    name: str
    classes: tuple[ClassSpec, ...]
    write: Writer
    read: Reader

    def match(self, obj: Any) -> str | None:
        """Name of the first of :attr:`classes` that ``obj`` is an instance of.

        Parameters
        ----------
        obj : object
            The object to store.

        Returns
        -------
        str or None
            The class as ``"module.QualName"`` (the path it was registered under), or None
            when ``obj`` is an instance of none of them.
        """
        for spec in self.classes:
            cls = _resolve(spec)
            if cls is not None and isinstance(obj, cls):
                return _type_name(spec)
        return None

    @property
    def type_names(self) -> tuple[str, ...]:
        """The registered classes as ``"module.QualName"`` strings."""
        return tuple(_type_name(spec) for spec in self.classes)


_REGISTRY: list[Entry] = []


def register(
    cls: ClassSpec | tuple[ClassSpec, ...], name: str, write: Writer, read: Reader
) -> None:
    """Teach :func:`save` / :func:`load` a new object type.

    Parameters
    ----------
    cls : type, str, or tuple of those
        The class (instances of subclasses match too), or ``"module:QualName"`` to avoid
        importing the module here (it is looked up only once something else has imported it).
        A non-empty tuple of classes and/or such strings stores several classes under one
        kind; the reader then tells them apart (e.g. by a class name the writer stored).
        Later registrations take precedence.
    name : str
        The ``kind`` stored in the file; must be unique and stable across versions.
        Registering a name again replaces the earlier entry.
    write : callable ``(group, obj) -> None``
        Stores ``obj`` in an ``h5py.Group`` (datasets, subgroups, JSON-able attributes).
    read : callable ``(group, options) -> obj``
        Rebuilds the object; ``options`` is a :class:`LoadOptions`.

    Raises
    ------
    ValueError
        ``name`` is not an identifier, ``cls`` is an empty tuple, or a string in it does not
        look like ``"module:QualName"``.
    TypeError
        ``cls`` (or an item of the tuple) is neither a class nor a string.

    Examples
    --------
    >>> import numpy as np
    >>> from hetensor import io
    >>> class Scaler:
    ...     def __init__(self, mean): self.mean = np.asarray(mean)
    >>> io.register(Scaler, "doc_scaler",
    ...             lambda g, s: g.create_dataset("mean", data=s.mean),
    ...             lambda g, opts: Scaler(g["mean"][()]))

    One kind for several classes, here a class and a ``"module:QualName"`` path (how
    hetensor registers ``("hetensor.nn:RNN", "hetensor.nn:LSTM", "hetensor.nn:GRU")``):

    >>> class Celsius:
    ...     def __init__(self, t): self.t = float(t)
    >>> io.register((Celsius, "doc_units:Kelvin"), "doc_temperature",
    ...             lambda g, x: g.attrs.update(unit=type(x).__name__, t=x.t),
    ...             lambda g, opts: Celsius(g.attrs["t"]))
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"kind name must be an identifier, got {name!r}")
    specs = cls if isinstance(cls, tuple) else (cls,)
    if not specs:
        raise ValueError(f"kind {name!r}: expected at least one class, got an empty tuple")
    classes = tuple(_check_spec(spec) for spec in specs)
    _REGISTRY[:] = [e for e in _REGISTRY if e.name != name]
    _REGISTRY.append(Entry(name, classes, write, read))


def entry_for(obj: Any) -> tuple[Entry, str]:
    """The entry that stores ``obj``, and the name of the registered class it matched.

    Parameters
    ----------
    obj : object
        The object to store.

    Returns
    -------
    entry : Entry
        The most recently registered entry with a class ``obj`` is an instance of.
    type_name : str
        That class as ``"module.QualName"`` (recorded as the file's ``object_type``).

    Raises
    ------
    TypeError
        No entry stores ``obj``; the message lists every registered class.
    """
    for entry in reversed(_REGISTRY):
        type_name = entry.match(obj)
        if type_name is not None:
            return entry, type_name
    known = ", ".join(sorted({n for e in _REGISTRY for n in e.type_names}))
    raise TypeError(f"hetensor.save cannot store a {type(obj).__name__}; it stores: {known}")


def readers() -> dict[str, Reader]:
    """The reader of every registered kind, by kind name.

    Returns
    -------
    dict of str to Reader
        A new dict (changing it does not change the registry).
    """
    return {e.name: e.read for e in _REGISTRY}
