"""Context: secure defaults, insecure opt-in, key roles, serialization, input errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from hetensor import errors


def test_secure_defaults(secure_ctx):
    p = secure_ctx.params
    assert p.security == 128 and p.scale_bits == 40 and p.first_mod_bits == 60
    assert p.ring_dim == 2**14 and p.slots == 2**13 and p.depth == 3
    assert secure_ctx.role == "owner" and secure_ctx.has_secret_key
    assert "128-bit" in repr(secure_ctx)


def test_round_trip_precision_128bit(secure_ctx, rng):
    """Values in [-1, 1] at 40-bit scale round-trip within 1e-6 (measured ~1e-9 averaged)."""
    x = rng.uniform(-1, 1, secure_ctx.slots)  # full slots: no replicas to average
    err_full = np.abs(secure_ctx.decrypt(secure_ctx.encrypt(x)) - x).max()
    assert err_full < 1e-6
    y = x[:100]  # 128 replicas averaged
    err_small = np.abs(secure_ctx.decrypt(secure_ctx.encrypt(y)) - y).max()
    assert err_small < 1e-6


def test_insecure_requires_opt_in_and_warns(he):
    with pytest.raises(errors.InsecureParametersError, match="insecure=True"):
        he.Context.ckks(depth=3, ring_dim=2**12)
    with pytest.warns(errors.InsecureParametersWarning, match="INSECURE"):
        ctx = he.Context.ckks(depth=1, insecure=True)
    assert ctx.security is None and ctx.ring_dim == 2**12
    assert "INSECURE" in repr(ctx)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"depth": 0}, ValueError, "depth must be"),
        ({"depth": 2.5}, TypeError, "depth must be an int"),
        ({"security": 100}, ValueError, "security must be"),
        ({"slots": 12, "insecure": True}, ValueError, "power of two"),
        ({"slots": 4096, "insecure": True}, errors.CapacityError, "at most 2048"),
        ({"scale_bits": 10}, ValueError, "scale_bits"),
        ({"ring_dim": 1000, "insecure": True}, ValueError, "power of two"),
        ({"level_budget": (1, 2, 3)}, ValueError, "level_budget"),
    ],
)
def test_parameter_validation(he, kwargs, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        with pytest.raises(exc, match=match):
            he.Context.ckks(**kwargs)


@pytest.mark.parametrize(
    ("values", "exc", "match"),
    [
        (np.array([1 + 2j]), errors.InvalidDtypeError, "complex"),
        (np.array(["a"]), errors.InvalidDtypeError, "dtype"),
        (np.array([True, False]), errors.InvalidDtypeError, "bool"),
        (np.array([0.0, np.nan]), errors.NonFiniteError, "index 1"),
        (np.array([np.inf]), errors.NonFiniteError, "non-finite"),
        (np.zeros(0), ValueError, "empty"),
        (np.zeros((2, 4096)), errors.CapacityError, "needs 4096 slots"),
        (np.array([3e6]), errors.CapacityError, "overflow"),
    ],
)
def test_encrypt_input_errors(ctx, values, exc, match):
    with pytest.raises(exc, match=match):
        ctx.encrypt(values)


@pytest.mark.parametrize(
    ("values", "exc", "match"),
    [
        (np.zeros((2, 2)), ValueError, "1-D"),
        (np.zeros(0), ValueError, "empty"),
        (np.zeros(2049), errors.CapacityError, "2048 slots"),
        (np.array([np.nan]), errors.NonFiniteError, "index 0"),
    ],
)
def test_encrypt_vector_input_errors(ctx, values, exc, match):
    with pytest.raises(exc, match=match):
        ctx.encrypt_vector(values)


def test_integer_input_is_encrypted_as_float(ctx):
    np.testing.assert_allclose(ctx.decrypt(ctx.encrypt([1, 2, 3])), [1, 2, 3], atol=1e-6)


def test_public_role(ctx, rng):
    x = rng.uniform(-1, 1, 10)
    pub = ctx.public()
    assert pub.role == "public" and not pub.has_secret_key
    assert pub.fingerprint == ctx.fingerprint
    ct = pub.encrypt(x)  # encryption needs only the public key
    with pytest.raises(errors.KeyRoleError, match="secret key"):
        pub.decrypt(ct)
    with pytest.raises(errors.KeyRoleError):
        pub.generate_keys(rotations=[3])
    with pytest.raises(errors.KeyRoleError):
        pub.serialize(include_secret=True)
    np.testing.assert_allclose(ctx.decrypt(ct), x, atol=1e-6)


def test_rotation_keys_only_as_generated(he, rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        owner = he.Context.ckks(depth=2, insecure=True)
    owner.generate_keys(rotations=[1, -1])
    assert owner.rotation_keys == {1, owner.slots - 1}
    server = owner.public()
    owner.generate_keys(rotations=[5])  # after public(): not in the server's view
    x = rng.uniform(-1, 1, 8)
    ct = server.receive(owner.encrypt_vector(x))
    np.testing.assert_allclose(owner.decrypt(ct.rotate(-1)), np.roll(x, 1), atol=1e-6)
    with pytest.raises(errors.MissingKeyError, match=r"step 5 .*generate_keys\(rotations=\[5\]\)"):
        ct.rotate(5)
    with pytest.raises(errors.MissingKeyError, match="step 2"):
        ct.sum()  # needs steps 1, 2, 4


def test_owner_makes_missing_keys_on_demand(ctx, rng):
    x = rng.uniform(-1, 1, 16)
    ct = ctx.encrypt_vector(x)
    out = ct.rotate(3)
    assert 3 in ctx.rotation_keys
    np.testing.assert_allclose(ctx.decrypt(out), np.roll(x, -3), atol=1e-6)


def test_foreign_context_rejected(he, ctx, rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        other = he.Context.ckks(depth=3, insecure=True)
    x = rng.uniform(-1, 1, 4)
    a, b = ctx.encrypt(x), other.encrypt(x)
    with pytest.raises(errors.ContextMismatchError, match="another context"):
        _ = a + b
    with pytest.raises(errors.ContextMismatchError):
        other.decrypt(a)
    with pytest.raises(errors.ContextMismatchError):
        other.from_bytes(a.to_bytes())


def test_ciphertext_bytes_round_trip_and_corruption(ctx, rng):
    x = rng.uniform(-1, 1, 7)
    data = ctx.encrypt(x).to_bytes()
    np.testing.assert_allclose(ctx.decrypt(ctx.from_bytes(data)), x, atol=1e-6)
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0x10
    with pytest.raises(errors.FormatError, match="checksum"):
        ctx.from_bytes(bytes(corrupt))
    with pytest.raises(errors.FormatError):
        ctx.from_bytes(data[:1000])
    with pytest.raises(errors.FormatError, match="expected serialized ciphertext, array"):
        ctx.from_bytes(ctx.public().serialize())


def test_serialize_without_secret(ctx):
    from hetensor.he import serialize as env

    _, public_sections = env.unpack(ctx.serialize(), "context")
    assert "secret_key" not in public_sections
    _, owner_sections = env.unpack(ctx.serialize(include_secret=True), "context")
    assert "secret_key" in owner_sections


def test_deserialize_in_process(he, ctx, rng):
    x = rng.uniform(-1, 1, 5)
    pub = he.Context.deserialize(ctx.serialize())
    assert pub.role == "public" and pub.fingerprint == ctx.fingerprint
    owner2 = he.Context.deserialize(ctx.serialize(include_secret=True))
    assert owner2.role == "owner"
    np.testing.assert_allclose(owner2.decrypt(pub.encrypt(x)), x, atol=1e-6)
    with pytest.raises(errors.FormatError):
        he.Context.deserialize(b"not a context at all, not even close........................")


def test_public_side_in_another_process(ctx, rng, tmp_path):
    """A server process gets only public bytes, computes add/multiply/rotate, cannot decrypt."""
    x, y = rng.uniform(-1, 1, 6), rng.uniform(-1, 1, 6)
    ctx.generate_keys(rotations=[1])
    (tmp_path / "ctx.bin").write_bytes(ctx.serialize())
    (tmp_path / "x.bin").write_bytes(ctx.encrypt_vector(x).to_bytes())
    (tmp_path / "y.bin").write_bytes(ctx.encrypt_vector(y).to_bytes())
    server = textwrap.dedent(
        """
        import sys, pathlib
        import hetensor as ht
        d = pathlib.Path(sys.argv[1])
        server = ht.Context.deserialize((d / "ctx.bin").read_bytes())
        assert server.role == "public"
        x = server.from_bytes((d / "x.bin").read_bytes())
        y = server.from_bytes((d / "y.bin").read_bytes())
        out = (x * y + x).rotate(1) - 0.5
        (d / "out.bin").write_bytes(out.to_bytes())
        try:
            server.decrypt(out)
        except ht.errors.KeyRoleError:
            print("refused")
        """
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run(
        [sys.executable, "-c", server, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "refused"
    out = ctx.decrypt(ctx.from_bytes((tmp_path / "out.bin").read_bytes()))
    expected = np.roll(np.pad(x * y + x, (0, 2)), -1)[:6] - 0.5
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_info(secure_ctx):
    info = secure_ctx.info()
    assert info["ring_dim"] == 2**14 and info["security"] == "128-bit classic"
    assert info["key_sizes"]["public_key"] > 0 and "secret_key" in info["key_sizes"]
    assert info["openfhe"].startswith("1.6")
    pub_info = secure_ctx.public().info()
    assert "secret_key" not in pub_info["key_sizes"] and pub_info["role"] == "public"
