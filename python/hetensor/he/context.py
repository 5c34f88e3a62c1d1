"""CKKS contexts with key roles (ARCHITECTURE decision 1).

A :class:`Context` made by :meth:`Context.ckks` belongs to the data owner: it holds the secret
key and makes any evaluation key on demand. :meth:`Context.public` returns the compute-side
view with the public, relinearization and already generated rotation (and bootstrapping) keys
only. Ciphertexts move between contexts as bytes (:meth:`Context.to_bytes`,
:meth:`Context.from_bytes`, or :meth:`Context.receive` in one process).

Note that OpenFHE keeps evaluation keys in process-wide tables, so within one process the
public view is a role (enforced by hetensor's own bookkeeping); across processes it is the
real separation, because :meth:`Context.serialize` writes the secret key only when asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .. import _core
from ..errors import (
    CapacityError,
    ContextMismatchError,
    FormatError,
    InsecureParametersError,
    InsecureParametersWarning,
    InvalidDtypeError,
    KeyRoleError,
    MissingKeyError,
    OpenFHEError,
)
from . import _isolate
from . import serialize as _envelope
from ._backend import openfhe as ofhe
from ._engine import DryEngine, Engine, Symbolic
from .array import EncryptedArray
from .ciphertext import Ciphertext
from .keys import KeyPlan
from .matrix import EncryptedMatrix

__all__ = ["CKKSParameters", "Context"]

_SECURITY_LEVELS = {
    128: "HEStd_128_classic",
    192: "HEStd_192_classic",
    256: "HEStd_256_classic",
}
_DEFAULT_SCALE_BITS = 40  # leveled: ~1e-7 precision on [-1, 1], ring 2^14 up to depth ~7
# 54-bit scaling with a 60-bit first modulus: |values| < 32 at the last level (standardized
# data fit), bootstrapping error ~1e-6 and 4-5 more levels than 59 bits in ring 2^16 (measured)
_BOOTSTRAP_SCALE_BITS = 54
_DEFAULT_FIRST_MOD_BITS = 60
_INSECURE_RING_DIM = 2**12
# tried in order after OpenFHE's default: the fewest digits (smallest keys) that reach the
# smallest ring wins
_BOOTSTRAP_DIGIT_CANDIDATES = (3, 4, 5, 6, 7, 8, 10)


def _binary() -> Any:
    return ofhe.BINARY


@dataclass(frozen=True)
class CKKSParameters:
    """The parameters a :class:`Context` was made with (read-only).

    Attributes
    ----------
    depth : int
        Multiplicative levels available to user computations (after a bootstrap, when
        bootstrapping is on).
    total_depth : int
        Multiplicative depth of the OpenFHE context (``depth`` plus bootstrapping's own levels).
    scale_bits, first_mod_bits : int
        Bits of the scaling factor and of the first RNS modulus.
    slots : int
        Slots per ciphertext (a power of two, at most ``ring_dim / 2``).
    ring_dim : int
        Ring dimension chosen by OpenFHE (or given explicitly).
    security : int or None
        Claimed classical security in bits (128, 192, 256); ``None`` for ``insecure=True``.
    bootstrapping : bool
        Whether the context supports CKKS bootstrapping.
    level_budget : tuple of int
        Levels spent by bootstrapping's CoeffsToSlots and SlotsToCoeffs.
    log_q : int
        Bits of the ciphertext modulus Q at the top level.
    decryption : {"standard", "flooding"}
        Decryption noise mode (``"flooding"``: OpenFHE's NOISE_FLOODING_DECRYPT).
    noise_estimate : float or None
        With ``"flooding"``: log2 of the computation's noise measured in the estimation phase
        (``None``: this is the estimation-phase context).
    bootstrap_slots : int or None
        Slots of the bootstrapping setup: ``slots`` (every array bootstraps) or fewer (sparse:
        only arrays that repeat with a period of at most this many slots); ``None`` without
        bootstrapping.
    """

    depth: int
    total_depth: int
    scale_bits: int
    first_mod_bits: int
    slots: int
    ring_dim: int
    security: int | None
    bootstrapping: bool
    level_budget: tuple[int, int]
    log_q: int
    decryption: str = "standard"
    noise_estimate: float | None = None
    bootstrap_slots: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CKKSParameters:
        data = dict(data)
        data["level_budget"] = tuple(data["level_budget"])
        if data.get("bootstrapping") and data.get("bootstrap_slots") is None:
            data["bootstrap_slots"] = data["slots"]  # written before sparse bootstrapping
        return cls(**data)


def _check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def _openfhe_error(err: Exception, doing: str) -> OpenFHEError:
    text = str(err)
    text = re.sub(r"^\S+\.(cpp|h):l\.\d+:\S+\(\):\s*", "", text)  # drop OpenFHE's source path
    return OpenFHEError(f"OpenFHE failed while {doing}: {text}")


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

    def __init__(self, *, _state: dict[str, Any]) -> None:
        if "cc" not in _state:
            raise TypeError("use Context.ckks(...) or Context.deserialize(...) to make a Context")
        self._cc = _state["cc"]
        self._params: CKKSParameters = _state["params"]
        self._public_key = _state["public_key"]
        self._secret_key = _state.get("secret_key")
        self._rotations: set[int] = set(_state.get("rotations", ()))
        self._bootstrap_ready: bool = bool(_state.get("bootstrap_ready", False))
        self._key_tag: str = self._public_key.GetKeyTag()
        self._fingerprint: bytes = _fingerprint(self._key_tag, self._params)
        self.keygen_seconds: float = float(_state.get("keygen_seconds", 0.0))
        self._recording: set[int] | None = None
        self._engine = Engine(self)
        self._dry_engine = DryEngine(self)

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
        depth = _check_int("depth", depth, 1)
        default_scale = _BOOTSTRAP_SCALE_BITS if bootstrapping else _DEFAULT_SCALE_BITS
        scale_bits = _check_int(
            "scale_bits", default_scale if scale_bits is None else scale_bits, 20, 59
        )
        first_mod_bits = _check_int(
            "first_mod_bits",
            _DEFAULT_FIRST_MOD_BITS if first_mod_bits is None else first_mod_bits,
            scale_bits + 1,
            60,
        )
        if len(tuple(level_budget)) != 2:
            raise ValueError(f"level_budget must be two ints, got {level_budget!r}")
        level_budget = (
            _check_int("level_budget[0]", level_budget[0], 1, 8),
            _check_int("level_budget[1]", level_budget[1], 1, 8),
        )
        if insecure:
            warnings.warn(
                "INSECURE CKKS parameters (insecure=True): no security level is enforced. "
                "Use this for tests only, never for real data.",
                InsecureParametersWarning,
                stacklevel=2,
            )
            ring_dim = _INSECURE_RING_DIM if ring_dim is None else ring_dim
            sec_name = "HEStd_NotSet"
        else:
            if security not in _SECURITY_LEVELS:
                raise ValueError(f"security must be one of 128, 192, 256; got {security!r}")
            sec_name = _SECURITY_LEVELS[security]
        if ring_dim is not None:
            ring_dim = _check_int("ring_dim", ring_dim, 16)
            if ring_dim & (ring_dim - 1):
                raise ValueError(f"ring_dim must be a power of two, got {ring_dim}")
        if num_large_digits is not None:
            num_large_digits = _check_int("num_large_digits", num_large_digits, 1, 32)
        if slots is not None:
            slots = _check_int("slots", slots, 1)
            if slots & (slots - 1):
                raise ValueError(f"slots must be a power of two, got {slots}")
        if bootstrap_slots is not None:
            if not bootstrapping:
                raise ValueError("bootstrap_slots needs bootstrapping=True")
            bootstrap_slots = _check_int("bootstrap_slots", bootstrap_slots, 1)
            if bootstrap_slots & (bootstrap_slots - 1):
                raise ValueError(f"bootstrap_slots must be a power of two, got {bootstrap_slots}")

        key_dist = ofhe.SecretKeyDist.UNIFORM_TERNARY
        total_depth = depth
        if bootstrapping:
            # + bootstrapping's own levels, + 1: OpenFHE must rescale a FLEXIBLEAUTO ciphertext
            # once before bootstrapping it, so the last level is never usable.
            boot_levels = ofhe.CryptoContext.GetBootstrapDepth(list(level_budget), key_dist)
            total_depth += int(boot_levels) + 1

        def make_params(num_digits: int | None) -> Any:
            p = ofhe.CCParamsCKKSRNS()
            p.SetMultiplicativeDepth(total_depth)
            p.SetScalingModSize(scale_bits)
            p.SetFirstModSize(first_mod_bits)
            p.SetScalingTechnique(ofhe.ScalingTechnique.FLEXIBLEAUTO)
            p.SetSecurityLevel(getattr(ofhe.SecurityLevel, sec_name))
            p.SetSecretKeyDist(key_dist)
            if ring_dim is not None:
                p.SetRingDim(ring_dim)
            if slots is not None:
                p.SetBatchSize(slots)
            if num_digits is not None:
                p.SetNumLargeDigits(num_digits)
            _set_decryption_mode(p, decryption, noise_estimate, bootstrapping)
            return p

        t0 = time.perf_counter()
        try:
            cc = ofhe.GenCryptoContext(make_params(num_large_digits))
            if bootstrapping and num_large_digits is None and ring_dim is None:
                # Deep bootstrapping chains: more key-switching digits shrink the special
                # modulus P, which can halve the ring OpenFHE needs (e.g. 2^17 -> 2^16 at
                # total depth 23, 128-bit). A smaller ring is far cheaper; keep the smallest.
                for digits in _BOOTSTRAP_DIGIT_CANDIDATES:
                    try:
                        trial = ofhe.GenCryptoContext(make_params(digits))
                    except RuntimeError:  # the towers do not split into this many digits
                        continue
                    if trial.GetRingDimension() < cc.GetRingDimension():
                        cc = trial
        except RuntimeError as err:
            text = str(err)
            if "does not comply" in text:
                wanted = re.findall(r"\((\d+)\)", text)
                need = f" (OpenFHE needs {wanted[-1]})" if wanted else ""
                raise InsecureParametersError(
                    f"ring_dim={ring_dim} is below what {security}-bit security needs for "
                    f"total depth {total_depth} and {scale_bits}-bit scaling{need}. Omit "
                    "ring_dim to let OpenFHE choose, or pass insecure=True (tests only)."
                ) from err
            if "batch size" in text:
                bound = f"{ring_dim // 2}" if ring_dim else "half the ring dimension"
                raise CapacityError(
                    f"slots={slots} does not fit the ring: at most {bound} slots"
                ) from err
            raise _openfhe_error(err, "creating the CKKS context") from err
        features = [
            ofhe.PKESchemeFeature.PKE,
            ofhe.PKESchemeFeature.KEYSWITCH,
            ofhe.PKESchemeFeature.LEVELEDSHE,
            ofhe.PKESchemeFeature.ADVANCEDSHE,
        ]
        if bootstrapping:
            features.append(ofhe.PKESchemeFeature.FHE)
        for feature in features:
            cc.Enable(feature)

        n_ring = int(cc.GetRingDimension())
        batch = int(cc.GetEncodingParams().GetBatchSize()) or n_ring // 2
        if slots is not None and batch != slots:
            raise CapacityError(
                f"slots={slots} does not fit ring dimension {n_ring} (at most {n_ring // 2} slots)"
            )
        if bootstrap_slots is not None and bootstrap_slots > batch:
            raise CapacityError(
                f"bootstrap_slots={bootstrap_slots} exceeds the context's {batch} slots"
            )
        boot_slots = (bootstrap_slots or batch) if bootstrapping else None
        params = CKKSParameters(
            depth=depth,
            total_depth=total_depth,
            scale_bits=_actual_scale_bits(cc, scale_bits, decryption),
            first_mod_bits=first_mod_bits,
            slots=batch,
            ring_dim=n_ring,
            security=None if insecure else int(security),
            bootstrapping=bool(bootstrapping),
            level_budget=level_budget,
            log_q=int(cc.GetElementParams().GetModulus()).bit_length(),
            bootstrap_slots=boot_slots,
            **_decryption_fields(cc, decryption, noise_estimate),
        )
        try:
            keys = cc.KeyGen()
            cc.EvalMultKeyGen(keys.secretKey)
            if bootstrapping:
                cc.EvalBootstrapSetup(list(level_budget), [0, 0], boot_slots)
                cc.EvalBootstrapKeyGen(keys.secretKey, boot_slots)
        except RuntimeError as err:
            raise _openfhe_error(err, "generating keys") from err
        return cls(
            _state={
                "cc": cc,
                "params": params,
                "public_key": keys.publicKey,
                "secret_key": keys.secretKey,
                "bootstrap_ready": bootstrapping,
                "keygen_seconds": time.perf_counter() - t0,
            }
        )

    # ------------------------------------------------------------------ properties
    @property
    def _usable_depth(self) -> int:
        """Levels a ciphertext may use: with bootstrapping the last one is reserved."""
        p = self._params
        return p.total_depth - 1 if p.bootstrapping else p.total_depth

    @property
    def _fresh_level(self) -> int:
        # With bootstrapping, fresh ciphertexts start where a bootstrap leaves them: `depth`
        # levels below the top, so operations are cheaper and `depth` means the same always.
        return self._usable_depth - self._params.depth

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
    def security(self) -> int | None:
        """Claimed classical security in bits; ``None`` for an insecure test context."""
        return self._params.security

    @property
    def has_secret_key(self) -> bool:
        """True for the data owner's context, False for a compute-side (public) one."""
        return self._secret_key is not None

    @property
    def role(self) -> str:
        """``"owner"`` (holds the secret key) or ``"public"`` (compute side)."""
        return "owner" if self.has_secret_key else "public"

    @property
    def rotation_keys(self) -> frozenset[int]:
        """Rotation indices (in ``[0, slots)``) whose keys this context holds."""
        return frozenset(self._rotations)

    @property
    def has_bootstrap_keys(self) -> bool:
        return self._bootstrap_ready

    @property
    def bootstrap_slots(self) -> int | None:
        """Slots bootstrapping is set up for (``slots``, fewer when sparse, ``None`` if off)."""
        return self._params.bootstrap_slots

    @property
    def _auto_bootstrap(self) -> bool:
        """Whether operations may bootstrap any operand on their own (full-slot setup)."""
        return self._bootstrap_ready and self._params.bootstrap_slots == self._params.slots

    @property
    def fingerprint(self) -> str:
        """Hex id of the keys and parameters; equal for an owner and its public views."""
        return self._fingerprint.hex()

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
    def _require_secret(self, action: str) -> Any:
        if self._secret_key is None:
            raise KeyRoleError(
                f"cannot {action} on a public (compute-side) context: it holds no secret key. "
                "Only the data owner's context can."
            )
        return self._secret_key

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
        sk = self._require_secret("generate evaluation keys")
        wanted = KeyPlan.coerce(plan) | KeyPlan.coerce(rotations)
        new = sorted({self.normalize_rotation(k) for k in wanted.rotations} - self._rotations - {0})
        if not new:
            return
        t0 = time.perf_counter()
        try:
            self._cc.EvalRotateKeyGen(sk, new)
        except RuntimeError as err:
            raise _openfhe_error(err, f"generating rotation keys {new}") from err
        self.keygen_seconds += time.perf_counter() - t0
        self._rotations.update(new)

    def normalize_rotation(self, k: int) -> int:
        """The rotation index in ``[0, slots)`` equivalent to rotating by ``k``."""
        return int(_core.packing.normalize_rotation(int(k), self.slots))

    def _rotation_key(self, k: int, *, dry: bool = False) -> int:
        """Index for rotating by k. Records it while :meth:`recording`; generates a missing
        key on the owner; raises MissingKeyError on a public context (not in dry runs)."""
        idx = self.normalize_rotation(k)
        if self._recording is not None and idx:
            self._recording.add(idx)
        if dry or not idx or idx in self._rotations:
            return idx
        if self._secret_key is None:
            raise MissingKeyError(
                f"no rotation key for step {k} (index {idx}) on this public context. "
                f"On the owner, call owner.generate_keys(rotations=[{k}]) (or pass the "
                "computation's KeyPlan, e.g. from owner.recording()) before owner.public()."
            )
        self.generate_keys(rotations=[idx])
        return idx

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
        if self._recording is not None:
            raise RuntimeError("this context is already recording")
        recorder = _Recorder()
        self._recording = recorder._indices
        try:
            yield recorder
        finally:
            self._recording = None
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
        cts = [Symbolic(self._fresh_level) for _ in range(layout.n_chunks)]
        return EncryptedArray._make(self, cts, layout, True, self._dry_engine)

    def public(self) -> Context:
        """The compute-side view: public, relinearization and generated evaluation keys only.

        Rotation keys generated on the owner later are not added to this view; make the
        view after ``generate_keys``.
        """
        return Context(
            _state={
                "cc": self._cc,
                "params": self._params,
                "public_key": self._public_key,
                "rotations": set(self._rotations),
                "bootstrap_ready": self._bootstrap_ready,
            }
        )

    def _check_compatible(self, obj: Any) -> None:
        if not isinstance(obj, _ENCRYPTED_TYPES):
            raise TypeError(f"expected a hetensor encrypted object, got {type(obj).__name__}")
        if obj._ctx._fingerprint != self._fingerprint:
            raise ContextMismatchError(
                "this ciphertext was made under another context (different keys or "
                f"parameters: {obj._ctx.fingerprint[:12]} vs {self.fingerprint[:12]}); "
                "contexts derived from the same owner (public(), deserialize) are compatible"
            )
        if isinstance(obj, EncryptedArray) and obj._eng.dry:
            raise TypeError("a symbolic (placeholder) array holds no data")

    # ------------------------------------------------------------------ encrypt / decrypt
    def _checked_values(self, values: Any) -> np.ndarray:
        arr = _as_real_array(values)
        if arr.size:
            limit = 2.0 ** (self._params.first_mod_bits - self._params.scale_bits - 1)
            peak = float(np.max(np.abs(arr)))
            if peak >= limit and np.isfinite(peak):
                raise CapacityError(
                    f"values up to {peak:g} in magnitude overflow CKKS with "
                    f"{self._params.scale_bits}-bit scaling and a "
                    f"{self._params.first_mod_bits}-bit first modulus (limit {limit:g}); "
                    "standardize the data first"
                )
        return arr

    def _encrypt_slots(self, slot_values: np.ndarray, level: int | None = None) -> Any:
        """Encrypt a slot vector at ``level`` (default: where fresh ciphertexts start; 0 is
        the top of the modulus chain, above a bootstrapping context's usual start)."""
        try:
            pt = self._make_plaintext(slot_values, self._fresh_level if level is None else level)
            return self._cc.Encrypt(self._public_key, pt)
        except RuntimeError as err:
            raise _openfhe_error(err, "encrypting") from err

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
            ct = self._encrypt_slots(_core.packing.encode_diagonals(arr, plan))
            return EncryptedMatrix._make(self, ct, plan, tuple(arr.shape))
        if layout != "rowmajor":
            raise ValueError(f'layout must be "rowmajor" or "diagonal", got {layout!r}')
        lay = _core.packing.plan_array(arr.shape, self.slots)
        slot_values = _core.packing.encode_array(arr, lay)  # raises NonFiniteError
        return EncryptedArray._make(
            self, [self._encrypt_slots(row) for row in slot_values], lay, True
        )

    def _encrypt_like(self, values: np.ndarray, like: EncryptedArray) -> EncryptedArray:
        """Encrypt ``values`` (of like's shape) in like's layout (public key only)."""
        if like._eng.dry:
            cts = [Symbolic(self._fresh_level) for _ in like._cts]
            return EncryptedArray._make(self, cts, like._layout, True, like._eng)
        slot_values = _core.packing.encode_array(np.ascontiguousarray(values, float), like._layout)
        return EncryptedArray._make(
            self, [self._encrypt_slots(r) for r in slot_values], like._layout, True
        )

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
        return Ciphertext._wrap(self._encrypt_slots(slot_values), self, layout)

    def _make_plaintext(self, slot_values: np.ndarray, level: int) -> Any:
        """Encode a full slot vector at ``level``.

        Magnitudes below CKKS precision (``2**-scale_bits``) are set to zero first: they
        encode as nothing anyway, and OpenFHE rejects a vector whose largest magnitude times
        the scale is below 1 ("Scaling factor too small"; e.g. ``[1e-18]`` at 40 bits).
        """
        tiny = 2.0**-self._params.scale_bits
        slot_values = np.where(np.abs(slot_values) < tiny, 0.0, slot_values)
        return self._cc.MakeCKKSPackedPlaintext(slot_values.tolist(), 1, level, None, self.slots)

    def _decrypt_slots(self, ct: Any) -> np.ndarray:
        sk = self._require_secret("decrypt")
        self._refuse_estimation_phase()
        try:
            pt = self._cc.Decrypt(ct, sk)
            pt.SetLength(self.slots)
            return np.asarray(pt.GetRealPackedValue(), dtype=np.float64)
        except RuntimeError as err:
            raise _openfhe_error(
                err,
                "decrypting (the result lost its precision: values too large for the scale, "
                "or more levels used than the context's depth)",
            ) from err

    def decrypt(self, obj: Any, *, average: bool = True) -> np.ndarray:
        """Decrypt to a float64 NumPy array (data owner only).

        Parameters
        ----------
        obj : EncryptedArray, EncryptedMatrix or Ciphertext
            Encrypted under this context or one derived from it (same fingerprint).
        average : bool, default True
            Average the replicas of each element, which lowers CKKS noise.
        """
        self._require_secret("decrypt")
        self._check_compatible(obj)
        if isinstance(obj, Ciphertext):
            return _core.packing.decode_vector(self._decrypt_slots(obj._ct), obj._layout, average)
        if isinstance(obj, EncryptedMatrix):
            rows, cols = obj.shape
            return _core.packing.decode_diagonals(
                self._decrypt_slots(obj._ct), obj._plan, rows, cols
            )
        slot_values = np.stack([self._decrypt_slots(ct) for ct in obj._cts])
        return _core.packing.decode_array(slot_values, obj._layout, average).reshape(obj.shape)

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
        if not self._bootstrap_ready:
            raise MissingKeyError(
                "bootstrapping keys are missing: create the owner's context with "
                "Context.ckks(..., bootstrapping=True) before calling public()"
            )
        eng = self._engine
        if isinstance(obj, Ciphertext):
            ct = eng.bootstrap(obj._ct, period=int(obj._layout.period))
            return Ciphertext._wrap(ct, self, obj._layout)
        if isinstance(obj, EncryptedMatrix):
            return EncryptedMatrix._make(self, eng.bootstrap(obj._ct), obj._plan, obj.shape)
        period = int(obj._layout.period)
        return EncryptedArray._make(
            self, [eng.bootstrap(ct, period=period) for ct in obj._cts], obj._layout, obj._clean
        )

    # ------------------------------------------------------------------ serialization
    def to_bytes(self, obj: Any) -> bytes:
        """Serialize an encrypted object into a checked envelope (:mod:`.serialize`)."""
        self._check_compatible(obj)
        if isinstance(obj, Ciphertext):
            lay = obj._layout
            kind, cts = "ciphertext", [obj._ct]
            meta: dict[str, Any] = {"layout": [lay.length, lay.period, lay.copies, lay.slots]}
        elif isinstance(obj, EncryptedMatrix):
            kind, cts = "matrix", [obj._ct]
            meta = {"shape": list(obj.shape)}
        else:
            kind, cts = "array", list(obj._cts)
            meta = {
                "layout": [
                    list(x) if isinstance(x, tuple) else x for x in obj._layout.__getstate__()
                ],
                "clean": obj._clean,
            }
        sections = {"meta": json.dumps(meta).encode()}
        try:
            for i, ct in enumerate(cts):
                sections[f"ct{i}"] = ofhe.Serialize(ct, _binary())
        except RuntimeError as err:
            raise _openfhe_error(err, "serializing a ciphertext") from err
        return _envelope.pack(kind, self._fingerprint, sections)

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
        kind = _envelope.peek_kind(data)
        if kind not in ("ciphertext", "array", "matrix"):
            raise FormatError(f"expected serialized ciphertext, array or matrix, got {kind}")
        _, sections = _envelope.unpack(data, kind, self._fingerprint)
        if isolate:
            _isolate.check_untrusted(data, self)
        try:
            meta = json.loads(sections["meta"])
            n_cts = sum(1 for name in sections if name.startswith("ct"))
            cts = [
                ofhe.DeserializeCiphertextString(sections[f"ct{i}"], _binary())
                for i in range(n_cts)
            ]
            if not cts:
                raise ValueError("no ciphertext in the data")
            if kind == "ciphertext":
                layout = _core.packing.VectorLayout(*meta["layout"])
                ok_slots = layout.slots == self.slots
            elif kind == "matrix":
                shape = tuple(int(d) for d in meta["shape"])
                plan = _core.packing.plan_bsgs(max(shape), self.slots)
                ok_slots = True
            else:
                layout = _core.packing.ArrayLayout(*meta["layout"])
                ok_slots = layout.slots == self.slots and layout.n_chunks == len(cts)
            if not ok_slots:
                raise ValueError("slot count or chunking differs from the context's")
            for ct in cts:
                self._check_ct_structure(ct)
        except _PARSE_ERRORS as err:
            raise FormatError(f"corrupt serialized {kind}: {err}") from err
        if any(ct.GetKeyTag() != self._key_tag for ct in cts):
            raise ContextMismatchError("ciphertext was encrypted under another key")
        if kind == "ciphertext":
            return Ciphertext._wrap(cts[0], self, layout)
        if kind == "matrix":
            return EncryptedMatrix._make(self, cts[0], plan, shape)
        return EncryptedArray._make(self, cts, layout, bool(meta.get("clean", False)))

    def receive(self, obj: Any) -> Any:
        """Re-bind an encrypted object to this context, through bytes as over a network."""
        return self.from_bytes(obj._ctx.to_bytes(obj))

    def serialize(self, *, include_secret: bool = False) -> bytes:
        """Serialize the context with its public and evaluation keys.

        Parameters
        ----------
        include_secret : bool, default False
            Also write the secret key (owner only). Never send that to a server.
        """
        sections: dict[str, bytes] = {}
        meta = {
            "params": self._params.to_json(),
            "rotations": sorted(self._rotations),
            "bootstrap_ready": self._bootstrap_ready,
            "hetensor": _core.__version__,
            "openfhe": getattr(ofhe, "__version__", "unknown"),
        }
        sections["meta"] = json.dumps(meta).encode()
        try:
            sections["cryptocontext"] = ofhe.Serialize(self._cc, _binary())
            sections["public_key"] = ofhe.Serialize(self._public_key, _binary())
            sections["mult_key"] = ofhe.SerializeEvalMultKeyString(_binary(), self._key_tag)
            if self._rotations or self._bootstrap_ready:
                sections["rotation_keys"] = ofhe.SerializeEvalAutomorphismKeyString(
                    _binary(), self._key_tag
                )
            if include_secret:
                sk = self._require_secret("serialize the secret key")
                sections["secret_key"] = ofhe.Serialize(sk, _binary())
        except RuntimeError as err:
            raise _openfhe_error(err, "serializing the context") from err
        return _envelope.pack("context", self._fingerprint, sections)

    @classmethod
    def deserialize(cls, data: bytes, *, isolate: bool = False) -> Context:
        """Rebuild a context from :meth:`serialize` output.

        The result is an owner context if the bytes hold the secret key, otherwise public.
        ``isolate=True`` parses untrusted bytes in a child process first (see
        :meth:`from_bytes`).
        """
        fingerprint, sections = _envelope.unpack(data, "context")
        if isolate:
            _isolate.check_untrusted(data)
        try:
            meta = json.loads(sections["meta"])
            params = CKKSParameters.from_json(meta["params"])
            cc = ofhe.DeserializeCryptoContextString(sections["cryptocontext"], _binary())
            public_key = ofhe.DeserializePublicKeyString(sections["public_key"], _binary())
            # OpenFHE keeps evaluation keys in process-wide tables keyed by the key tag; in the
            # process that made them (or loaded them before) they are already there.
            if public_key.GetKeyTag() not in cc.GetAllEvalMultKeys():
                ofhe.DeserializeEvalMultKeyString(sections["mult_key"], _binary())
            if "rotation_keys" in sections:
                ofhe.DeserializeEvalAutomorphismKeyString(sections["rotation_keys"], _binary())
            secret_key = None
            if "secret_key" in sections:
                secret_key = ofhe.DeserializePrivateKeyString(sections["secret_key"], _binary())
            if params.bootstrapping and meta.get("bootstrap_ready"):
                cc.Enable(ofhe.PKESchemeFeature.FHE)
                cc.EvalBootstrapSetup(
                    list(params.level_budget), [0, 0], params.bootstrap_slots or params.slots
                )
        except _PARSE_ERRORS as err:
            raise FormatError(f"corrupt serialized context: {err}") from err
        ctx = cls(
            _state={
                "cc": cc,
                "params": params,
                "public_key": public_key,
                "secret_key": secret_key,
                "rotations": set(meta.get("rotations", ())),
                "bootstrap_ready": bool(meta.get("bootstrap_ready")),
            }
        )
        if ctx._fingerprint != fingerprint:
            raise FormatError("serialized context is inconsistent: fingerprint mismatch")
        return ctx

    # ------------------------------------------------------------------ reporting
    def key_sizes(self) -> dict[str, int]:
        """Serialized size in bytes of each key this context holds (serializes them)."""
        b = _binary()
        sizes = {
            "public_key": len(ofhe.Serialize(self._public_key, b)),
            "relinearization_key": len(ofhe.SerializeEvalMultKeyString(b, self._key_tag)),
        }
        if self._rotations or self._bootstrap_ready:
            sizes["rotation_keys"] = len(ofhe.SerializeEvalAutomorphismKeyString(b, self._key_tag))
        if self._secret_key is not None:
            sizes["secret_key"] = len(ofhe.Serialize(self._secret_key, b))
        return sizes

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
                "levels_fresh": self._usable_depth - self._fresh_level,
                "scale_bits": p.scale_bits,
                "first_mod_bits": p.first_mod_bits,
                "log_q": p.log_q,
                "bootstrapping": p.bootstrapping,
                "level_budget": p.level_budget if p.bootstrapping else None,
                "rotation_keys": sorted(self._rotations),
                "key_sizes": self.key_sizes(),
                "keygen_seconds": round(self.keygen_seconds, 3),
                "fingerprint": self.fingerprint,
            }
        )
        return out

    # ------------------------------------------------------------------ persistence and hardening
    # (issue 9: secret-key files, structural checks of parsed bytes, flooding, security report)
    def secret_key_bytes(self) -> bytes:
        """The secret key alone, in a checked envelope of kind ``"secret_key"`` (owner only).

        See :func:`hetensor.io.save_secret_key`; restore with :meth:`with_secret_key`.
        """
        sk = self._require_secret("serialize the secret key")
        try:
            payload = ofhe.Serialize(sk, _binary())
        except RuntimeError as err:
            raise _openfhe_error(err, "serializing the secret key") from err
        return _envelope.pack("secret_key", self._fingerprint, {"secret_key": payload})

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
        _, sections = _envelope.unpack(data, "secret_key", self._fingerprint)
        if isolate:
            _isolate.check_untrusted(data)
        try:
            sk = ofhe.DeserializePrivateKeyString(sections["secret_key"], _binary())
        except _PARSE_ERRORS as err:
            raise FormatError(f"corrupt serialized secret key: {err}") from err
        if sk.GetKeyTag() != self._key_tag:
            raise ContextMismatchError("this secret key belongs to another context")
        return Context(
            _state={
                "cc": self._cc,
                "params": self._params,
                "public_key": self._public_key,
                "secret_key": sk,
                "rotations": set(self._rotations),
                "bootstrap_ready": self._bootstrap_ready,
            }
        )

    def _check_ct_structure(self, ct: Any) -> None:
        """Reject parsed ciphertexts that do not fit this context (raise ValueError)."""
        n_elems = int(ct.NumberCiphertextElements())
        level = int(ct.GetLevel())
        if n_elems != 2:
            raise ValueError(f"ciphertext has {n_elems} elements (expected 2, relinearized)")
        if not 0 <= level <= self._params.total_depth:
            raise ValueError(f"ciphertext level {level} outside [0, {self._params.total_depth}]")
        if int(ct.GetSlots()) != self.slots:
            raise ValueError(f"ciphertext has {ct.GetSlots()} slots, context {self.slots}")
        deg = int(ct.GetNoiseScaleDeg())
        if not 1 <= deg <= 2:
            raise ValueError(f"ciphertext scale degree {deg} is invalid")
        scale = float(ct.GetScalingFactor())
        if not np.isfinite(scale) or not 2.0**10 < scale < 2.0 ** (2 * 61):
            raise ValueError(f"ciphertext scaling factor {scale:g} is invalid")

    @property
    def decryption(self) -> str:
        """``"standard"`` or ``"flooding"`` (see :meth:`flooding`)."""
        return self._params.decryption

    def _refuse_estimation_phase(self) -> None:
        p = self._params
        if p.decryption == "flooding" and p.noise_estimate is None:
            raise KeyRoleError(
                "this is a noise-estimation context (decryption='flooding' without "
                "noise_estimate): its decryptions yield noise, not values. Use "
                "decryption_noise(result), then Context.ckks(..., decryption='flooding', "
                "noise_estimate=...) for the real run (or Context.flooding)."
            )

    def decryption_noise(self, obj: Any) -> float:
        """log2 of the noise in ``obj`` on a noise-estimation context (flooding phase 1).

        Returns the largest estimate over the object's ciphertexts; pass it as
        ``noise_estimate`` to :meth:`ckks`.
        """
        sk = self._require_secret("estimate decryption noise")
        p = self._params
        if p.decryption != "flooding" or p.noise_estimate is not None:
            raise ValueError(
                "decryption_noise needs an estimation-phase context: "
                "Context.ckks(..., decryption='flooding') without noise_estimate"
            )
        self._check_compatible(obj)
        cts = obj._cts if isinstance(obj, EncryptedArray) else [obj._ct]
        try:
            return max(float(self._cc.Decrypt(ct, sk).GetLogError()) for ct in cts)
        except RuntimeError as err:
            raise _openfhe_error(err, "estimating the decryption noise") from err

    @classmethod
    def flooding(
        cls, computation: Any, depth: int = 3, *, margin_bits: float = 1.0, **kwargs: Any
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
        for key in ("decryption", "noise_estimate"):
            if key in kwargs:
                raise TypeError(f"Context.flooding sets {key} itself")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureParametersWarning)
            estimator = cls.ckks(depth, decryption="flooding", **kwargs)
        noise = estimator.decryption_noise(computation(estimator))
        kwargs.setdefault("ring_dim", estimator.ring_dim)  # both phases need the same ring
        if kwargs.get("insecure"):
            warnings.warn(
                "INSECURE CKKS parameters (insecure=True) for the flooding context.",
                InsecureParametersWarning,
                stacklevel=2,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureParametersWarning)
            return cls.ckks(
                depth, decryption="flooding", noise_estimate=noise + margin_bits, **kwargs
            )

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
        p = self._params
        level = p.security or 128
        bound = _HE_STANDARD_MAX_LOG_QP.get(level, {}).get(p.ring_dim)
        warn: list[str] = []
        if p.security is None:
            warn.append(
                "INSECURE: created with insecure=True, no security level enforced"
                + (
                    f"; ring {p.ring_dim} with log Q {p.log_q} exceeds the 128-bit bound {bound}"
                    if bound is not None and p.log_q > bound
                    else ""
                )
                + ". Tests only."
            )
            if bound is None:
                warn.append(f"ring dimension {p.ring_dim} is below every HE-standard table")
        if p.decryption == "standard":
            warn.append(
                'decryption="standard": CKKS decryptions leak information about the secret '
                "key (Li-Micciancio, IND-CPA^D); do not share decrypted results with parties "
                'who saw the ciphertexts, or use decryption="flooding"'
            )
        elif p.noise_estimate is None:
            warn.append("noise-estimation phase context: decryption yields noise only")
        if self.has_secret_key:
            warn.append("this context holds the secret key: never send it to a server")
        return {
            "ring_dim": p.ring_dim,
            "log_q": p.log_q,
            "log_qp": None,
            "max_log_qp": bound,
            "security_bits": p.security,
            "slots": p.slots,
            "depth": p.depth,
            "total_depth": p.total_depth,
            "scale_bits": p.scale_bits,
            "first_mod_bits": p.first_mod_bits,
            "secret_key_dist": "uniform ternary",
            "decryption": p.decryption,
            "noise_estimate": p.noise_estimate,
            "bootstrapping": p.bootstrapping,
            "role": self.role,
            "warnings": warn,
        }


