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

import hashlib
import json
import re
import time
import warnings
from collections.abc import Iterable
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
from . import serialize as _envelope
from ._backend import openfhe as ofhe
from .ciphertext import Ciphertext
from .keys import KeyPlan

__all__ = ["CKKSParameters", "Context"]

_SECURITY_LEVELS = {
    128: "HEStd_128_classic",
    192: "HEStd_192_classic",
    256: "HEStd_256_classic",
}
_DEFAULT_SCALE_BITS = 40  # leveled: ~1e-7 precision on [-1, 1], ring 2^14 up to depth ~7
_BOOTSTRAP_SCALE_BITS = 59  # measured to bootstrap at 128-bit (OPENFHE-NOTES.md)
_DEFAULT_FIRST_MOD_BITS = 60
_INSECURE_RING_DIM = 2**12
_BOOTSTRAP_DIGIT_CANDIDATES = (6,)  # tried after OpenFHE's default (OPENFHE-NOTES.md)


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CKKSParameters:
        data = dict(data)
        data["level_budget"] = tuple(data["level_budget"])
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
        num_large_digits: int | None = None,
        insecure: bool = False,
    ) -> Context:
        """Make a data owner's CKKS context with fresh keys.

        Parameters
        ----------
        depth : int, default 3
            Multiplicative levels available to computations. With ``bootstrapping=True`` this
            is the number of levels after each bootstrap; bootstrapping's own levels are added.
        scale_bits : int, optional
            Bits of the scaling factor: default 40 (leveled) or 59 (bootstrapping).
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
        num_large_digits : int, optional
            Digits of hybrid key switching (OpenFHE's ``NumLargeDigits``). By default OpenFHE
            chooses; with bootstrapping hetensor also tries 6 and keeps the smaller ring.
        insecure : bool, default False
            Disable the security check (``HEStd_NotSet``, ring ``2**12`` unless given). For
            tests only: warns with :class:`~hetensor.errors.InsecureParametersWarning`.

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
            return p

        t0 = time.perf_counter()
        try:
            cc = ofhe.GenCryptoContext(make_params(num_large_digits))
            if bootstrapping and num_large_digits is None and ring_dim is None:
                # Deep bootstrapping chains: more key-switching digits shrink the special
                # modulus P, which can halve the ring OpenFHE needs (e.g. 2^17 -> 2^16 at
                # total depth 23, 128-bit). A smaller ring is far cheaper; keep the smallest.
                for digits in _BOOTSTRAP_DIGIT_CANDIDATES:
                    trial = ofhe.GenCryptoContext(make_params(digits))
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
        params = CKKSParameters(
            depth=depth,
            total_depth=total_depth,
            scale_bits=scale_bits,
            first_mod_bits=first_mod_bits,
            slots=batch,
            ring_dim=n_ring,
            security=None if insecure else int(security),
            bootstrapping=bool(bootstrapping),
            level_budget=level_budget,
            log_q=int(cc.GetElementParams().GetModulus()).bit_length(),
        )
        try:
            keys = cc.KeyGen()
            cc.EvalMultKeyGen(keys.secretKey)
            if bootstrapping:
                cc.EvalBootstrapSetup(list(level_budget), [0, 0], batch)
                cc.EvalBootstrapKeyGen(keys.secretKey, batch)
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
    def fingerprint(self) -> str:
        """Hex id of the keys and parameters; equal for an owner and its public views."""
        return self._fingerprint.hex()

    def __repr__(self) -> str:
        sec = f"{self.security}-bit" if self.security else "INSECURE"
        boot = ", bootstrapping" if self.bootstrapping else ""
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

    def _rotation_key(self, k: int) -> int:
        """Index for rotating by k, generating the key on the owner if it is missing."""
        idx = self.normalize_rotation(k)
        if idx and idx not in self._rotations:
            if self._secret_key is None:
                raise MissingKeyError(
                    f"no rotation key for step {k} (index {idx}) on this public context. "
                    f"On the owner, call owner.generate_keys(rotations=[{k}]) (or pass the "
                    "computation's KeyPlan) before owner.public()."
                )
            self.generate_keys(rotations=[idx])
        return idx

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

    def _check_compatible(self, ct: Ciphertext) -> None:
        if not isinstance(ct, Ciphertext):
            raise TypeError(f"expected a hetensor Ciphertext, got {type(ct).__name__}")
        if ct._ctx._fingerprint != self._fingerprint:
            raise ContextMismatchError(
                "this ciphertext was made under another context (different keys or "
                f"parameters: {ct._ctx.fingerprint[:12]} vs {self.fingerprint[:12]}); "
                "contexts derived from the same owner (public(), deserialize) are compatible"
            )

    # ------------------------------------------------------------------ encrypt / decrypt
    def encrypt(self, values: Any) -> Ciphertext:
        """Encrypt a 1-D array of real numbers (at most :attr:`slots` elements).

        The vector is zero padded to a power-of-two block and the block is replicated over all
        slots (see :class:`hetensor._core.packing.VectorLayout`), so rotations act cyclically
        on the block and decryption averages the replicas.

        Raises
        ------
        InvalidDtypeError
            Complex, boolean-free non-numeric (object, str) or datetime input.
        NonFiniteError
            NaN or infinity in the input.
        CapacityError
            More elements than slots, or values too large for the modulus.
        ValueError
            Input that is not 1-D or is empty.
        """
        arr = _as_real_vector(values)
        limit = 2.0 ** (self._params.first_mod_bits - self._params.scale_bits - 1)
        layout = _core.packing.plan_vector(arr.shape[0], self.slots)
        slot_values = _core.packing.encode_vector(arr, layout)  # raises NonFiniteError
        peak = float(np.max(np.abs(arr)))
        if peak >= limit:
            raise CapacityError(
                f"values up to {peak:g} in magnitude overflow CKKS with {self._params.scale_bits}"
                f"-bit scaling and a {self._params.first_mod_bits}-bit first modulus (limit "
                f"{limit:g}); standardize the data first"
            )
        try:
            pt = self._make_plaintext(slot_values, self._fresh_level)
            ct = self._cc.Encrypt(self._public_key, pt)
        except RuntimeError as err:
            raise _openfhe_error(err, "encrypting") from err
        return Ciphertext._wrap(ct, self, layout)

    def _make_plaintext(self, slot_values: np.ndarray, level: int) -> Any:
        """Encode a full slot vector at ``level``.

        Magnitudes far below CKKS precision (``2**-scale_bits``) are set to zero first: they
        encode as nothing anyway, and OpenFHE rejects extreme ones ("Scaling factor too
        small").
        """
        tiny = 2.0 ** -(self._params.scale_bits + 20)
        slot_values = np.where(np.abs(slot_values) < tiny, 0.0, slot_values)
        return self._cc.MakeCKKSPackedPlaintext(slot_values.tolist(), 1, level, None, self.slots)

    def decrypt(self, ct: Ciphertext, *, average: bool = True) -> np.ndarray:
        """Decrypt to a float64 NumPy array (data owner only).

        Parameters
        ----------
        ct : Ciphertext
            A ciphertext of this context or of one derived from it (same fingerprint).
        average : bool, default True
            Average the replicas of each element, which lowers CKKS noise.
        """
        sk = self._require_secret("decrypt")
        self._check_compatible(ct)
        try:
            pt = self._cc.Decrypt(ct._ct, sk)
            pt.SetLength(self.slots)
            slot_values = np.asarray(pt.GetRealPackedValue(), dtype=np.float64)
        except RuntimeError as err:
            raise _openfhe_error(
                err,
                "decrypting (the result lost its precision: values too large for the scale, "
                "or more levels used than the context's depth)",
            ) from err
        return _core.packing.decode_vector(slot_values, ct._layout, average)

    def bootstrap(self, ct: Ciphertext) -> Ciphertext:
        """Refresh a ciphertext's levels with CKKS bootstrapping (no secret key needed).

        Values should lie in [-1, 1]: CKKS bootstrapping approximates a modular reduction that
        is only accurate for small messages.

        Raises
        ------
        MissingKeyError
            The context was made without ``bootstrapping=True`` or has no bootstrapping keys.
        """
        self._check_compatible(ct)
        if not self._bootstrap_ready:
            raise MissingKeyError(
                "bootstrapping keys are missing: create the owner's context with "
                "Context.ckks(..., bootstrapping=True) before calling public()"
            )
        try:
            out = self._cc.EvalBootstrap(ct._ct)
        except RuntimeError as err:
            raise _openfhe_error(err, "bootstrapping") from err
        return Ciphertext._wrap(out, self, ct._layout)

    # ------------------------------------------------------------------ serialization
    def to_bytes(self, ct: Ciphertext) -> bytes:
        """Serialize a ciphertext into a checked envelope (see :mod:`hetensor.he.serialize`)."""
        self._check_compatible(ct)
        layout = ct._layout
        meta = {"layout": [layout.length, layout.period, layout.copies, layout.slots]}
        try:
            payload = ofhe.Serialize(ct._ct, _binary())
        except RuntimeError as err:
            raise _openfhe_error(err, "serializing a ciphertext") from err
        return _envelope.pack(
            "ciphertext",
            self._fingerprint,
            {"meta": json.dumps(meta).encode(), "openfhe": payload},
        )

    def from_bytes(self, data: bytes) -> Ciphertext:
        """Deserialize a ciphertext made under this context (or a compatible one).

        Raises
        ------
        FormatError
            Corrupt, truncated or non-ciphertext bytes.
        ContextMismatchError
            The ciphertext belongs to another context.
        """
        _, sections = _envelope.unpack(data, "ciphertext", self._fingerprint)
        try:
            meta = json.loads(sections["meta"])
            layout = _core.packing.VectorLayout(*meta["layout"])
            if layout.slots != self.slots:
                raise ValueError("slot count differs from the context's")
            ct = ofhe.DeserializeCiphertextString(sections["openfhe"], _binary())
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise FormatError(f"corrupt serialized ciphertext: {err}") from err
        if ct.GetKeyTag() != self._key_tag:
            raise ContextMismatchError("ciphertext was encrypted under another key")
        return Ciphertext._wrap(ct, self, layout)

    def receive(self, ct: Ciphertext) -> Ciphertext:
        """Re-bind a ciphertext to this context, through bytes as over a network."""
        return self.from_bytes(ct._ctx.to_bytes(ct))

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
    def deserialize(cls, data: bytes) -> Context:
        """Rebuild a context from :meth:`serialize` output.

        The result is an owner context if the bytes hold the secret key, otherwise public.
        """
        fingerprint, sections = _envelope.unpack(data, "context")
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
                cc.EvalBootstrapSetup(list(params.level_budget), [0, 0], params.slots)
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
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


def _fingerprint(key_tag: str, params: CKKSParameters) -> bytes:
    text = json.dumps({"key": key_tag, "params": params.to_json()}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=_envelope.FINGERPRINT_BYTES).digest()


def _as_real_vector(values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise InvalidDtypeError(
            f"cannot encrypt an array of dtype {arr.dtype}: CKKS here encrypts real numbers "
            "(integer or floating dtypes)"
        )
    if arr.ndim != 1:
        raise ValueError(f"Context.encrypt takes a 1-D array, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("cannot encrypt an empty array")
    return np.ascontiguousarray(arr, dtype=np.float64)
