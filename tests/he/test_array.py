"""EncryptedArray against NumPy: broadcasting, reductions, shapes, products, protocols, errors.

Tolerance: 1e-6 absolute per element for values in [-1, 1] (ring 2^12, 40-bit scaling; the
measured errors are 1e-9 to 1e-7), times the number of terms summed for reductions/products.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hetensor as ht
from hetensor import errors

ATOL = 1e-6
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def values(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def check(ctx, enc, ref, terms=1):
    assert enc.shape == np.shape(ref)
    np.testing.assert_allclose(ctx.decrypt(enc), ref, atol=ATOL * max(1, terms), rtol=0)


@pytest.fixture(scope="module")
def deep(he):
    """Insecure ring 2^12 with depth 6 for product chains and polynomials."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        return he.Context.ckks(depth=6, insecure=True)


# ---------------------------------------------------------------- the first example
def test_first_example_on_public_context(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        owner = he.Context.ckks(depth=8, insecure=True)
    with owner.recording() as rec:  # dry run: no cryptography, records rotations
        p = owner.placeholder((3, 4))
        _ = ((p * 2 + p).sum(axis=0), p @ np.ones((4, 2)), p.T @ p, np.mean(p, axis=1))
    assert rec.plan.rotations and not owner.rotation_keys
    owner.generate_keys(rec.plan)
    ctx = owner.public()
    X = np.arange(12.0).reshape(3, 4) / 10
    a = ctx.receive(owner.encrypt(X))
    assert isinstance(a, ht.EncryptedArray) and a.context is ctx
    b = (a * 2 + a).sum(axis=0)
    c = a @ np.ones((4, 2))
    d = a.T @ a
    m = np.mean(a, axis=1)
    check(owner, b, (X * 2 + X).sum(axis=0), 3)
    check(owner, c, X @ np.ones((4, 2)), 4)
    check(owner, d, X.T @ X, 3)
    check(owner, m, X.mean(axis=1))
    with pytest.raises(errors.KeyRoleError):
        ctx.decrypt(d)


def test_dry_run_tracks_levels_like_real(ctx):
    x = values((3, 5))
    real = ctx.encrypt(x)
    with ctx.recording():
        sym = ctx.placeholder((3, 5))
        for f in (lambda a: a.T @ a, lambda a: (a * a).sum(axis=1), lambda a: a[1:] ** 2):
            assert f(sym).levels_left == f(real).levels_left
    assert "symbolic" in repr(sym)
    with pytest.raises(TypeError, match="symbolic"):
        ctx.decrypt(sym)


# ---------------------------------------------------------------- elementwise
@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=5),
    kinds=st.sampled_from(["ee", "ep", "pe"]),
    op=st.sampled_from(["add", "sub", "mul"]),
    seed=st.integers(0, 2**16),
)
def test_elementwise_broadcasting(ctx, shapes, kinds, op, seed):
    sa, sb = shapes.input_shapes
    xa, xb = values(sa, seed), values(sb, seed + 1)
    a = ctx.encrypt(xa) if kinds[0] == "e" else xa
    b = ctx.encrypt(xb) if kinds[1] == "e" else xb
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply}[op]
    check(ctx, fn(a, b), fn(xa, xb))


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
    s=st.floats(-2, 2),
    seed=st.integers(0, 2**16),
)
def test_scalars_both_orders(ctx, shape, s, seed):
    x = values(shape, seed)
    a = ctx.encrypt(x)
    for enc, ref in [
        (a + s, x + s),
        (s + a, s + x),
        (a - s, x - s),
        (s - a, s - x),
        (a * s, x * s),
        (s * a, s * x),
        (-a, -x),
        (+a, x),
        (a / 4, x / 4),
    ]:
        check(ctx, enc, ref)
    # adding a scalar keeps padding slots zero, so a later sum is still exact
    check(ctx, (a + s).sum(), (x + s).sum(), x.size)


