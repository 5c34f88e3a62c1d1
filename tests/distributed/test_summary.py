"""Summary is a commutative monoid, exactly (hypothesis), and folds with dask.bag."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("distributed")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hetensor.distributed import Summary  # noqa: E402

scores = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
results = st.lists(st.tuples(scores, st.tuples(st.integers(0, 3))), max_size=8)
summaries = results.map(lambda rs: Summary.of_many(rs, n_best=3))


@settings(max_examples=200, deadline=None)
@given(summaries, summaries, summaries)
def test_merge_is_associative(a, b, c):
    assert (a + b) + c == a + (b + c)


@settings(max_examples=200, deadline=None)
@given(summaries, summaries)
def test_merge_is_commutative(a, b):
    assert a + b == b + a


@settings(max_examples=100, deadline=None)
@given(summaries)
def test_identity(a):
    e = Summary.identity(3)
    assert e + a == a == a + e


@settings(max_examples=100, deadline=None)
@given(results)
def test_fields_match_a_direct_computation(rs):
    s = Summary.of_many(rs, n_best=3)
    values = [r[0] for r in rs]
    assert s.count == len(rs)
    assert s.sum == math.fsum(values)  # exact sum, correctly rounded
    assert s.min == (min(values) if values else math.inf)
    assert s.max == (max(values) if values else -math.inf)
    assert list(s.best) == sorted(rs)[:3]


def test_dask_bag_fold_and_reduction():
    db = pytest.importorskip("dask.bag")
    rs = [(float((7 * i) % 11) / 3.0, (i,)) for i in range(40)]
    expected = Summary.of_many(rs, n_best=4)
    bag = db.from_sequence(rs, npartitions=5).map(lambda r: Summary.of(*r, n_best=4))
    folded = bag.fold(Summary.merge, initial=Summary.identity(4)).compute(scheduler="sync")
    assert folded == expected
    reduced = bag.reduction(
        lambda part: sum(part, Summary.identity(4)),
        lambda parts: sum(parts, Summary.identity(4)),
        split_every=2,
    ).compute(scheduler="sync")
    assert reduced == expected
    assert expected.best[0] == (0.0, (0,)) and expected.count == 40


def test_bad_input():
    with pytest.raises(ValueError, match="finite"):
        Summary.of(float("nan"))
    with pytest.raises(TypeError, match="tuple"):
        Summary.of(1.0, "label")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keeping 2 and 3 best"):
        Summary.of(1.0, n_best=2) + Summary.of(2.0, n_best=3)
    with pytest.raises(TypeError, match="merge"):
        Summary.identity().merge(3)  # type: ignore[arg-type]
    assert math.isnan(Summary.identity().mean)
    assert sum([Summary.of(1.0), Summary.of(2.0)]).mean == 1.5


def test_docstring_examples_run():
    import doctest

    from hetensor.distributed import _search, _summary

    for mod in (_summary, _search):
        assert doctest.testmod(mod).failed == 0
