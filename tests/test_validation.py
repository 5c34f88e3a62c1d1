"""The validation rule (docs/errors.md, "The validation rule"), table-driven over every entry
point: each row is (entry point, bad input, expected exception class, words the message must
contain). Valid-input rows check the other half of the rule: integers are cast like NumPy."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hetensor as ht
from hetensor.errors import InvalidDtypeError, NonFiniteError

F = ht.nn.functional
NAN = np.nan
X4 = np.ones((1, 1, 4, 4))
W2 = np.ones((1, 1, 2, 2))
G3 = np.ones((1, 1, 3, 3))


def _ckks(**kwargs: Any) -> Any:
    from hetensor.he import Context

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Context.ckks(insecure=True, **kwargs)


def _after_forward(layer: Any, x: np.ndarray) -> Any:
    """``layer`` right after a forward pass on ``x`` (so backward may run)."""
    layer(x)
    return layer


def _summary(**kwargs: Any) -> Any:
    return ht.distributed.Summary(**kwargs)


SEQ = np.zeros((5, 2, 3))
NAN_SEQ_OUT = np.full((5, 2, 4), NAN)

# (id, call, expected exception, words the message must contain). ``call`` takes the row's
# fixtures: ``ctx`` (small insecure context) and ``tmp`` (a temporary directory).
Row = tuple[str, Callable[..., Any], type[BaseException], tuple[str, ...]]
PLAIN: list[Row] = [
    # nn.functional.conv2d / conv2d_backward / dropout
    (
        "conv2d num_threads=0",
        lambda: F.conv2d(X4, W2, num_threads=0),
        ValueError,
        ("num_threads", ">= 1", "0"),
    ),
    (
        "conv2d num_threads=-3",
        lambda: F.conv2d(X4, W2, num_threads=-3),
        ValueError,
        ("num_threads", ">= 1", "-3"),
    ),
    (
        "conv2d num_threads=1.5",
        lambda: F.conv2d(X4, W2, num_threads=1.5),
        TypeError,
        ("num_threads", "int", "float"),
    ),
    (
        "conv2d_backward num_threads=0",
        lambda: F.conv2d_backward(X4, W2, G3, num_threads=0),
        ValueError,
        ("num_threads",),
    ),
    (
        "conv2d_backward grad_output=None",
        lambda: F.conv2d_backward(X4, W2, None),
        TypeError,
        ("grad_output", "None"),
    ),
    (
        "conv2d_backward NaN grad_output",
        lambda: F.conv2d_backward(X4, W2, np.full((1, 1, 3, 3), NAN)),
        NonFiniteError,
        ("grad_output", "non-finite"),
    ),
    (
        "conv2d bool input",
        lambda: F.conv2d(X4.astype(bool), W2),
        InvalidDtypeError,
        ("input", "bool"),
    ),
    (
        "conv2d complex weight",
        lambda: F.conv2d(X4, W2 * 1j),
        InvalidDtypeError,
        ("weight", "complex"),
    ),
    ("conv2d ragged input", lambda: F.conv2d([[[1, 2], [3]]], W2), ValueError, ("input", "ragged")),
    ("conv2d NaN input", lambda: F.conv2d(X4 * NAN, W2), NonFiniteError, ("input",)),
    ("conv2d groups=1.5", lambda: F.conv2d(X4, W2, groups=1.5), TypeError, ("groups", "int")),
    ("conv2d stride=0", lambda: F.conv2d(X4, W2, stride=0), ValueError, ("stride", ">= 1")),
    ("Conv2d in_channels=2.5", lambda: ht.nn.Conv2d(2.5, 1, 3), TypeError, ("in_channels", "int")),
    (
        "Conv2d dtype=int32",
        lambda: ht.nn.Conv2d(1, 1, 3, dtype=np.int32),
        InvalidDtypeError,
        ("dtype", "float32", "float64"),
    ),
    (
        "Conv2d.load_state_dict list",
        lambda: ht.nn.Conv2d(1, 1, 3).load_state_dict([1, 2, 3]),
        TypeError,
        ("state", "mapping"),
    ),
    (
        "dropout NaN",
        lambda: F.dropout(np.array([1.0, NAN]), 0.5),
        NonFiniteError,
        ("x", "non-finite", "index 1"),
    ),
    ("dropout inf", lambda: F.dropout(np.array([np.inf]), 0.5), NonFiniteError, ("x",)),
    (
        "dropout bool input",
        lambda: F.dropout(np.ones(3, bool), 0.5),
        InvalidDtypeError,
        ("x", "bool"),
    ),
    (
        "dropout str input",
        lambda: F.dropout(np.array(["a"]), 0.5),
        InvalidDtypeError,
        ("x", "dtype"),
    ),
    ("dropout p=nan", lambda: F.dropout(np.ones(3), NAN), NonFiniteError, ("p", "finite")),
    ("dropout p='0.5'", lambda: F.dropout(np.ones(3), "0.5"), TypeError, ("p", "real number")),
    ("dropout p=1.5", lambda: F.dropout(np.ones(3), 1.5), ValueError, ("p", "[0, 1]")),
    # nn.LSTM / GRU / RNN
    (
        "LSTM bool input",
        lambda: ht.nn.LSTM(3, 4)(SEQ.astype(bool)),
        InvalidDtypeError,
        ("input", "bool"),
    ),
    (
        "GRU bool input",
        lambda: ht.nn.GRU(3, 4)(SEQ.astype(bool)),
        InvalidDtypeError,
        ("input", "bool"),
    ),
    (
        "RNN bool input",
        lambda: ht.nn.RNN(3, 4)(SEQ.astype(bool)),
        InvalidDtypeError,
        ("input", "bool"),
    ),
    (
        "LSTM ragged input",
        lambda: ht.nn.LSTM(3, 4)([[1, 2, 3], [1, 2]]),
        ValueError,
        ("input", "ragged"),
    ),
    (
        "LSTM NaN in backward(grad)",
        lambda: _after_forward(ht.nn.LSTM(3, 4), SEQ).backward(NAN_SEQ_OUT),
        NonFiniteError,
        ("grad_output", "non-finite"),
    ),
    (
        "GRU NaN in backward(grad)",
        lambda: _after_forward(ht.nn.GRU(3, 4), SEQ).backward(NAN_SEQ_OUT),
        NonFiniteError,
        ("grad_output",),
    ),
    (
        "RNN NaN in backward(grad)",
        lambda: _after_forward(ht.nn.RNN(3, 4), SEQ).backward(NAN_SEQ_OUT),
        NonFiniteError,
        ("grad_output",),
    ),
    (
        "RNN read-out NaN in backward(grad)",
        lambda: _after_forward(ht.nn.RNN(3, 4, output_size=2), SEQ).backward(
            np.full((5, 2, 2), NAN)
        ),
        NonFiniteError,
        ("grad_output",),
    ),
    (
        "LSTM NaN in backward(grad_hx)",
        lambda: _after_forward(ht.nn.LSTM(3, 4), SEQ).backward(
            None, (np.full((1, 2, 4), NAN), None)
        ),
        NonFiniteError,
        ("grad_h_n",),
    ),
    (
        "LSTM bool grad",
        lambda: _after_forward(ht.nn.LSTM(3, 4), SEQ).backward(np.ones((5, 2, 4), bool)),
        InvalidDtypeError,
        ("grad_output", "bool"),
    ),
    (
        "LSTM.load_state_dict([1, 2, 3])",
        lambda: ht.nn.LSTM(3, 4).load_state_dict([1, 2, 3]),
        TypeError,
        ("state", "mapping", "list"),
    ),
    (
        "GRU.load_state_dict bool entry",
        lambda: ht.nn.GRU(1, 1, bias=False).load_state_dict(
            {"weight_ih_l0": np.ones((3, 1), bool), "weight_hh_l0": np.ones((3, 1))}
        ),
        InvalidDtypeError,
        ("weight_ih_l0", "bool"),
    ),
    ("LSTM hidden_size=4.0", lambda: ht.nn.LSTM(3, 4.0), TypeError, ("hidden_size", "int")),
    ("LSTM hidden_size=0", lambda: ht.nn.LSTM(3, 0), ValueError, ("hidden_size", ">= 1")),
    (
        "GRU num_layers=True",
        lambda: ht.nn.GRU(3, 4, num_layers=True),
        TypeError,
        ("num_layers", "bool"),
    ),
    (
        "RNN output_size=2.5",
        lambda: ht.nn.RNN(3, 4, output_size=2.5),
        TypeError,
        ("output_size", "int"),
    ),
    (
        "RNN dtype=int32",
        lambda: ht.nn.RNN(3, 4, dtype=np.int32),
        InvalidDtypeError,
        ("dtype", "float32"),
    ),
    # linalg.power_iteration
    (
        "power_iteration bool matrix",
        lambda: ht.linalg.power_iteration(np.eye(3, dtype=bool), 1),
        InvalidDtypeError,
        ("A", "bool"),
    ),
    (
        "power_iteration dtype=int32",
        lambda: ht.linalg.power_iteration(np.eye(3), 1, dtype=np.int32),
        InvalidDtypeError,
        ("dtype", "int32", "float32"),
    ),
    (
        "power_iteration k=1.5",
        lambda: ht.linalg.power_iteration(np.eye(3), 1.5),
        TypeError,
        ("k", "int", "float"),
    ),
    (
        "power_iteration max_iter=0",
        lambda: ht.linalg.power_iteration(np.eye(3), 1, max_iter=0),
        ValueError,
        ("max_iter", ">= 1"),
    ),
    (
        "power_iteration tol=nan",
        lambda: ht.linalg.power_iteration(np.eye(3), 1, tol=NAN),
        NonFiniteError,
        ("tol",),
    ),
    (
        "power_iteration NaN matrix",
        lambda: ht.linalg.power_iteration(np.eye(3) * NAN, 1),
        NonFiniteError,
        (),
    ),
    (
        "power_iteration n=2.5",
        lambda: ht.linalg.power_iteration(lambda v: v, 1, n=2.5),
        TypeError,
        ("n", "int"),
    ),
    # signal.conv2d_pinv
    (
        "conv2d_pinv image_shape=(10.7, 3.9)",
        lambda: ht.signal.conv2d_pinv(np.ones((1, 1, 2, 2)), (10.7, 3.9)),
        TypeError,
        ("image_shape", "int", "10.7"),
    ),
    (
        "conv2d_pinv image_shape='ab'",
        lambda: ht.signal.conv2d_pinv(np.ones((1, 1, 2, 2)), "ab"),
        TypeError,
        ("image_shape",),
    ),
    (
        "conv2d_pinv bool kernel",
        lambda: ht.signal.conv2d_pinv(np.ones((1, 1, 2, 2), bool), (4, 4)),
        InvalidDtypeError,
        ("kernel", "bool"),
    ),
    (
        "conv2d_pinv NaN kernel",
        lambda: ht.signal.conv2d_pinv(np.full((1, 1, 2, 2), NAN), (4, 4)),
        NonFiniteError,
        ("kernel",),
    ),
    (
        "conv2d_pinv workers=0",
        lambda: ht.signal.conv2d_pinv(np.ones((1, 1, 2, 2)), (4, 4), workers=0),
        ValueError,
        ("workers", ">= 1"),
    ),
    (
        "conv2d_pinv rcond=nan",
        lambda: ht.signal.conv2d_pinv(np.ones((1, 1, 2, 2)), (4, 4), rcond=NAN),
        NonFiniteError,
        ("rcond",),
    ),
    (
        "conv2d_pinv apply NaN",
        lambda: ht.signal.conv2d_pinv(np.ones((1, 1, 2, 2)), (4, 4)).apply(np.full((1, 4, 4), NAN)),
        NonFiniteError,
        ("y",),
    ),
    # distributed.Summary
    (
        "Summary(count=-5, min=3, max=1)",
        lambda: _summary(count=-5, min=3, max=1),
        ValueError,
        ("count", ">= 0", "-5"),
    ),
    (
        "Summary(count=2, min=3, max=1)",
        lambda: _summary(count=2, min=3, max=1),
        ValueError,
        ("min", "max"),
    ),
    ("Summary(count=1.5)", lambda: _summary(count=1.5), TypeError, ("count", "int")),
    ("Summary(count=0, min=1)", lambda: _summary(count=0, min=1.0), ValueError, ("identity",)),
    ("Summary.of('a')", lambda: ht.distributed.Summary.of("a"), TypeError, ("score",)),
    (
        "Summary.of(nan)",
        lambda: ht.distributed.Summary.of(NAN),
        NonFiniteError,
        ("score", "finite"),
    ),
    (
        "Summary.identity(n_best=-1)",
        lambda: ht.distributed.Summary.identity(-1),
        ValueError,
        ("n_best", ">= 0"),
    ),
    # linear_model (plaintext twin; the encrypted estimator shares the checks)
    (
        "GramDescentRegression bool X",
        lambda: ht.linear_model.GramDescentRegression().fit(np.ones((3, 2), bool), np.ones(3)),
        InvalidDtypeError,
        ("X", "bool"),
    ),
    (
        "GramDescentRegression ragged X",
        lambda: ht.linear_model.GramDescentRegression().fit([[1, 2], [3]], [1, 2]),
        ValueError,
        ("X", "ragged"),
    ),
    (
        "GramDescentRegression max_iter=2.5",
        lambda: ht.linear_model.GramDescentRegression(max_iter=2.5).fit(
            np.ones((3, 2)), np.ones(3)
        ),
        TypeError,
        ("max_iter", "int"),
    ),
    (
        "GramDescentRegression alpha=nan",
        lambda: ht.linear_model.GramDescentRegression(alpha=NAN).fit(np.ones((3, 2)), np.ones(3)),
        NonFiniteError,
        ("alpha",),
    ),
    (
        "GramDescentRegression bool sample_weight",
        lambda: ht.linear_model.GramDescentRegression().fit(
            np.ones((3, 2)), np.ones(3), sample_weight=np.ones(3, bool)
        ),
        InvalidDtypeError,
        ("sample_weight", "bool"),
    ),
    # save / load (hetensor.io)
    ("save path=123", lambda tmp: ht.save(123, np.ones(2)), TypeError, ("path", "int")),
    ("load path=None", lambda tmp: ht.load(None), TypeError, ("path", "NoneType")),
    (
        "save object array",
        lambda tmp: ht.save(tmp / "a.h5", np.array([object()])),
        InvalidDtypeError,
        ("dtype object",),
    ),
    ("save unknown type", lambda tmp: ht.save(tmp / "a.h5", object()), TypeError, ("object",)),
    (
        "load isolate='yes'",
        lambda tmp: ht.load(tmp / "a.h5", isolate="yes"),
        TypeError,
        ("isolate", "bool"),
    ),
]

ENCRYPTED: list[Row] = [
    # Context.ckks
    ("ckks depth=2.5", lambda ctx: _ckks(depth=2.5), TypeError, ("depth", "int", "float")),
    ("ckks depth=0", lambda ctx: _ckks(depth=0), ValueError, ("depth", ">= 1")),
    ("ckks depth=True", lambda ctx: _ckks(depth=True), TypeError, ("depth", "bool")),
    ("ckks scale_bits='40'", lambda ctx: _ckks(scale_bits="40"), TypeError, ("scale_bits", "str")),
    (
        "ckks scale_bits=70",
        lambda ctx: _ckks(scale_bits=70),
        ValueError,
        ("scale_bits", "between 20 and 59"),
    ),
    (
        "ckks ring_dim=1000",
        lambda ctx: _ckks(ring_dim=1000),
        ValueError,
        ("ring_dim", "power of two"),
    ),
    ("ckks slots=2.0", lambda ctx: _ckks(slots=2.0), TypeError, ("slots", "int")),
    (
        "ckks level_budget=5",
        lambda ctx: _ckks(level_budget=5),
        TypeError,
        ("level_budget", "sequence of ints"),
    ),
    (
        "ckks level_budget=(3, 2.5)",
        lambda ctx: _ckks(level_budget=(3, 2.5)),
        TypeError,
        ("level_budget", "int", "2.5"),
    ),
    ("ckks security='128'", lambda ctx: type(ctx).ckks(security="128"), ValueError, ("security",)),
    # encrypt / encrypt_vector
    (
        "encrypt([[1, 2], [3]])",
        lambda ctx: ctx.encrypt([[1, 2], [3]]),
        ValueError,
        ("values", "ragged"),
    ),
    (
        "encrypt bool",
        lambda ctx: ctx.encrypt(np.array([True, False])),
        InvalidDtypeError,
        ("values", "bool"),
    ),
    (
        "encrypt complex",
        lambda ctx: ctx.encrypt([1 + 2j]),
        InvalidDtypeError,
        ("values", "complex"),
    ),
    ("encrypt str", lambda ctx: ctx.encrypt(["a"]), InvalidDtypeError, ("values", "dtype")),
    (
        "encrypt object",
        lambda ctx: ctx.encrypt(np.array([object()])),
        InvalidDtypeError,
        ("values", "object"),
    ),
    (
        "encrypt NaN",
        lambda ctx: ctx.encrypt([0.0, NAN]),
        NonFiniteError,
        ("values", "non-finite", "index 1"),
    ),
    (
        "encrypt_vector ragged",
        lambda ctx: ctx.encrypt_vector([[1.0], []]),
        ValueError,
        ("values", "ragged"),
    ),
    ("encrypt_vector bool", lambda ctx: ctx.encrypt_vector([True]), InvalidDtypeError, ("bool",)),
    # EncryptedArray and Ciphertext operations
    (
        "rotate(1.5)",
        lambda ctx: ctx.encrypt_vector([1.0, 2.0]).rotate(1.5),
        TypeError,
        ("k", "int", "1.5"),
    ),
    (
        "rotate('a')",
        lambda ctx: ctx.encrypt_vector([1.0, 2.0]).rotate("a"),
        TypeError,
        ("k", "int", "str"),
    ),
    (
        "sum(axis=0.5)",
        lambda ctx: ctx.encrypt(np.ones((2, 3))).sum(axis=0.5),
        TypeError,
        ("axis", "int", "0.5"),
    ),
    (
        "sum(axis='a')",
        lambda ctx: ctx.encrypt(np.ones((2, 3))).sum(axis="a"),
        TypeError,
        ("axis", "str"),
    ),
    (
        "mean(axis=(0, 1.5))",
        lambda ctx: ctx.encrypt(np.ones((2, 3))).mean(axis=(0, 1.5)),
        TypeError,
        ("axis", "int"),
    ),
    ("sum(axis=2)", lambda ctx: ctx.encrypt(np.ones((2, 3))).sum(axis=2), ValueError, ("axis 2",)),
    (
        "transpose((0, 1.5))",
        lambda ctx: ctx.encrypt(np.ones((2, 3))).transpose((0, 1.5)),
        TypeError,
        ("axes", "int"),
    ),
    (
        "reshape(2.5)",
        lambda ctx: ctx.encrypt(np.ones(2)).reshape(2.5),
        TypeError,
        ("shape", "int", "2.5"),
    ),
    (
        "reshape((1, 'a'))",
        lambda ctx: ctx.encrypt(np.ones(2)).reshape((1, "a")),
        TypeError,
        ("shape", "str"),
    ),
    ("a ** 1.5", lambda ctx: ctx.encrypt(np.ones(2)) ** 1.5, TypeError, ("exponent", "int")),
    (
        "a + bool array",
        lambda ctx: ctx.encrypt(np.ones(2)) + np.array([True, False]),
        InvalidDtypeError,
        ("bool",),
    ),
    ("a * nan", lambda ctx: ctx.encrypt(np.ones(2)) * NAN, NonFiniteError, ("nan",)),
    (
        "a + ragged",
        lambda ctx: ctx.encrypt(np.ones(2)).__add__([[1, 2], [3]]),
        ValueError,
        ("operand", "ragged"),
    ),
    ("placeholder((2, 2.5))", lambda ctx: ctx.placeholder((2, 2.5)), TypeError, ("shape", "int")),
    (
        "chebyshev degree=7.5",
        lambda ctx: ht.he.chebyshev(np.tanh, ctx.encrypt(np.zeros(2)), (-1, 1), 7.5),
        TypeError,
        ("degree", "int"),
    ),
    # keys
    (
        "generate_keys(rotations=['a'])",
        lambda ctx: ctx.generate_keys(rotations=["a"]),
        TypeError,
        ("rotations", "int", "str"),
    ),
    (
        "generate_keys(rotations=[1.5])",
        lambda ctx: ctx.generate_keys(rotations=[1.5]),
        TypeError,
        ("rotations", "1.5"),
    ),
    (
        "generate_keys(rotations=3)",
        lambda ctx: ctx.generate_keys(rotations=3),
        TypeError,
        ("rotations", "sequence"),
    ),
    ("KeyPlan.for_sum(2.5)", lambda ctx: ht.he.KeyPlan.for_sum(2.5), TypeError, ("length", "int")),
    # linear_model
    (
        "key_plan(10.7, 3.9)",
        lambda ctx: ht.linear_model.EncryptedLinearRegression().key_plan(10.7, 3.9),
        TypeError,
        ("n_samples", "int", "10.7"),
    ),
    (
        "key_plan('ten', 3)",
        lambda ctx: ht.linear_model.EncryptedLinearRegression().key_plan("ten", 3),
        TypeError,
        ("n_samples", "str"),
    ),
    (
        "key_plan(10, 0)",
        lambda ctx: ht.linear_model.EncryptedLinearRegression().key_plan(10, 0),
        ValueError,
        ("n_features", ">= 1"),
    ),
    (
        "EncryptedLinearRegression(max_iter=2.5)",
        lambda ctx: ht.linear_model.EncryptedLinearRegression(max_iter=2.5).check_params(),
        TypeError,
        ("max_iter", "int"),
    ),
    (
        "encrypt_dataset bool y",
        lambda ctx: ht.linear_model.encrypt_dataset(ctx, np.ones((3, 2)), np.ones(3, bool)),
        InvalidDtypeError,
        ("y", "bool"),
    ),
    (
        "encrypt_dataset NaN X",
        lambda ctx: ht.linear_model.encrypt_dataset(ctx, np.full((3, 2), NAN), np.ones(3)),
        NonFiniteError,
        ("X",),
    ),
    # load with a context of the wrong type
    (
        "load context='ctx'",
        lambda ctx: ht.load("x.h5", context="ctx"),
        TypeError,
        ("context", "str"),
    ),
]


def _run(call: Callable[..., Any], fixtures: dict[str, Any]) -> Any:
    names = call.__code__.co_varnames[: call.__code__.co_argcount]
    return call(*(fixtures[n] for n in names))


def _check(
    call: Callable[..., Any],
    exc: type[BaseException],
    words: tuple[str, ...],
    fixtures: dict[str, Any],
) -> None:
    with pytest.raises(exc) as info:
        _run(call, fixtures)
    assert type(info.value) not in (AssertionError, KeyError), "a bare error escaped"
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


@pytest.mark.parametrize(
    ("call", "exc", "words"), [r[1:] for r in PLAIN], ids=[r[0] for r in PLAIN]
)
def test_plain_entry_points(call, exc, words, tmp_path):
    _check(call, exc, words, {"tmp": tmp_path})


@pytest.mark.parametrize(
    ("call", "exc", "words"), [r[1:] for r in ENCRYPTED], ids=[r[0] for r in ENCRYPTED]
)
def test_encrypted_entry_points(call, exc, words, ctx):
    _check(call, exc, words, {"ctx": ctx})


# ---------------------------------------------------------------------- valid input
def test_integers_are_cast_like_numpy_in_plain_kernels():
    xi = np.arange(16).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(F.conv2d(xi, W2.astype(int)), F.conv2d(xi.astype(float), W2))
    y, m = F.dropout(np.arange(4), 0.5, rng=0, return_mask=True)
    assert y.dtype == np.float64 and np.array_equal(y, np.arange(4) * m)
    lstm = ht.nn.LSTM(3, 4, dtype=np.float64, seed=0)
    seq = np.arange(30).reshape(5, 2, 3) % 3
    np.testing.assert_array_equal(lstm(seq)[0], lstm(seq.astype(float))[0])
    vals, _, _ = ht.linalg.power_iteration(np.diag([3, 2, 1]), 1, seed=0)
    np.testing.assert_allclose(vals, [3.0], rtol=1e-10)
    op = ht.signal.conv2d_pinv(np.ones((1, 1, 2, 2), dtype=int), (np.int64(4), 4), workers=1)
    assert op.image_shape == (4, 4)
    assert ht.distributed.Summary(count=2, _sum=(3.0,), min=1, max=2).max == 2
    F.conv2d(X4, W2, num_threads=np.int64(1))


def test_booleans_round_trip_where_they_mean_something(tmp_path):
    mask = np.array([True, False, True])
    ht.save(tmp_path / "mask.h5", mask)
    np.testing.assert_array_equal(ht.load(str(tmp_path / "mask.h5")), mask)


def test_integers_are_cast_like_numpy_in_the_encrypted_layer(ctx):
    a = ctx.encrypt(np.array([1, -2, 3]))
    np.testing.assert_allclose(ctx.decrypt(a * 2 + np.array([1, 1, 1])), [3, -3, 7], atol=1e-4)
    np.testing.assert_allclose(ctx.decrypt(a.sum(axis=np.int64(0))), 2.0, atol=1e-4)
    v = ctx.encrypt_vector([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(ctx.decrypt(v.rotate(np.int64(1))), [2, 3, 4, 1], atol=1e-4)
    plan = ht.linear_model.EncryptedLinearRegression().key_plan(np.int64(10), 3)
    assert plan.rotations and all(isinstance(k, int) for k in plan.rotations)
