"""CKKS contexts with key roles.

A :class:`Context` made by :meth:`Context.ckks` belongs to the data owner: it holds the secret
key and makes any evaluation key on demand. :meth:`Context.public` returns the compute-side
view with the public, relinearization and already generated rotation (and bootstrapping) keys
only. Ciphertexts move between contexts as bytes (:meth:`Context.to_bytes`,
:meth:`Context.from_bytes`, or :meth:`Context.receive` in one process).

Note that OpenFHE keeps evaluation keys in process-wide tables, so within one process the
public view is a role (enforced by hetensor's own bookkeeping); across processes it is the
real separation, because :meth:`Context.serialize` writes the secret key only when asked.

The class is the face of its jobs, each done in a module of its own: parameter search
(``_params``), keys and roles (``_keys``), ciphertext operations including encryption and
decryption (``_engine``), the wire format (``_wire``), flooding and the security report
(``_security``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import _core
from ..errors import (
    CapacityError,
    ContextMismatchError,
    FormatError,
    InvalidDtypeError,
    MissingKeyError,
)
from . import _params, _security, _wire
from ._base import Encrypted
from ._engine import DryEngine, Engine
from ._keys import KeyRing
from ._params import CKKSParameters
from .array import EncryptedArray
from .ciphertext import Ciphertext
from .keys import KeyPlan
from .matrix import EncryptedMatrix

__all__ = ["CKKSParameters", "Context"]


class Context:
    """A CKKS context with a key role: data owner (secret key) or compute side (public).

    Create one with :meth:`Context.ckks`; get the compute-side view with :meth:`public`.

    Example
    -------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> owner = ht.Context.ckks(depth=2, insecure=True)                 # doctest: +SKIP
    >>> owner.generate_keys(rotations=[1])                               # doctest: +SKIP
    >>> server = owner.public()                                          # doctest: +SKIP
    >>> ct = server.receive(owner.encrypt(np.array([1.0, 2.0, 3.0])))   # doctest: +SKIP
    >>> out = (ct * ct + 1.0).rotate(1)                                  # doctest: +SKIP
    >>> np.round(owner.decrypt(out), 6)                                  # doctest: +SKIP
    array([ 5., 10.,  1.])
    """

    def __init__(self, *, _state: tuple[Any, CKKSParameters, KeyRing] | None = None) -> None:
        if _state is None:
            raise TypeError("use Context.ckks(...) or Context.deserialize(...) to make a Context")
        self._cc, self._params, self._keys = _state
        self._fingerprint: bytes = _wire.fingerprint(self._keys.tag, self._params)
        self._engine = Engine(self)
        self._dry_engine = DryEngine(self)

    def _with_keys(self, keys: KeyRing) -> Context:
        return Context(_state=(self._cc, self._params, keys))

    # ------------------------------------------------------------------ construction
    @classmethod
    def ckks(
        cls,
        depth: int = 3,
        *,
        scale_bits: int | None = None,
        first_mod_bits: int | None = None,
        slots: int | None = None,
        security: int = 128,
        ring_dim: int | None = None,
        bootstrapping: bool = False,
        level_budget: tuple[int, int] = (3, 3),
        bootstrap_slots: int | None = None,
        num_large_digits: int | None = None,
        insecure: bool = False,
        decryption: str = "standard",
        noise_estimate: float | None = None,
    ) -> Context:
        """Make a data owner's CKKS context with fresh keys.

        Parameters
        ----------
        depth : int, default 3
            Multiplicative levels available to computations. With ``bootstrapping=True`` this
            is the number of levels after each bootstrap; bootstrapping's own levels are added.
        scale_bits : int, optional
            Bits of the scaling factor: default 40 (leveled) or 54 (bootstrapping).
        first_mod_bits : int, optional
            Bits of the first modulus (default 60): values must stay below
            ``2**(first_mod_bits - scale_bits - 1)`` in magnitude.
        slots : int, optional
            Slots per ciphertext (power of two); default ``ring_dim / 2``. With bootstrapping,
            fewer slots (sparse packing) make bootstrapping much cheaper.
        security : {128, 192, 256}
            Classical security level; OpenFHE picks the ring dimension that meets it.
        ring_dim : int, optional
            Force a ring dimension. Below what ``security`` needs this raises
            :class:`~hetensor.errors.InsecureParametersError` unless ``insecure=True``.
        bootstrapping : bool, default False
            Enable CKKS bootstrapping (setup and bootstrapping keys are made here).
        level_budget : (int, int), default (3, 3)
            Levels of bootstrapping's CoeffsToSlots and SlotsToCoeffs (more: faster, deeper).
        bootstrap_slots : int, optional
            Sparse bootstrapping: set bootstrapping up for this many slots (a power of two
            below ``slots``) instead of all of them. Only arrays whose slot layout repeats
            every ``bootstrap_slots`` slots or fewer can then be bootstrapped (a vector of at
            most ``bootstrap_slots`` entries: the layout replicates it over all slots), and
            only explicitly (:meth:`bootstrap`, or a model's ``refresh="server"``); arithmetic
            no longer bootstraps automatically. In exchange the setup, the keys and each
            bootstrap are far cheaper, and a small ``level_budget`` becomes affordable and
            leaves more levels: at ring 2^16, 128-bit and the default 54-bit scale, (1, 1)
            leaves depth 5 with 3 key-switching digits (the smallest keys), (2, 2) depth 6
            with 6 digits, (3, 3) depth 3 with 5 digits (measured).
        num_large_digits : int, optional
            Digits of hybrid key switching (OpenFHE's ``NumLargeDigits``). By default OpenFHE
            chooses; with bootstrapping hetensor also tries 3 to 10 and keeps the fewest
            digits that reach the smallest ring.
        insecure : bool, default False
            Disable the security check (``HEStd_NotSet``, ring ``2**12`` unless given). For
            tests only: warns with :class:`~hetensor.errors.InsecureParametersWarning`.
        decryption : {"standard", "flooding"}, default "standard"
            ``"flooding"`` adds OpenFHE's noise flooding at decryption (NOISE_FLOODING_DECRYPT,
            CKKS IND-CPA^D): use it when decrypted results leave the data owner. It is a
            two-phase protocol, see :meth:`flooding` and :meth:`decryption_noise`.
        noise_estimate : float, optional
            With ``decryption="flooding"``: the estimation phase's
            :meth:`decryption_noise`. Omitted, the context is the estimation-phase context.

        Returns
        -------
        Context
            The owner's context (holds the secret key).

        Example
        -------
        >>> import hetensor as ht
        >>> ctx = ht.Context.ckks(depth=3)            # 128-bit, ring 2^14   # doctest: +SKIP
        >>> ctx.ring_dim, ctx.slots, ctx.depth                              # doctest: +SKIP
        (16384, 8192, 3)
        """
        cc, params = _params.create(
            depth,
            scale_bits=scale_bits,
            first_mod_bits=first_mod_bits,
            slots=slots,
            security=security,
            ring_dim=ring_dim,
            bootstrapping=bootstrapping,
            level_budget=level_budget,
            bootstrap_slots=bootstrap_slots,
            num_large_digits=num_large_digits,
            insecure=insecure,
            decryption=decryption,
            noise_estimate=noise_estimate,
            stacklevel=2,
        )
        keys = KeyRing.generate(
            cc, bootstrap_slots=params.bootstrap_slots, level_budget=params.level_budget
        )
        return cls(_state=(cc, params, keys))

    @classmethod
    def flooding(
        cls,
        computation: Callable[[Context], Any],
        depth: int = 3,
        *,
        margin_bits: float = 1.0,
        **kwargs: Any,
    ) -> Context:
        """Make a ``decryption="flooding"`` context with its noise estimated (both phases).

        Parameters
        ----------
        computation : callable ``(Context) -> encrypted object``
            Runs the same computation as the real one (same operations, representative
            inputs) on the estimation-phase context it is given, and returns the result.
        depth, **kwargs
            As for :meth:`ckks` (``decryption`` and ``noise_estimate`` are set here).
        margin_bits : float, default 1.0
            Added to the measured noise (log2), in case the real inputs are noisier.

        Returns
        -------
        Context
            An owner context with fresh keys (never reuse the estimation keys) whose
            decryptions are noise-flooded.

        Example
        -------
        >>> import numpy as np
        >>> import hetensor as ht
        >>> f = lambda c: c.encrypt(np.linspace(-1, 1, 8)) ** 2         # doctest: +SKIP
        >>> ctx = ht.Context.flooding(f, depth=2)                       # doctest: +SKIP
        >>> x = np.linspace(-1, 1, 8)
        >>> np.allclose(ctx.decrypt(ctx.encrypt(x) ** 2), x**2, atol=1e-9)  # doctest: +SKIP
        True
        """
        return _security.flooding(cls, computation, depth, margin_bits, kwargs)

    # ------------------------------------------------------------------ properties
    @property
    def params(self) -> CKKSParameters:
        """The CKKS parameters (read-only)."""
        return self._params

    @property
    def ring_dim(self) -> int:
        return self._params.ring_dim

    @property
    def slots(self) -> int:
        return self._params.slots

    @property
    def depth(self) -> int:
        """Multiplicative levels available to computations (per bootstrap, if enabled)."""
        return self._params.depth

    @property
    def total_depth(self) -> int:
        return self._params.total_depth

    @property
    def bootstrapping(self) -> bool:
        return self._params.bootstrapping

    @property
    def bootstrap_slots(self) -> int | None:
        """Slots bootstrapping is set up for (``slots``, fewer when sparse, ``None`` if off)."""
        return self._params.bootstrap_slots

    @property
    def security(self) -> int | None:
        """Claimed classical security in bits; ``None`` for an insecure test context."""
        return self._params.security

    @property
    def decryption(self) -> str:
        """``"standard"`` or ``"flooding"`` (see :meth:`flooding`)."""
        return self._params.decryption

    @property
    def has_secret_key(self) -> bool:
        """True for the data owner's context, False for a compute-side (public) one."""
        return self._keys.has_secret

    @property
    def role(self) -> str:
        """``"owner"`` (holds the secret key) or ``"public"`` (compute side)."""
        return "owner" if self.has_secret_key else "public"

    @property
    def rotation_keys(self) -> frozenset[int]:
        """Rotation indices (in ``[0, slots)``) whose keys this context holds."""
        return frozenset(self._keys.rotations)

    @property
    def has_bootstrap_keys(self) -> bool:
        return self._keys.bootstrap_ready

    @property
    def keygen_seconds(self) -> float:
        """Seconds spent making this context's keys so far."""
        return self._keys.keygen_seconds

    @property
    def fingerprint(self) -> str:
        """Hex id of the keys and parameters; equal for an owner and its public views."""
        return self._fingerprint.hex()

    @property
    def openfhe(self) -> tuple[Any, Any, Any]:
        """``(crypto_context, public_key, secret_key or None)``: the raw OpenFHE objects.

        For interoperating with code written on OpenFHE itself (and for benchmarks against
        it). hetensor's level, key and role checks do not apply to what is done with them.
        """
        return self._cc, self._keys.public_key, self._keys.secret_key

    def __repr__(self) -> str:
        sec = f"{self.security}-bit" if self.security else "INSECURE"
        boot = ", bootstrapping" if self.bootstrapping else ""
        if self.bootstrapping and (self.bootstrap_slots or 0) < self.slots:
            boot += f" ({self.bootstrap_slots} slots)"
        return (
            f"<hetensor.Context {self.role} CKKS ring={self.ring_dim} slots={self.slots} "
            f"depth={self.depth}{boot} {sec} fingerprint={self.fingerprint[:12]}>"
        )

    # ------------------------------------------------------------------ keys and roles
    def generate_keys(
        self, plan: KeyPlan | Iterable[int] = (), *, rotations: Iterable[int] = ()
    ) -> None:
        """Generate the evaluation keys a computation needs (data owner only).

        Parameters
        ----------
        plan : KeyPlan or iterable of int
            A key plan (e.g. ``KeyPlan.for_sum(n)``) or rotation steps.
        rotations : iterable of int
            More rotation steps (any sign). Keys already held are not generated again.

        Raises
        ------
        KeyRoleError
            On a public context, which cannot make keys.
        """
        self._keys.require_secret("generate evaluation keys")
        wanted = KeyPlan.coerce(plan) | KeyPlan.coerce(rotations)
        self._keys.generate_rotations(self.normalize_rotation(k) for k in wanted.rotations)

    def normalize_rotation(self, k: int) -> int:
        """The rotation index in ``[0, slots)`` equivalent to rotating by ``k``."""
        return int(_core.packing.normalize_rotation(int(k), self.slots))

    @contextlib.contextmanager
    def recording(self) -> Iterator[_Recorder]:
        """Record the rotation keys a computation needs, without running it for real.

        Inside the block, arrays made with :meth:`placeholder` compute symbolically (no
        cryptography; levels are tracked and depth errors raised as for real data). Any
        rotation used is recorded; on exit ``recorder.plan`` is the :class:`KeyPlan`.

        Example
        -------
        >>> with owner.recording() as rec:                     # doctest: +SKIP
        ...     a = owner.placeholder((3, 4))
        ...     _ = a.T @ a
        >>> owner.generate_keys(rec.plan)                      # doctest: +SKIP
        >>> server = owner.public()                            # doctest: +SKIP
        """
        if self._keys.recording is not None:
            raise RuntimeError("this context is already recording")
        recorder = _Recorder()
        self._keys.recording = recorder._indices
        try:
            yield recorder
        finally:
            self._keys.recording = None
            recorder.plan = KeyPlan(frozenset(recorder._indices))

    @contextlib.contextmanager
    def count_ops(self) -> Iterator[dict[str, int]]:
        """Count the OpenFHE operations issued inside the block, by kind.

        Example
        -------
        >>> with ctx.count_ops() as ops:                       # doctest: +SKIP
        ...     _ = ctx.encrypt(x).sum()
        >>> ops["rotation"]                                    # doctest: +SKIP
        10
        """
        before = self._engine.counts.copy()
        counts: dict[str, int] = {}
        try:
            yield counts
        finally:
            counts.update(self._engine.counts - before)

    def placeholder(self, shape: Any) -> EncryptedArray:
        """A symbolic encrypted array of ``shape`` for dry runs (see :meth:`recording`)."""
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
        layout = _core.packing.plan_array(shape, self.slots)
        cts = [self._dry_engine.encrypt(None) for _ in range(layout.n_chunks)]
        return EncryptedArray._make(self, cts, layout, True, self._dry_engine)

    def public(self) -> Context:
        """The compute-side view: public, relinearization and generated evaluation keys only.

        Rotation keys generated on the owner later are not added to this view; make the
        view after ``generate_keys``.
        """
        return self._with_keys(self._keys.view())

    def _check_compatible(self, obj: Any) -> None:
        if not isinstance(obj, Encrypted):
            raise TypeError(f"expected a hetensor encrypted object, got {type(obj).__name__}")
        if obj._ctx._fingerprint != self._fingerprint:
            raise ContextMismatchError(
                "this ciphertext was made under another context (different keys or "
                f"parameters: {obj._ctx.fingerprint[:12]} vs {self.fingerprint[:12]}); "
                "contexts derived from the same owner (public(), deserialize) are compatible"
            )
        if obj.is_symbolic:
            raise TypeError("a symbolic (placeholder) array holds no data")

    # ------------------------------------------------------------------ encrypt / decrypt
    def _checked_values(self, values: Any) -> np.ndarray:
        """``values`` as a float64 array; InvalidDtypeError for non-real dtypes, CapacityError
        for magnitudes the modulus cannot hold (``CKKSParameters.value_limit``)."""
        if isinstance(values, Encrypted):
            raise TypeError("values are already encrypted")
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise InvalidDtypeError(
                f"cannot encrypt an array of dtype {arr.dtype}: CKKS here encrypts real "
                "numbers (integer or floating dtypes)"
            )
        arr = np.asarray(arr, dtype=np.float64, order="C")  # keeps 0-d (ascontiguousarray won't)
        if arr.size:
            p, limit = self._params, self._params.value_limit
            peak = float(np.max(np.abs(arr)))
            if peak >= limit and np.isfinite(peak):
                raise CapacityError(
                    f"values up to {peak:g} in magnitude overflow CKKS with {p.scale_bits}-bit "
                    f"scaling and a {p.first_mod_bits}-bit first modulus (limit {limit:g}); "
                    "standardize the data first"
                )
        return arr

    def encrypt(self, values: Any, *, layout: str = "rowmajor") -> Any:
        """Encrypt an array of real numbers (any shape) as an :class:`EncryptedArray`.

        Parameters
        ----------
        values : array_like of int or float
            Scalars, vectors, matrices, ...: one row of the trailing axes (padded to powers
            of two) must fit :attr:`slots`; larger arrays are split along axis 0 over several
            ciphertexts.
        layout : {"rowmajor", "diagonal"}
            ``"diagonal"`` encrypts a matrix (``2 P^2 <= slots`` for ``P`` its padded size) as
            an :class:`EncryptedMatrix` in the diagonal layout, for fast ``M @ x``.

        Raises
        ------
        InvalidDtypeError
            Complex, boolean, string or object input.
        NonFiniteError
            NaN or infinity in the input.
        CapacityError
            Too large for the slots, or values too large for the modulus.
        """
        arr = self._checked_values(values)
        if arr.size == 0:
            raise ValueError("cannot encrypt an empty array")
        if layout == "diagonal":
            if arr.ndim != 2:
                raise ValueError(f'layout="diagonal" needs a 2-D matrix, got shape {arr.shape}')
            plan = _core.packing.plan_bsgs(max(arr.shape), self.slots)
            ct = self._engine.encrypt(_core.packing.encode_diagonals(arr, plan))
            return EncryptedMatrix._make(self, ct, plan, tuple(arr.shape))
        if layout != "rowmajor":
            raise ValueError(f'layout must be "rowmajor" or "diagonal", got {layout!r}')
        return self._encrypt_in(arr, _core.packing.plan_array(arr.shape, self.slots))

    def _encrypt_in(
        self, values: np.ndarray, layout: Any, *, level: int | None = None, eng: Any = None
    ) -> EncryptedArray:
        """Encrypt ``values`` (of ``layout``'s shape) in ``layout`` (public key only)."""
        eng = self._engine if eng is None else eng
        rows = _core.packing.encode_array(np.ascontiguousarray(values, float), layout)
        return EncryptedArray._make(self, [eng.encrypt(r, level) for r in rows], layout, True, eng)

    def encrypt_vector(self, values: Any) -> Ciphertext:
        """Encrypt a 1-D vector into one replicated :class:`Ciphertext` (low-level).

        The vector is zero padded to a power-of-two block replicated over all slots, so
        ``rotate`` acts cyclically on the block; at most :attr:`slots` elements.
        """
        arr = self._checked_values(values)
        if arr.ndim != 1:
            raise ValueError(f"encrypt_vector takes a 1-D array, got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError("cannot encrypt an empty array")
        layout = _core.packing.plan_vector(arr.shape[0], self.slots)
        slot_values = _core.packing.encode_vector(arr, layout)  # raises NonFiniteError
        return Ciphertext._wrap(self._engine.encrypt(slot_values), self, layout)

    def decrypt(self, obj: Any, *, average: bool = True) -> np.ndarray:
        """Decrypt to a float64 NumPy array (data owner only).

        Parameters
        ----------
        obj : EncryptedArray, EncryptedMatrix or Ciphertext
            Encrypted under this context or one derived from it (same fingerprint).
        average : bool, default True
            Average the replicas of each element, which lowers CKKS noise.
        """
        self._keys.require_secret("decrypt")
        self._check_compatible(obj)
        return obj._decode(np.stack([self._engine.decrypt(ct) for ct in obj._cts]), average)

    def bootstrap(self, obj: Any) -> Any:
        """Refresh levels with CKKS bootstrapping (no secret key needed).

        Values should lie in [-1, 1]: CKKS bootstrapping approximates a modular reduction that
        is only accurate for small messages.

        Raises
        ------
        MissingKeyError
            The context was made without ``bootstrapping=True`` or has no bootstrapping keys.
        CapacityError
            Sparse bootstrapping (``bootstrap_slots``) and an array whose layout does not
            repeat within ``bootstrap_slots`` slots.
        """
        self._check_compatible(obj)
        if not self._keys.bootstrap_ready:
            raise MissingKeyError(
                "bootstrapping keys are missing: create the owner's context with "
                "Context.ckks(..., bootstrapping=True) before calling public()"
            )
        period = obj._period
        return obj._rebuilt(self, [self._engine.bootstrap(ct, period) for ct in obj._cts])

    def check_bootstrappable(self, period: int | None) -> None:
        """Raise CapacityError, before any work, if this context's sparse bootstrapping setup
        (``bootstrap_slots``) cannot take an array whose layout repeats every ``period``
        slots (``None``: unknown period). No-op without a sparse setup; whether bootstrapping
        keys exist is :meth:`bootstrap`'s check."""
        self._engine.sparse_slots(period)

    # ------------------------------------------------------------------ serialization
    def to_bytes(self, obj: Any) -> bytes:
        """Serialize an encrypted object into a checked envelope (:mod:`.serialize`)."""
        self._check_compatible(obj)
        return _wire.object_to_bytes(self, obj)

    def from_bytes(self, data: bytes, *, isolate: bool = False) -> Any:
        """Deserialize an encrypted object made under this context (or a compatible one).

        With ``isolate=True`` (for bytes from untrusted parties) OpenFHE first parses the
        payload in a child process (:mod:`hetensor.he._isolate`), so a payload that would
        crash OpenFHE raises :class:`~hetensor.errors.FormatError` instead.

        Raises
        ------
        FormatError
            Corrupt, truncated or non-ciphertext bytes.
        ContextMismatchError
            The object belongs to another context.
        """
        return _wire.object_from_bytes(self, data, isolate=isolate)

    def receive(self, obj: Any) -> Any:
        """Re-bind an encrypted object to this context, through bytes as over a network."""
        return self.from_bytes(obj.context.to_bytes(obj))

    def serialize(self, *, include_secret: bool = False) -> bytes:
        """Serialize the context with its public and evaluation keys.

        Parameters
        ----------
        include_secret : bool, default False
            Also write the secret key (owner only). Never send that to a server.
        """
        return _wire.context_to_bytes(self, include_secret=include_secret)

    @classmethod
    def deserialize(cls, data: bytes, *, isolate: bool = False) -> Context:
        """Rebuild a context from :meth:`serialize` output.

        The result is an owner context if the bytes hold the secret key, otherwise public.
        ``isolate=True`` parses untrusted bytes in a child process first (see
        :meth:`from_bytes`).
        """
        cc, params, keys, claimed = _wire.context_from_bytes(data, isolate=isolate)
        ctx = cls(_state=(cc, params, keys))
        if ctx._fingerprint != claimed:
            raise FormatError("serialized context is inconsistent: fingerprint mismatch")
        return ctx

    def secret_key_bytes(self) -> bytes:
        """The secret key alone, in a checked envelope of kind ``"secret_key"`` (owner only).

        See :func:`hetensor.io.save_secret_key`; restore with :meth:`with_secret_key`.
        """
        return _wire.secret_key_to_bytes(self)

    def with_secret_key(self, data: bytes, *, isolate: bool = False) -> Context:
        """The owner's context: this (public) context plus the secret key in ``data``.

        Raises
        ------
        ContextMismatchError
            The key belongs to another context.
        FormatError
            Corrupt bytes.

        Example
        -------
        >>> public = Context.deserialize(owner.serialize())           # doctest: +SKIP
        >>> again = public.with_secret_key(owner.secret_key_bytes())  # doctest: +SKIP
        >>> again.role                                                # doctest: +SKIP
        'owner'
        """
        secret = _wire.secret_key_from_bytes(self, data, isolate=isolate)
        return self._with_keys(self._keys.view(secret_key=secret))

    # ------------------------------------------------------------------ reporting
    def key_sizes(self) -> dict[str, int]:
        """Serialized size in bytes of each key this context holds (serializes them)."""
        return _wire.key_sizes(self._keys)

    def info(self) -> dict[str, Any]:
        """Versions, parameters, key sizes and build facts, as a dict.

        Example
        -------
        >>> import hetensor as ht
        >>> ctx = ht.Context.ckks(depth=3)                  # doctest: +SKIP
        >>> ctx.info()["security"]                          # doctest: +SKIP
        '128-bit classic'
        """
        from .._info import build_info

        out = build_info()
        p = self._params
        out.update(
            {
                "role": self.role,
                "scheme": "CKKS (RNS, FLEXIBLEAUTO scaling)",
                "security": f"{p.security}-bit classic" if p.security else "NONE (insecure=True)",
                "ring_dim": p.ring_dim,
                "slots": p.slots,
                "depth": p.depth,
                "total_depth": p.total_depth,
                "levels_fresh": p.usable_depth - p.fresh_level,
                "scale_bits": p.scale_bits,
                "first_mod_bits": p.first_mod_bits,
                "log_q": p.log_q,
                "bootstrapping": p.bootstrapping,
                "level_budget": p.level_budget if p.bootstrapping else None,
                "rotation_keys": sorted(self._keys.rotations),
                "key_sizes": self.key_sizes(),
                "keygen_seconds": round(self.keygen_seconds, 3),
                "fingerprint": self.fingerprint,
            }
        )
        return out

    def decryption_noise(self, obj: Any) -> float:
        """log2 of the noise in ``obj`` on a noise-estimation context (flooding phase 1).

        Returns the largest estimate over the object's ciphertexts; pass it as
        ``noise_estimate`` to :meth:`ckks`.
        """
        self._keys.require_secret("estimate decryption noise")
        _security.check_estimation_phase(self._params)
        self._check_compatible(obj)
        return max(self._engine.noise(ct) for ct in obj._cts)

    def security_report(self) -> dict[str, Any]:
        """The parameters that decide security, with warnings for weak settings.

        Returns
        -------
        dict
            ``ring_dim``, ``log_q`` (bits of the top-level ciphertext modulus), ``log_qp``
            (``None``: openfhe-python does not expose the key-switching modulus P),
            ``max_log_qp`` (largest log QP the HE standard allows at this ring and level),
            ``security_bits`` (claimed by OpenFHE's tables, ``None`` when not enforced),
            ``slots``, ``depth``, ``total_depth``, ``scale_bits``, ``secret_key_dist``,
            ``decryption``, ``role``, and ``warnings`` (list of str).

        Example
        -------
        >>> ctx = ht.Context.ckks(depth=3)                   # doctest: +SKIP
        >>> r = ctx.security_report()                        # doctest: +SKIP
        >>> r["ring_dim"], r["security_bits"], r["warnings"] # doctest: +SKIP
        (16384, 128, ['decryption="standard": ...'])
        """
        return _security.report(self._params, self.role)


class _Recorder:
    """Collects rotation indices during :meth:`Context.recording`; ``plan`` after exit."""

    def __init__(self) -> None:
        self._indices: set[int] = set()
        self.plan: KeyPlan = KeyPlan()

    @property
    def rotations(self) -> frozenset[int]:
        return frozenset(self._indices)
