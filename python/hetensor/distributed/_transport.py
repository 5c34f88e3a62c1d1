"""How encrypted objects travel through Dask: keys once per worker, ciphertexts as envelopes.

A context's evaluation keys are large (megabytes to gigabytes) and identical for every task,
so they go to each worker once: :func:`install_context` registers a
:class:`ContextPlugin` (a ``distributed.WorkerPlugin``) holding the *public* context's
serialized bytes. The scheduler keeps it and runs it on every worker, including workers that
join or are restarted later; it deserializes the context into a per-process registry keyed by
the context's fingerprint. Ciphertexts then travel as the checked envelope of
:meth:`Context.to_bytes` plus nothing else: pickling an :class:`EncryptedArray` (through
``copyreg``, which ``pickle`` and ``cloudpickle`` honour) or Dask's own ``dask`` serializer
family yields ``(fingerprint, envelope)``, and the receiving process rebinds it to the
registered context. An array whose context is not installed in the receiving process fails
with :class:`~hetensor.errors.ContextMismatchError` naming the fix, never silently.

Examples
--------
>>> from distributed import Client                                   # doctest: +SKIP
>>> client = Client(processes=True, n_workers=2, threads_per_worker=1)  # doctest: +SKIP
>>> install_context(client, server)         # keys go to each worker once  # doctest: +SKIP
>>> fut = client.submit(lambda x: x * 2.0, client.scatter(xe))       # doctest: +SKIP
"""

from __future__ import annotations

import copyreg
import threading
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from ..errors import ContextMismatchError
from ..he import Context, EncryptedArray

__all__ = [
    "ContextPlugin",
    "get_context",
    "install_context",
    "register_context",
]

_LOCK = threading.Lock()
_REGISTRY: dict[str, Context] = {}
_INSTALLED: set[tuple[str, str]] = set()  # (client id, fingerprint) already sent


def register_context(ctx: Context) -> Context:
    """Make ``ctx`` the context arrays with its fingerprint are rebound to in this process.

    The owner's context is registered as its public view, so nothing deserialized in this
    process is bound to the secret key by accident. Returns the registered context.
    """
    if not isinstance(ctx, Context):
        raise TypeError(f"expected a hetensor Context, got {type(ctx).__name__}")
    with _LOCK:
        known = _REGISTRY.get(ctx.fingerprint)
        if known is None:
            known = ctx.public() if ctx.has_secret_key else ctx
            _REGISTRY[ctx.fingerprint] = known
        return known


def get_context(fingerprint: str) -> Context:
    """The context registered in this process under ``fingerprint`` (hex).

    Raises
    ------
    ContextMismatchError
        None is registered: install it first (:func:`install_context`).
    """
    with _LOCK:
        ctx = _REGISTRY.get(fingerprint)
    if ctx is None:
        raise ContextMismatchError(
            f"no hetensor context with fingerprint {fingerprint[:12]}... is installed in this "
            "process: call hetensor.distributed.install_context(client, context) before "
            "sending its ciphertexts to Dask workers"
        )
    return ctx


class ContextPlugin(WorkerPlugin):
    """Worker plugin that installs one public context (keys included) on every worker.

    Holds ``Context.serialize()`` bytes (never the secret key); ``setup`` runs once per worker
    process, also on workers started later (e.g. after a worker was lost).
    """

    def __init__(self, context_bytes: bytes, fingerprint: str) -> None:
        self.context_bytes = context_bytes
        self.fingerprint = fingerprint
        self.name = f"hetensor-context-{fingerprint[:16]}"

    def setup(self, worker: Any = None) -> None:
        with _LOCK:
            if self.fingerprint in _REGISTRY:
                return
        ctx = Context.deserialize(self.context_bytes)
        if ctx.has_secret_key:  # pragma: no cover - install_context never sends it
            raise ValueError("refusing to install a context holding a secret key on a worker")
        register_context(ctx)

    def teardown(self, worker: Any = None) -> None:
        """Nothing to release: OpenFHE keeps keys for the process's lifetime."""


def install_context(client: Any, ctx: Context) -> int:
    """Send ``ctx``'s public keys to every worker of ``client``, once (and to later workers).

    Parameters
    ----------
    client : distributed.Client
    ctx : Context
        The owner's or a public context; only its public view is sent.

    Returns
    -------
    int
        Bytes of the serialized public context (what each worker receives once); 0 when this
        client already installed it (nothing is sent again).

    Examples
    --------
    >>> nbytes = install_context(client, owner)                     # doctest: +SKIP
    """
    public = register_context(ctx)
    key = (str(getattr(client, "id", id(client))), public.fingerprint)
    with _LOCK:
        if key in _INSTALLED:
            return 0
    data = public.serialize()
    plugin = ContextPlugin(data, public.fingerprint)
    client.register_plugin(plugin, name=plugin.name)
    with _LOCK:
        _INSTALLED.add(key)
    return len(data)


# ---------------------------------------------------------------------- pickling (copyreg)
def _rebuild_array(fingerprint: str, envelope: bytes) -> EncryptedArray:
    return get_context(fingerprint).from_bytes(envelope)


def _reduce_array(arr: EncryptedArray) -> tuple[Any, tuple[str, bytes]]:
    if arr.is_symbolic:
        raise TypeError("a symbolic (placeholder) array holds no data and cannot be sent")
    return _rebuild_array, (arr.context.fingerprint, arr.context.to_bytes(arr))


copyreg.pickle(EncryptedArray, _reduce_array)


def _register_dask_serializers() -> None:
    """Dask's ``dask`` family: header ``{fingerprint}``, one frame (the envelope)."""
    from distributed.protocol import dask_deserialize, dask_serialize

    @dask_serialize.register(EncryptedArray)
    def _serialize(arr: EncryptedArray) -> tuple[dict[str, Any], list[bytes]]:
        fingerprint, envelope = _reduce_array(arr)[1]
        return {"fingerprint": fingerprint}, [envelope]

    @dask_deserialize.register(EncryptedArray)
    def _deserialize(header: dict[str, Any], frames: list[Any]) -> EncryptedArray:
        data = frames[0] if len(frames) == 1 else b"".join(bytes(f) for f in frames)
        return _rebuild_array(header["fingerprint"], bytes(data))


_register_dask_serializers()