def test_power_and_square(deep):
    x = values((2, 3))
    a = deep.encrypt(x)
    for n in range(6):
        check(deep, a**n, x**n)
    check(deep, np.square(a), x**2)
    check(deep, np.power(a, 3), x**3)
    assert (a**4).levels_left == deep.depth - 2 and (a**5).levels_left == deep.depth - 3
    for bad in (-1, 0.5, 2.0, True):
        with pytest.raises(TypeError, match="exponent"):
            _ = a**bad
    with pytest.raises(TypeError):
        _ = 2**a


def test_small_integer_scalars_cost_no_level(ctx):
    a = ctx.encrypt(values(4))
    assert (a * 2).levels_left == (a * -1).levels_left == a.levels_left
    assert (a * 3).levels_left == a.levels_left - 1


# ---------------------------------------------------------------- reductions
@SETTINGS
@given(
    data=st.data(),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
    keepdims=st.booleans(),
    fn=st.sampled_from(["sum", "mean"]),
)
def test_reductions(ctx, data, shape, keepdims, fn):
    axis = data.draw(
        st.one_of(
            st.none(),
            hnp.valid_tuple_axes(len(shape), min_size=1),
            st.integers(-len(shape), len(shape) - 1),
        )
    )
    x = values(shape, 3)
    a = ctx.encrypt(x)
    np_fn = getattr(np, fn)
    check(
        ctx, np_fn(a, axis=axis, keepdims=keepdims), np_fn(x, axis=axis, keepdims=keepdims), x.size
    )
    check(
        ctx,
        getattr(a, fn)(axis=axis, keepdims=keepdims),
        np_fn(x, axis=axis, keepdims=keepdims),
        x.size,
    )


def test_sum_after_unclean_ops(ctx):
    x = values((3, 5))
    a = ctx.encrypt(x)
    rowsum = a.sum(axis=1, keepdims=True)  # garbage left in the other columns' slots
    check(ctx, rowsum.sum(), x.sum(), 15)
    check(ctx, (a.sum(axis=1) * 2.5).sum(), x.sum() * 2.5, 40)


def test_reductions_use_log_rotations(ctx):
    with ctx.recording() as rec:
        ctx.placeholder((5, 64)).sum(axis=1)
    assert sorted(rec.plan.rotations) == [1, 2, 4, 8, 16, 32]


def test_reduction_errors(ctx):
    a = ctx.encrypt(values((2, 3)))
    with pytest.raises(np.exceptions.AxisError):
        a.sum(axis=2)
    with pytest.raises(ValueError, match="duplicate"):
        a.sum(axis=(0, 0))
    with pytest.raises(TypeError, match="dtype"):
        np.sum(a, dtype=np.float32)


# ---------------------------------------------------------------- shapes and indexing
def test_transpose_reshape(ctx):
    x = values((2, 3, 4))
    a = ctx.encrypt(x)
    check(ctx, a.T, x.T)
    check(ctx, np.transpose(a, (1, 0, 2)), np.transpose(x, (1, 0, 2)))
    check(ctx, a.transpose(2, 0, 1), x.transpose(2, 0, 1))
    assert a.T.levels_left == a.levels_left  # free: no data moves
    check(ctx, a.reshape(6, 4), x.reshape(6, 4))
    check(ctx, np.reshape(a, (4, -1)), x.reshape(4, -1))
    check(ctx, a.reshape(-1), x.ravel())
    with pytest.raises(ValueError):
        a.reshape(5, 5)


@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=6))
def test_basic_indexing(ctx, data, shape):
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True))
    x = values(shape, 5)
    ref = x[index]
    if ref.size == 0:
        return
    check(ctx, ctx.encrypt(x)[index], ref)


def test_integer_and_fancy_indexing(ctx):
    x = values((4, 5))
    a = ctx.encrypt(x)
    check(ctx, a[2], x[2])
    check(ctx, a[1, 3], x[1, 3])
    check(ctx, a[[0, 2, 2]], x[[0, 2, 2]])
    check(ctx, a[:, ::-2], x[:, ::-2])
    assert len(a) == 4 and [r.shape for r in a] == [(5,)] * 4
    with pytest.raises(IndexError):
        a[7]


