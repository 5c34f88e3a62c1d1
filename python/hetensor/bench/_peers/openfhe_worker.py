"""Raw OpenFHE worker, run in both openfhe versions (1.6.1 in hetensor's venv, 1.5.1 in
``.venv-ofnumpy``) on hetensor's own parameters (see :mod:`._protocol`).

The same CKKS context as hetensor's for the case (ring, depth, scale, first modulus,
FLEXIBLEAUTO, digits, passed in PARAMS), the plain OpenFHE calls a user would write, so
``hetensor / openfhe`` is hetensor's own cost and ``1.5.1 / 1.6.1`` the library's drift.
Only single operations: OpenFHE has no array API (openfhe-numpy is that).
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import Any

import numpy as np
import openfhe as fhe

from ._protocol import Prepared, Unsupported, main

PRIMITIVES = ("encrypt", "decrypt", "add", "multiply", "total_sum")


def context(params: dict[str, Any], rotations: bool) -> tuple[Any, Any, dict[str, Any]]:
    p = fhe.CCParamsCKKSRNS()
    p.SetMultiplicativeDepth(int(params["total_depth"]))
    p.SetScalingModSize(int(params["scale_bits"]))
    p.SetFirstModSize(int(params["first_mod_bits"]))
    p.SetScalingTechnique(fhe.ScalingTechnique.FLEXIBLEAUTO)
    level = {None: "HEStd_NotSet", 128: "HEStd_128_classic"}[params.get("security", 128)]
    p.SetSecurityLevel(getattr(fhe.SecurityLevel, level))
    p.SetRingDim(int(params["ring_dim"]))
    p.SetBatchSize(int(params["slots"]))
    if params.get("num_large_digits"):
        p.SetNumLargeDigits(int(params["num_large_digits"]))
    cc = fhe.GenCryptoContext(p)
    for feature in ("PKE", "KEYSWITCH", "LEVELEDSHE", "ADVANCEDSHE"):
        cc.Enable(getattr(fhe.PKESchemeFeature, feature))
    keys = cc.KeyGen()
    cc.EvalMultKeyGen(keys.secretKey)
    if rotations:
        cc.EvalSumKeyGen(keys.secretKey)
    info = {k: params[k] for k in ("ring_dim", "total_depth", "scale_bits", "first_mod_bits")}
    return cc, keys, info


def prepare(op: str, data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    if op not in PRIMITIVES:
        raise Unsupported(f"{op}: OpenFHE has no array API (openfhe-numpy is that)")
    cc, keys, info = context(params, rotations=op == "total_sum")
    pk, sk = keys.publicKey, keys.secretKey
    slots = int(params["slots"])
    x = data["x"].tolist()
    n = len(x)

    def enc(values: list[float]) -> Any:
        return cc.Encrypt(pk, cc.MakeCKKSPackedPlaintext(values))

    def dec(ct: Any) -> np.ndarray:
        pt = cc.Decrypt(ct, sk)
        pt.SetLength(n)
        return np.asarray(pt.GetRealPackedValue())

    a = enc(x)
    b = enc(data["y"].tolist()) if "y" in data else None
    run = {
        "encrypt": lambda: enc(x),
        "decrypt": lambda: dec(a),
        "add": lambda: cc.EvalAdd(a, b),
        "multiply": lambda: cc.EvalMult(a, b),
        "total_sum": lambda: cc.EvalSum(a, slots),
    }[op]
    if op == "decrypt":
        return Prepared(run, np.asarray, info)
    if op == "total_sum":
        return Prepared(run, lambda ct: dec(ct)[:1], info)
    return Prepared(run, dec, info)


if __name__ == "__main__":
    sys.exit(main("openfhe", version("openfhe"), prepare))