# ---------------------------------------------------------------------- issue 9 helpers
# Exceptions OpenFHE's Python bindings raise on bad bytes (pybind11 maps bad_alloc to
# MemoryError, out_of_range to IndexError, ...): all become FormatError on parse.
_PARSE_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    RuntimeError,
    MemoryError,
    IndexError,
    OverflowError,
    AttributeError,
)

# Largest log2(QP) for uniform ternary secrets, HomomorphicEncryption.org standard tables
# (as used by OpenFHE's HEStd_*_classic), by security level and ring dimension.
_HE_STANDARD_MAX_LOG_QP = {
    128: {
        1024: 27,
        2048: 54,
        4096: 109,
        8192: 218,
        16384: 438,
        32768: 881,
        65536: 1761,
        131072: 3524,
    },
    192: {
        1024: 19,
        2048: 37,
        4096: 75,
        8192: 152,
        16384: 305,
        32768: 611,
        65536: 1228,
        131072: 2457,
    },
    256: {
        1024: 14,
        2048: 29,
        4096: 58,
        8192: 118,
        16384: 237,
        32768: 476,
        65536: 956,
        131072: 1915,
    },
}


def _set_decryption_mode(
    p: Any, decryption: str, noise_estimate: float | None, bootstrapping: bool
) -> None:
    """Configure OpenFHE's decryption noise mode on CCParamsCKKSRNS ``p``."""
    if decryption == "standard":
        if noise_estimate is not None:
            raise ValueError('noise_estimate only applies to decryption="flooding"')
        return
    if decryption != "flooding":
        raise ValueError(f'decryption must be "standard" or "flooding", got {decryption!r}')
    if bootstrapping:
        raise ValueError(
            'decryption="flooding" does not support bootstrapping (OpenFHE 1.x limitation)'
        )
    p.SetDecryptionNoiseMode(ofhe.DecryptionNoiseMode.NOISE_FLOODING_DECRYPT)
    if noise_estimate is None:
        p.SetExecutionMode(ofhe.ExecutionMode.EXEC_NOISE_ESTIMATION)
        return
    if isinstance(noise_estimate, bool) or not isinstance(noise_estimate, (int, float)):
        raise TypeError(f"noise_estimate must be a float, got {type(noise_estimate).__name__}")
    if not np.isfinite(noise_estimate) or not 0 < noise_estimate < 60:
        raise ValueError(f"noise_estimate must be log2 of a noise in (0, 60), got {noise_estimate}")
    p.SetExecutionMode(ofhe.ExecutionMode.EXEC_EVALUATION)
    p.SetNoiseEstimate(float(noise_estimate))