def test_concatenate_and_stack(ctx):
    x, y = values((2, 3), 1), values((4, 3), 2)
    a, b = ctx.encrypt(x), ctx.encrypt(y)
    check(ctx, np.concatenate([a, b]), np.concatenate([x, y]))
    check(ctx, np.concatenate([a, y, a], axis=0), np.concatenate([x, y, x]))
    check(ctx, np.concatenate([a.T, b.T], axis=1), np.concatenate([x.T, y.T], axis=1))
    check(ctx, np.stack([a, a * 2]), np.stack([x, x * 2]))
    check(ctx, np.stack([a[0], x[1]], axis=1), np.stack([x[0], x[1]], axis=1))
    with pytest.raises(ValueError):
        np.concatenate([a, b], axis=1)
    with pytest.raises(ValueError, match="same shape"):
        np.stack([a, b])


# ---------------------------------------------------------------- products
@pytest.mark.parametrize("kinds", ["ee", "ep", "pe"])
@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((5,), (5,)),
        ((3, 5), (5,)),
        ((5,), (5, 3)),
        ((3, 4), (4, 2)),
        ((4, 3), (3, 4)),
        ((1, 6), (6, 1)),
        ((7, 7), (7,)),
    ],
)
def test_matmul_matches_numpy(ctx, sa, sb, kinds):
    xa, xb = values(sa, 1), values(sb, 2)
    a = ctx.encrypt(xa) if kinds[0] == "e" else xa
    b = ctx.encrypt(xb) if kinds[1] == "e" else xb
    check(ctx, a @ b, xa @ xb, sa[-1])
    check(ctx, np.matmul(a, b), np.matmul(xa, xb), sa[-1])
    check(ctx, np.dot(a, b), np.dot(xa, xb), sa[-1])


def test_transposed_gram(ctx):
    x = values((6, 3))
    a = ctx.encrypt(x)
    check(ctx, a.T @ a, x.T @ x, 6)
    check(ctx, ht.dot(a.T, a), x.T @ x, 6)


def test_matmul_errors(ctx):
    a = ctx.encrypt(values((3, 4)))
    with pytest.raises(ValueError, match="not aligned"):
        _ = a @ np.ones(3)
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        _ = a @ np.ones((2, 4, 2))
    with pytest.raises(ValueError, match="enough dimensions"):
        _ = a @ 2.0


@pytest.mark.parametrize("shape", [(8, 8), (5, 7), (7, 5), (32, 32)])
def test_bsgs_plain_and_encrypted_diagonal(ctx, shape):
    w = values(shape, 4)
    x = values(shape[1], 5)
    ex = ctx.encrypt(x)
    y_plain = ht.he.matvec(w, ex, method="bsgs")
    check(ctx, y_plain, w @ x, shape[1])
    assert y_plain.levels_left == ctx.depth - 1
    m = ctx.encrypt(w, layout="diagonal")
    assert isinstance(m, ht.EncryptedMatrix) and m.shape == shape
    np.testing.assert_allclose(ctx.decrypt(m), w, atol=ATOL)
    y = m @ ex
    check(ctx, y, w @ x, shape[1])
    assert y.levels_left == ctx.depth - 2
    check(ctx, y + 1.0, w @ x + 1.0, shape[1])  # the strided result composes


def test_bsgs_uses_few_rotations(ctx):
    with ctx.recording() as rec:
        ht.he.matvec(np.ones((32, 32)), ctx.placeholder(32), method="bsgs")
    plan = ht._core.packing.plan_bsgs(32, ctx.slots)
    assert (
        len(rec.plan.rotations)
        == len(plan.baby_steps) + len(plan.block_steps) + len(plan.giant_steps)
        < 32
    )


