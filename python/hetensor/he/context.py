"""CKKS contexts with key roles.

A :class:`Context` made by :meth:`Context.ckks` belongs to the data owner: it holds the secret
key and makes any evaluation key on demand. :meth:`Context.public` returns the compute-side
view with the public, relinearization and already generated rotation (and bootstrapping) keys
only. Ciphertexts move between contexts as bytes (:meth:`Context.to_bytes`,
:meth:`Context.from_bytes`, or :meth:`Context.receive` in one process).

Note that OpenFHE keeps evaluation keys in process-wide tables, so within one process the
public view is a role (enforced by hetensor's own bookkeeping); across processes it is the
real separation, because :meth:`Context.serialize` writes the secret key only when asked.

Each of the context's jobs is done in a module of its own: parameter search (``_params``),
keys and roles (``_keys``), ciphertext operations including encryption and decryption
(``_engine``), the wire format (``_wire``, whose :class:`~hetensor.he._wire.WireFormat`
methods Context inherits) and noise flooding with the reports (``_security``, whose
:class:`~hetensor.he._security.Hardening` methods Context inherits). The class itself holds
construction, the properties, keys and roles, dry runs, and encryption and decryption.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .. import _core
from .._validate import check_int, check_ints
from ..errors import (
    ContextMismatchError,
    MissingKeyError,
)
from . import _bounds, _params, _resources, _wire
from ._base import Encrypted
from ._engine import DryEngine, Engine
from ._keys import KeyRing
from ._params import CKKSParameters
from ._resources import ResourceEstimate
from ._security import Hardening
from ._wire import WireFormat
from .array import EncryptedArray
from .ciphertext import Ciphertext
from .keys import KeyPlan
from .matrix import EncryptedMatrix

__all__ = ["CKKSParameters", "Context"]


def _param(name: str, doc: str) -> Any:
    """A read-only property of the context that is the parameter ``name``."""
    return property(lambda self: getattr(self._params, name), doc=doc)


class Context(WireFormat, Hardening):
    """A CKKS context with a key role: data owner (secret key) or compute side (public).

    Create one with :meth:`Context.ckks`; get the compute-side view with :meth:`public`.

    Examples
    --------
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
        secret_key_dist: str = "uniform_ternary",
        memory_limit: float | None = None,
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
            Bits of the first modulus (default 60; 55 for a leveled context where that halves
            the ring): values must stay below ``2**(first_mod_bits - scale_bits - 1)`` in
            magnitude (2^19, or 2^14 with 55 bits, at the default 40-bit scale).
        slots : int, optional
            Slots per ciphertext (power of two); default ``ring_dim / 2``. With bootstrapping,
            fewer slots (sparse packing) make bootstrapping much cheaper.
        security : {128, 192, 256}
            Classical security level. The smallest ring that meets it is searched over the
            key-switching digits (and, leveled with the default first modulus, a 55-bit
            one): at 128-bit and 40-bit scale depth 1 and 2 get ring 2^13 (4096 slots), depth
            3 to 7 ring 2^14, depth 8 to 16 ring 2^15.
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
            chooses, then hetensor tries 2 to 8 (bootstrapping: 3 to 10) and keeps the
            fewest digits that reach the smallest ring (more digits: larger keys, smaller P).
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
        secret_key_dist : {"uniform_ternary", "sparse_encapsulated"}
            The secret's distribution. ``"sparse_encapsulated"`` (OpenFHE 1.6's recommended
            mode for bootstrapping) keeps the uniform ternary secret and switches to a sparse
            one only inside bootstrapping, whose modular reduction then needs fewer levels.
        memory_limit : float, optional
            Bytes the context and its keys may take. Default: 0.9 x the least of the cgroup
            memory limit, the address-space limit (``ulimit -v``) left and the RAM. The
            estimate (:meth:`resources`) is checked before any key is made.

        Returns
        -------
        Context
            The owner's context (holds the secret key).

        Raises
        ------
        ResourceError
            The estimated memory exceeds the budget (the message says what fits).

        Examples
        --------
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
            secret_key_dist=secret_key_dist,
            stacklevel=2,
        )
        est = _resources.estimate(params, digits=params.key_digits)
        budget, _ = _resources.memory_budget(memory_limit)
        _resources.check_budget(
            est.peak_bytes - _resources.process_bytes(),
            f"this context (ring 2^{params.ring_dim.bit_length() - 1}, total depth "
            f"{params.total_depth}"
            + (f", bootstrapping {params.bootstrap_slots} slots" if params.bootstrapping else "")
            + ")",
            memory_limit=memory_limit,
            fixes=lambda: _resources.suggest(params, params.key_digits, budget),
        )
        keys = KeyRing.generate(
            cc, bootstrap_slots=params.bootstrap_slots, level_budget=params.level_budget
        )
        return cls(_state=(cc, params, keys))

    # ------------------------------------------------------------------ properties
    params = property(lambda self: self._params, doc="The CKKS parameters (read-only).")
    ring_dim = _param("ring_dim", "Ring dimension.")
    slots = _param("slots", "Slots per ciphertext.")
    depth = _param("depth", "Multiplicative levels for computations (per bootstrap, if enabled).")
    total_depth = _param("total_depth", "Depth of the modulus chain (bootstrapping's included).")
    bootstrapping = _param("bootstrapping", "Whether the context supports bootstrapping.")
    bootstrap_slots = _param(
        "bootstrap_slots", "Slots bootstrapping is set up for (fewer when sparse; None if off)."
    )
    security = _param("security", "Classical security in bits; None for an insecure context.")
    decryption = _param("decryption", '``"standard"`` or ``"flooding"`` (see :meth:`flooding`).')

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
        self,
        plan: KeyPlan | Iterable[int] = (),
        *,
        rotations: Iterable[int] = (),
        memory_limit: float | None = None,
    ) -> None:
        """Generate the evaluation keys a computation needs (data owner only).

        Parameters
        ----------
        plan : KeyPlan or iterable of int
            A key plan (e.g. ``KeyPlan.for_sum(n)``) or rotation steps.
        rotations : iterable of int
            More rotation steps (any sign). Keys already held are not generated again.
        memory_limit : float, optional
            Bytes the new keys may take (default: the budget of :meth:`ckks`).

        Raises
        ------
        KeyRoleError
            On a public context, which cannot make keys.
        ResourceError
            The new keys' estimated memory exceeds the budget; no key was made.
        """
        self._keys.require_secret("generate evaluation keys")
        wanted = KeyPlan.coerce(plan) | KeyPlan.coerce(rotations)
        indices = {self.normalize_rotation(k) for k in wanted.rotations} - self._keys.rotations
        count = self._keys.new_key_count(indices)
        per_key = self.resources().key_bytes
        _resources.check_budget(
            count * per_key,
            f"generate_keys ({count} new rotation keys of {_resources.format_bytes(per_key)})",
            memory_limit=memory_limit,
            fixes=lambda: _resources.suggest_keys(count, per_key, memory_limit),
        )
        self._keys.generate_rotations(indices)

    def resources(self, plan: KeyPlan | Iterable[int] = ()) -> ResourceEstimate:
        """The estimated memory and key-generation time of this context with its keys and
        those ``plan`` would add (:class:`~hetensor.he.ResourceEstimate`)."""
        held = self._keys.new_key_count(self._keys.rotations)
        wanted = {self.normalize_rotation(k) for k in KeyPlan.coerce(plan).rotations}
        extra = self._keys.new_key_count(wanted - self._keys.rotations)
        est = _resources.estimate(self._params, digits=self._params.key_digits)
        return est.with_rotations(held + extra)

    def normalize_rotation(self, k: int) -> int:
        """The rotation index in ``[0, slots)`` equivalent to rotating by ``k``."""
        return int(_core.packing.normalize_rotation(check_int("k", k), self.slots))

    @contextlib.contextmanager
    def recording(self) -> Iterator[_Recorder]:
        """Record the rotation keys a computation needs, without running it for real.

        Inside the block, arrays made with :meth:`placeholder` compute symbolically (no
        cryptography; levels are tracked and depth errors raised as for real data). Any
        rotation used is recorded; on exit ``recorder.plan`` is the :class:`KeyPlan`.

        Examples
        --------
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

        Examples
        --------
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

    def placeholder(self, shape: Any, *, bound: float = 1.0) -> EncryptedArray:
        """A symbolic encrypted array of ``shape`` for dry runs (see :meth:`recording`).

        ``bound`` is the public bound of the data it stands for (default 1: standardized
        data), so the dry run raises the same :class:`~hetensor.errors.CapacityError` the
        real data would.
        """
        shape = check_ints("shape", (shape,) if isinstance(shape, (int, np.integer)) else shape, 0)
        layout = _core.packing.plan_array(shape, self.slots)
        cts = [self._dry_engine.encrypt(None) for _ in range(layout.n_chunks)]
        b = _bounds.data_bound(np.zeros(0), bound)
        return EncryptedArray._make(self, cts, layout, True, self._dry_engine, bound=b)

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
        return _params.checked_values(self._params, values)

    def encrypt(self, values: Any, *, layout: str = "rowmajor", bound: float | None = None) -> Any:
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
        bound : float, optional
            Public bound on ``|values|`` the result carries (:attr:`EncryptedArray.bound`):
            at least the data's largest magnitude. Default: that magnitude rounded up to a
            power of two. A larger one hides the data's own magnitude from the server.

        Raises
        ------
        InvalidDtypeError
            Complex, boolean, string or object input.
        NonFiniteError
            NaN or infinity in the input.
        CapacityError
            Too large for the slots, or values too large for the modulus.
        ValueError
            ``bound`` below the data's largest magnitude.
        """
        arr = self._checked_values(values)
        if arr.size == 0:
            raise ValueError("cannot encrypt an empty array")
        b = _bounds.data_bound(arr, bound)
        if layout == "diagonal":
            if arr.ndim != 2:
                raise ValueError(f'layout="diagonal" needs a 2-D matrix, got shape {arr.shape}')
            plan = _core.packing.plan_bsgs(max(arr.shape), self.slots)
            ct = self._engine.encrypt(_core.packing.encode_diagonals(arr, plan))
            return EncryptedMatrix._make(self, ct, plan, tuple(arr.shape), bound=b)
        if layout != "rowmajor":
            raise ValueError(f'layout must be "rowmajor" or "diagonal", got {layout!r}')
        return self._encrypt_in(arr, _core.packing.plan_array(arr.shape, self.slots), bound=b)

    def _encrypt_in(
        self,
        values: np.ndarray,
        layout: Any,
        *,
        level: int | None = None,
        eng: Any = None,
        bound: float | None = None,
    ) -> EncryptedArray:
        """Encrypt ``values`` (of ``layout``'s shape) in ``layout`` (public key only); the
        bound defaults to the data's largest magnitude rounded up to a power of two."""
        eng = self._engine if eng is None else eng
        b = _bounds.data_bound(values, bound)
        rows = _core.packing.encode_array(np.ascontiguousarray(values, float), layout)
        cts = [eng.encrypt(r, level) for r in rows]
        return EncryptedArray._make(self, cts, layout, True, eng, bound=b)

    def encrypt_vector(self, values: Any, *, bound: float | None = None) -> Ciphertext:
        """Encrypt a 1-D vector into one replicated :class:`Ciphertext` (low-level).

        The vector is zero padded to a power-of-two block replicated over all slots, so
        ``rotate`` acts cyclically on the block; at most :attr:`slots` elements. ``bound``:
        as in :meth:`encrypt`.
        """
        arr = self._checked_values(values)
        if arr.ndim != 1:
            raise ValueError(f"encrypt_vector takes a 1-D array, got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError("cannot encrypt an empty array")
        layout = _core.packing.plan_vector(arr.shape[0], self.slots)
        slot_values = _core.packing.encode_vector(arr, layout)  # raises NonFiniteError
        b = _bounds.data_bound(arr, bound)
        return Ciphertext._wrap(self._engine.encrypt(slot_values), self, layout, b)

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
        # the values (and the bound) are unchanged, at the level a bootstrap leaves
        _bounds.check(self._params, obj._bound, self._params.fresh_level, "bootstrap")
        return obj._rebuilt(self, [self._engine.bootstrap(ct, period) for ct in obj._cts])

    def check_bootstrappable(self, period: int | None) -> None:
        """Raise CapacityError, before any work, if this context's sparse bootstrapping setup
        (``bootstrap_slots``) cannot take an array whose layout repeats every ``period``
        slots (``None``: unknown period). No-op without a sparse setup; whether bootstrapping
        keys exist is :meth:`bootstrap`'s check."""
        self._engine.sparse_slots(period)


class _Recorder:
    """Collects rotation indices during :meth:`Context.recording`; ``plan`` after exit."""

    def __init__(self) -> None:
        self._indices: set[int] = set()
        self.plan: KeyPlan = KeyPlan()

    @property
    def rotations(self) -> frozenset[int]:
        return frozenset(self._indices)
