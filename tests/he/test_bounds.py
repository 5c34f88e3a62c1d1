"""Public bounds of |values|: set at encryption, propagated by every operation, checked per
level (CapacityError before any OpenFHE work), carried on the wire, reported by info().

Reference: plain NumPy's max-abs of the same computation. Each rule must hold (the true
maximum never exceeds the bound) and not be absurdly loose: the data are drawn from [0.5, 1]
where a rule's worst case is nearly reached, so a bound within 4x (two power-of-two
roundings) of the true maximum, or the stated factor, is asserted.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from hetensor import errors


@pytest.fixture(scope="module")
def ctx6(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        return he.Context.ckks(depth=6, insecure=True)


def pos(shape, seed=0):
    """Values in [0.5, 1]: sums and products come close to their worst case."""
    return np.random.default_rng(seed).uniform(0.5, 1.0, shape)


def assert_bound(ctx, enc, ref, loose=4.0):
    """The bound holds for the decrypted values and the exact reference, within ``loose``."""
    true = float(np.max(np.abs(ref)))
    assert true <= enc.bound + 1e-9, (true, enc.bound)
    assert np.max(np.abs(ctx.decrypt(enc))) <= enc.bound * (1 + 1e-6)
    assert enc.bound <= loose * max(true, 1e-12), (true, enc.bound)


# ---------------------------------------------------------------- where bounds start
def test_encrypt_rounds_up_to_a_power_of_two(ctx):
    assert ctx.encrypt(np.array([100.0, -100.0, 0.5])).bound == 128.0
    assert ctx.encrypt(np.array([0.5, -0.25])).bound == 0.5
    assert ctx.encrypt(np.array([0.3])).bound == 0.5
    assert ctx.encrypt(np.zeros(3)).bound == 0.0
    assert ctx.encrypt(np.eye(4) * 3, layout="diagonal").bound == 4.0
    assert ctx.encrypt_vector(np.array([1.5, -2.5])).bound == 4.0


def test_explicit_bound_hides_the_magnitude(ctx):
    small = ctx.encrypt(np.array([0.001, 0.002]), bound=16)
    large = ctx.encrypt(np.array([9.0, -15.0]), bound=16)
    assert small.bound == large.bound == 16.0
    assert small.info()["bound"] == large.info()["bound"]
    assert "bound=16" in repr(small)
    # the wire metadata says as much as the shape and the bound, not the data's magnitude
    meta = _wire_meta(ctx, small)
    assert meta["bound"] == 16.0 and _wire_meta(ctx, large) == meta
    with pytest.raises(ValueError, match="below the data's largest magnitude 15"):
        ctx.encrypt(np.array([9.0, -15.0]), bound=8)
    with pytest.raises(ValueError, match="finite"):
        ctx.encrypt(np.ones(2), bound=float("inf"))
    with pytest.raises(TypeError, match="bound must be a real number"):
        ctx.encrypt(np.ones(2), bound="big")


def _wire_meta(ctx, obj):
    from hetensor.he import serialize

    _, sections = serialize.unpack(obj.to_bytes(), obj._kind, ctx._fingerprint)
    return json.loads(sections["meta"])


# ---------------------------------------------------------------- propagation vs NumPy
def test_elementwise_rules(ctx6):
    x, y = pos((3, 4)), pos((3, 4), 1)
    a, b = ctx6.encrypt(x), ctx6.encrypt(y)
    assert_bound(ctx6, a + b, x + y)
    assert_bound(ctx6, a - (-b), x + y)
    assert_bound(ctx6, a * b, x * y)
    assert_bound(ctx6, a * 3.0, x * 3.0)
    assert_bound(ctx6, a * y, x * y)  # plain array: its max-abs
    assert_bound(ctx6, a + 2.5, x + 2.5)
    assert_bound(ctx6, -a, -x)
    assert_bound(ctx6, a / 4, x / 4)
    assert_bound(ctx6, a**2, x**2)
    assert_bound(ctx6, a**3, x**3, loose=8.0)
    assert_bound(ctx6, np.square(a), x**2)
    assert_bound(ctx6, a + a[0], x + x[0])  # broadcasting (data movement)
    assert (a**0).bound == 1.0


def test_reduction_and_movement_rules(ctx6):
    x = pos((6, 5))
    a = ctx6.encrypt(x)
    assert_bound(ctx6, a.sum(), x.sum())
    assert_bound(ctx6, a.sum(axis=0), x.sum(axis=0))
    assert_bound(ctx6, a.sum(axis=1, keepdims=True), x.sum(axis=1, keepdims=True))
    m = a.mean(axis=0)  # the 1/n folds: the mean's bound is the data's
    assert m.bound == a.bound
    assert_bound(ctx6, m, x.mean(axis=0))
    for moved, ref in (
        (a.T, x.T),
        (a.reshape(3, 10), x.reshape(3, 10)),
        (a[1:4, ::2], x[1:4, ::2]),
    ):
        assert moved.bound == a.bound
        assert_bound(ctx6, moved, ref)
    both = np.concatenate([a, 3 * x])  # the parts do not overlap: the larger bound
    assert both.bound == max(a.bound, np.abs(3 * x).max())
    assert_bound(ctx6, both, np.concatenate([x, 3 * x]))


def test_product_rules(ctx6):
    x, w, v = pos((4, 8)), pos((8, 3), 1), pos(8, 2)
    a = ctx6.encrypt(x)
    # plain matrix: the largest absolute row sum, not n * max
    assert_bound(ctx6, a @ w, x @ w)
    assert (a @ w).bound == a.bound * np.abs(w).sum(axis=0).max()
    assert_bound(ctx6, a @ v, x @ v)
    assert_bound(ctx6, w.T @ a.T, w.T @ x.T)
    assert_bound(ctx6, ctx6.encrypt(v) @ v, v @ v)
    # encrypted x encrypted: n * bound * bound
    e = ctx6.encrypt(v)
    assert_bound(ctx6, a @ e, x @ v)
    assert_bound(ctx6, a.T @ a, x.T @ x)
    assert_bound(ctx6, ctx6.encrypt(w.T) @ a.T, w.T @ x.T)
    # diagonal (BSGS) layout
    sq = pos((8, 8), 3)
    assert_bound(ctx6, ht_matvec(sq, e), sq @ v)
    assert_bound(ctx6, ctx6.encrypt(sq, layout="diagonal") @ e, sq @ v)


def ht_matvec(w, x):
    import hetensor as ht

    return ht.he.matvec(w, x, method="bsgs")


def test_polynomial_rules(ctx6, he):
    t = np.linspace(-0.9, 0.9, 16)
    x = ctx6.encrypt(t)  # bound 1
    p = [0.5, -1.0, 0.0, 0.25]
    out = np.polyval(p, x)
    assert out.bound == pytest.approx(1.75)  # sum |c_k| b^k
    assert_bound(ctx6, out, np.polyval(p, t), loose=2.0)
    s = he.chebyshev(np.tanh, x, (-1.0, 1.0), 7)
    assert_bound(ctx6, s, np.tanh(t), loose=1.5)  # sum |c_k| of the interpolant ~ tanh(1)


def test_ciphertext_rules(ctx):
    v = pos(6)
    ct = ctx.encrypt_vector(v)
    assert_bound(ctx, ct * ct + 1.0, v * v + 1.0)
    assert_bound(ctx, (ct * v).rotate(1), np.roll(np.pad(v * v, (0, 2)), -1)[:6])
    summed = ct.sum()
    assert summed.bound == ct.bound * 8  # the padded block of 8 slots counts
    assert abs(ctx.decrypt(summed)[0]) <= summed.bound


# ---------------------------------------------------------------- the cases
def test_power_of_large_values_raises_before_work(secure_ctx):
    a = secure_ctx.encrypt(np.array([100.0, -100.0, 0.5]))
    a3 = a * a * a
    with secure_ctx.count_ops() as ops, pytest.raises(errors.CapacityError) as err:
        a3 * a
    assert not ops, ops  # no OpenFHE operation was issued
    text = str(err.value)
    assert "multiply" in text and "2.68435e+08" in text and "2.09715e+06" in text
    assert "Standardize" in text and "bound=" in text and "headroom" in text
    with pytest.raises(errors.CapacityError):
        a**4


def test_large_plain_factor_raises_before_work(secure_ctx):
    a = secure_ctx.encrypt(np.ones(3) * 0.5)
    with secure_ctx.count_ops() as ops, pytest.raises(errors.CapacityError, match="multiply"):
        a * 1e12
    assert not ops
    with pytest.raises(errors.CapacityError, match="add"):
        a + 1e12


def test_chebyshev_interval_is_checked(ctx6, he):
    x = ctx6.encrypt(np.array([5.0, 0.0]))
    with ctx6.count_ops() as ops, pytest.raises(errors.CapacityError, match=r"interval \[-1, 1\]"):
        he.chebyshev(np.exp, x, (-1, 1), 15)
    assert not ops
    he.chebyshev(np.exp, x, (-8, 8), 15)  # an interval that covers the bound is fine


def test_right_on_a_context_planned_for_it(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        roomy = he.Context.ckks(depth=4, scale_bits=45, insecure=True)
    a = roomy.encrypt(np.array([100.0, -100.0, 0.5]))
    out = a * a * a * a
    info = out.info()
    got = roomy.decrypt(out)
    np.testing.assert_allclose(got, [1e8, 1e8, 0.0625], rtol=0, atol=info["expected_abs_error"])


def test_recording_raises_the_same(secure_ctx):
    with secure_ctx.recording():
        p = secure_ctx.placeholder(3, bound=128)
        with pytest.raises(errors.CapacityError, match="multiply"):
            p * p * p * p
        with pytest.raises(errors.CapacityError):
            secure_ctx.placeholder(3) * 1e12
        q = secure_ctx.placeholder((3,))  # default bound 1: standardized data
        assert q.bound == 1.0 and (q * q * q * q).bound == 1.0
    with pytest.raises(ValueError, match="finite"):
        secure_ctx.placeholder(3, bound=-1)


# ---------------------------------------------------------------- wire and info
def test_bound_travels_with_serialization(ctx):
    a = ctx.encrypt(np.array([3.0, -1.0]))
    back = ctx.from_bytes((a * a).to_bytes())
    assert back.bound == 16.0
    m = ctx.from_bytes(ctx.encrypt(np.eye(2), layout="diagonal").to_bytes())
    assert m.bound == 1.0
    c = ctx.from_bytes(ctx.encrypt_vector(np.array([0.2])).to_bytes())
    assert c.bound == 0.25


def test_payload_without_bound_falls_back_to_the_value_limit(ctx):
    from hetensor.he import serialize

    a = ctx.encrypt(np.array([0.5, 0.25]))
    _, sections = serialize.unpack(a.to_bytes(), a._kind, ctx._fingerprint)
    meta = json.loads(sections["meta"])
    del meta["bound"]
    old = serialize.pack(a._kind, ctx._fingerprint, {**sections, "meta": json.dumps(meta).encode()})
    back = ctx.from_bytes(old)
    assert back.bound == ctx.params.value_limit
    np.testing.assert_allclose(ctx.decrypt(back), [0.5, 0.25], atol=1e-6)
    meta["bound"] = "large"
    bad = serialize.pack(a._kind, ctx._fingerprint, {**sections, "meta": json.dumps(meta).encode()})
    with pytest.raises(errors.FormatError, match="bound"):
        ctx.from_bytes(bad)


def test_info_reports_the_expected_error(ctx):
    x = np.array([100.0, -100.0, 0.0625])
    a = ctx.encrypt(x)
    sq = a * a
    info = sq.info()
    assert info["bound"] == 16384.0 and info["level"] == 1 and info["shape"] == (3,)
    assert info["limit"] == 2.0 ** (ctx.params.scale_bits - 15)
    assert info["expected_abs_error"] == pytest.approx(16384 * 2.0 ** -info["precision_bits"])
    err = np.abs(ctx.decrypt(sq) - x * x).max()
    assert err <= info["expected_abs_error"]  # what info() promises holds
    assert ctx.placeholder(2).info()["symbolic"] is True


# ---------------------------------------------------------------- regression kernels
def test_regression_bounds_hold(he, ctx6):
    from hetensor.he.dataset import EncryptedDataset
    from hetensor.he.linear import fit_gram

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)) / 2
    y = X @ [0.5, -0.25, 0.1] + 0.2
    ctx6.generate_keys(he.linear.key_plan(3))
    data = EncryptedDataset.encrypt(ctx6, X, y).with_ones()
    stats = data.gram()
    xa = np.c_[X, np.ones(40)]
    g = xa.T @ xa
    assert stats.diagonals[0].bound >= np.abs(np.diag(g)).max()
    assert stats.diagonals[0].bound == 40 * data.X.bound**2  # sum over rows: n * bound^2
    fit = fit_gram(stats, learning_rate=1 / 4, penalty=np.zeros(4), beta=0.5, n_iter=4)
    w = ctx6.decrypt(fit.weights)
    assert np.abs(w).max() <= fit.weights.bound
    pred = data.matvec(fit.weights)
    assert np.abs(ctx6.decrypt(pred)).max() <= pred.bound
    r = data.matvec(w) - data.y  # plain weights: the bound is sum |w| * bound(X)
    assert r.bound == data.X.bound * np.abs(w).sum() + data.y.bound
    grad = data.rmatvec(r)
    assert np.abs(ctx6.decrypt(grad)).max() <= grad.bound


def test_gd_weight_bound_holds(he, ctx6):
    from hetensor.he.dataset import EncryptedDataset
    from hetensor.he.linear import fit_gd

    rng = np.random.default_rng(1)
    X = rng.standard_normal((24, 2)) / 2
    y = X @ [0.7, -0.4] + 0.1
    ctx6.generate_keys(he.linear.key_plan(2))
    data = EncryptedDataset.encrypt(ctx6, X, y).with_ones()
    fit = fit_gd(data, learning_rate=1 / 3, penalty=np.zeros(3), epochs=1)
    w = ctx6.decrypt(fit.weights)
    assert np.abs(w).max() <= fit.weights.bound
    # one step from w = 0: w_1 = c = eta X^T y, bounded by lr * b(X) * b(y) (1/n folded)
    # and by ||c||_2 <= sqrt(lr) * b(y) (a convergent step: eta * lambda_max <= 1)
    lr, bx, by = 1 / 3, data.X.bound, data.y.bound
    assert fit.weights.bound == pytest.approx(min(lr * bx * by, np.sqrt(lr) * by))