def test_diagonal_layout_errors(ctx):
    with pytest.raises(errors.CapacityError, match="diagonal layout"):
        ctx.encrypt(np.ones((64, 64)), layout="diagonal")  # 2 * 64^2 > 2048 slots
    with pytest.raises(ValueError, match="2-D"):
        ctx.encrypt(np.ones(4), layout="diagonal")
    with pytest.raises(ValueError, match="layout"):
        ctx.encrypt(np.ones(4), layout="columns")


# ---------------------------------------------------------------- polynomials
def test_polyval(deep):
    x = values(7)
    a = deep.encrypt(x)
    for coeffs in ([0.3], [2.0, -1.0], [0.5, -1.0, 2.0, 0.1], [1, 0, -2, 0, 0.5, 0.25, -1]):
        check(deep, np.polyval(coeffs, a), np.polyval(coeffs, x))
        check(deep, ht.polyval(coeffs, a), np.polyval(coeffs, x))


@pytest.mark.parametrize("degree", [5, 13, 27])
def test_chebyshev(deep, degree):
    x = np.linspace(-3.9, 3.9, 11)
    a = deep.encrypt(x)

    def sigmoid(t):
        return 1 / (1 + np.exp(-t))

    out = ht.he.chebyshev(sigmoid, a, (-4, 4), degree=degree)
    tol = {5: 2e-2, 13: 1e-3, 27: 1e-5}[degree]
    np.testing.assert_allclose(deep.decrypt(out), sigmoid(x), atol=tol)
    assert a.levels_left - out.levels_left <= ht.he.chebyshev_depth(degree)


def test_chebyshev_errors(deep):
    a = deep.encrypt(values(3))
    with pytest.raises(ValueError, match="interval"):
        ht.he.chebyshev(np.tanh, a, (1, -1))
    with pytest.raises(ValueError, match="degree"):
        ht.he.chebyshev(np.tanh, a, (-1, 1), degree=1)
    with pytest.raises(errors.DepthError, match="chebyshev needs"):
        ht.he.chebyshev(np.tanh, a, (-1, 1), degree=500)


# ---------------------------------------------------------------- large arrays
def test_arrays_split_over_ciphertexts(ctx):
    x = values((300, 20), 7)  # 512 x 32 padded > 2048 slots: 5 ciphertexts of 64 rows
    a = ctx.encrypt(x)
    assert a.n_ciphertexts == 5 and a.layout.chunk_rows == 64
    w = values(20, 8)
    check(ctx, a * 0.5 + x, x * 1.5)
    check(ctx, a.sum(axis=0), x.sum(axis=0), 300)
    check(ctx, a.mean(axis=1), x.mean(axis=1), 20)
    check(ctx, a.sum(), x.sum(), x.size)
    check(ctx, a @ w, x @ w, 20)
    check(ctx, a[250:260], x[250:260])
    long = values(5000, 9)
    check(ctx, ctx.encrypt(long).sum(), long.sum(), 5000)