def _decryption_fields(cc: Any, decryption: str, noise_estimate: float | None) -> dict[str, Any]:
    """CKKSParameters fields for the decryption mode (none for the default)."""
    if decryption == "standard":
        return {}
    return {"decryption": decryption, "noise_estimate": noise_estimate}


def _actual_scale_bits(cc: Any, requested: int, decryption: str) -> int:
    """In flooding mode OpenFHE (64-bit) picks the scaling factor itself (2^59): record it."""
    if decryption == "standard":
        return requested
    return round(math.log2(float(cc.GetScalingFactorReal(0))))


def _fingerprint(key_tag: str, params: CKKSParameters) -> bytes:
    fields = params.to_json()
    if fields["decryption"] == "standard":  # keep fingerprints of older contexts unchanged
        del fields["decryption"], fields["noise_estimate"]
    text = json.dumps({"key": key_tag, "params": fields}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=_envelope.FINGERPRINT_BYTES).digest()


def _as_real_array(values: Any) -> np.ndarray:
    if isinstance(values, _ENCRYPTED_TYPES):
        raise TypeError("values are already encrypted")
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise InvalidDtypeError(
            f"cannot encrypt an array of dtype {arr.dtype}: CKKS here encrypts real numbers "
            "(integer or floating dtypes)"
        )
    return np.asarray(arr, dtype=np.float64, order="C")  # keeps 0-d (ascontiguousarray would not)


class _Recorder:
    """Collects rotation indices during :meth:`Context.recording`; ``plan`` after exit."""

    def __init__(self) -> None:
        self._indices: set[int] = set()
        self.plan: KeyPlan = KeyPlan()

    @property
    def rotations(self) -> frozenset[int]:
        return frozenset(self._indices)


_ENCRYPTED_TYPES = (Ciphertext, EncryptedArray, EncryptedMatrix)