def test_data_movement_across_ciphertexts(he):
    """Transposes and products of split arrays move data between ciphertexts (costly: one
    masked rotation per distinct offset and ciphertext pair), so this uses 64 slots."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        small = he.Context.ckks(depth=3, insecure=True, slots=64)
    x = values((12, 10), 3)
    a = small.encrypt(x)
    assert a.n_ciphertexts == 3
    check(small, a.T, x.T)
    check(small, a[:, 1:4], x[:, 1:4])
    check(small, a.T @ a[:, :2], x.T @ x[:, :2], 12)


# ---------------------------------------------------------------- protocols and errors
def test_numpy_protocols(ctx):
    a = ctx.encrypt(values((2, 3)))
    assert np.shape(a) == (2, 3) and np.ndim(a) == 2 and np.size(a) == 6
    assert a.dtype == np.float64 and a.size == 6 and a.ndim == 2
    for fn in (np.cumsum, np.sort, np.max, np.linalg.norm, np.var):
        with pytest.raises(TypeError, match=f"numpy.{fn.__name__} is not supported"):
            fn(a)
    with pytest.raises(TypeError, match=r"numpy\.sin is not supported"):
        np.sin(a)
    with pytest.raises(TypeError, match="decrypt"):
        np.asarray(a)
    with pytest.raises(TypeError):
        bool(a)
    with pytest.raises(TypeError):
        hash(a)
    with pytest.raises(TypeError, match="keyword"):
        np.add(a, a, where=True)
    with pytest.raises(TypeError, match="division by an encrypted"):
        _ = 1 / a
    with pytest.raises(TypeError, match=r"Context\.encrypt"):
        type(a)()


def test_handled_functions_are_overridable():
    from numpy.testing.overrides import allows_array_function_override

    from hetensor.he._functions import HANDLED_FUNCTIONS

    assert all(allows_array_function_override(f) for f in HANDLED_FUNCTIONS)


def test_exhausted_depth_raises_before_work(ctx):
    a = ctx.encrypt(values((2, 4)))
    b = a * a * a * a  # 3 levels: none left
    assert b.levels_left == 0
    for op in (
        lambda: b * a,
        lambda: b @ np.ones(4),
        lambda: b**2,
        lambda: b * 3.0,
        lambda: b[::-1],
        lambda: np.polyval([1, 2, 3], b),
    ):
        with pytest.raises(errors.DepthError, match=r"needs \d+ multiplicative level"):
            op()
    check(ctx, b + a, values((2, 4)) ** 4 + values((2, 4)))  # additions still work


def test_missing_keys_on_public_side(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        owner = he.Context.ckks(depth=1, insecure=True)
    pub = owner.public()
    a = pub.receive(owner.encrypt(values((4, 128))))
    with pytest.raises(errors.MissingKeyError, match=r"no rotation key for step 1 \(index 1\)"):
        a.sum(axis=1)


def test_operand_errors(ctx, he):
    a = ctx.encrypt(values((2, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        other = he.Context.ckks(depth=1, insecure=True)
    with pytest.raises(errors.ContextMismatchError):
        _ = a + other.encrypt(values((2, 3)))
    with pytest.raises(ValueError, match="broadcast"):
        _ = a + np.ones(4)
    with pytest.raises(errors.NonFiniteError):
        _ = a * np.array([1.0, np.nan, 1.0])
    with pytest.raises(errors.NonFiniteError):
        _ = a + float("inf")
    with pytest.raises(errors.InvalidDtypeError):
        _ = a + np.array(["a", "b", "c"])
    with pytest.raises(TypeError):
        _ = a + "text"


def test_serialization_round_trip(ctx):
    x = values((300, 20))
    a = ctx.encrypt(x).sum(axis=1)  # unclean, strided, chunked
    back = ctx.from_bytes(a.to_bytes())
    assert back.layout == a.layout and back.n_ciphertexts == a.n_ciphertexts
    check(ctx, back, x.sum(axis=1), 20)
    m = ctx.encrypt(values((5, 5)), layout="diagonal")
    np.testing.assert_allclose(ctx.decrypt(ctx.from_bytes(m.to_bytes())), values((5, 5)), atol=ATOL)
    raw = bytearray(a.to_bytes())
    raw[100] ^= 1
    with pytest.raises(errors.FormatError):
        ctx.from_bytes(bytes(raw))


def test_metadata(ctx):
    a = ctx.encrypt(values((3, 4)))
    assert (a.level, a.levels_left) == (0, ctx.depth)
    assert a.scale == pytest.approx(2.0**40, rel=1e-3)
    assert a.layout.shape == (3, 4) and a.layout.strides == (4, 1)
    with pytest.raises(AttributeError):
        a.layout.period = 2
    assert "shape=(3, 4)" in repr(a)
    with pytest.raises(TypeError, match="unsized"):
        len(ctx.encrypt(1.0))
