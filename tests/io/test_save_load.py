"""ht.save / ht.load: round trips of every object type, versions, atomicity, bad files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import hetensor as ht  # noqa: E402
from hetensor import io as htio  # noqa: E402
from hetensor.errors import (  # noqa: E402
    ContextMismatchError,
    FormatError,
    InvalidDtypeError,
)
from hetensor.io import _arrays  # noqa: E402


@pytest.fixture(scope="module")
def other_ctx(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return he.Context.ckks(depth=1, insecure=True)


def test_plain_array_and_state_dict(tmp_path, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    ht.save(tmp_path / "x.h5", x)
    y = ht.load(tmp_path / "x.h5")
    assert y.dtype == np.float32 and np.array_equal(x, y)
    state = {
        "layer/0.weight": x,
        "odd key with spaces": np.arange(3),
        "scalar": 2.5,
        "nested": {"a": np.ones(2, bool), "b": {"c": np.zeros((0, 2))}},
    }
    ht.save(tmp_path / "s.h5", state)
    back = ht.load(tmp_path / "s.h5")
    assert list(back) == list(state)
    assert np.array_equal(back["layer/0.weight"], x)
    assert back["scalar"] == 2.5 and back["nested"]["a"].dtype == bool
    assert back["nested"]["b"]["c"].shape == (0, 2)


def test_attributes_record_versions(tmp_path):
    ht.save(tmp_path / "x.h5", np.arange(4.0))
    with h5py.File(tmp_path / "x.h5") as f:
        attrs = dict(f.attrs)
    assert attrs["format"] == "hetensor" and attrs["format_version"] == htio.FILE_FORMAT_VERSION
    assert attrs["hetensor_version"] == ht.__version__
    assert attrs["kind"] == "ndarray" and "openfhe_version" in attrs and "h5py_version" in attrs


def test_conv2d_round_trip(tmp_path, rng):
    conv = ht.nn.Conv2d(2, 4, (3, 2), stride=(1, 2), padding=(1, 0), groups=2, rng=3)
    ht.save(tmp_path / "conv.h5", conv)
    back = ht.load(tmp_path / "conv.h5")
    assert isinstance(back, ht.nn.Conv2d)
    assert (back.kernel_size, back.stride, back.padding, back.groups) == (
        (3, 2),
        (1, 2),
        (1, 0),
        2,
    )
    same = ht.nn.Conv2d(1, 2, 3, padding="same", rng=1)
    ht.save(tmp_path / "same.h5", same)
    assert ht.load(tmp_path / "same.h5").padding == "same"
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    assert np.array_equal(conv(x), back(x))
    nobias = ht.nn.Conv2d(1, 1, 3, bias=False, dtype=np.float64, rng=0)
    ht.save(tmp_path / "nb.h5", nobias)
    assert ht.load(tmp_path / "nb.h5").bias is None


@pytest.mark.parametrize(
    "layer",
    [
        lambda: ht.nn.LSTM(3, 4, 2, bidirectional=True, seed=0),
        lambda: ht.nn.LSTM(3, 4, peepholes=True, coupled_input_forget=True, seed=1),
        lambda: ht.nn.GRU(3, 5, batch_first=True, dtype=np.float64, seed=2),
        lambda: ht.nn.RNN(4, 3, nonlinearity="relu", output_size=4, seed=3),
    ],
    ids=["lstm-bidir", "lstm-variants", "gru", "rnn-readout"],
)
def test_recurrent_round_trip(tmp_path, rng, layer):
    layer = layer()
    ht.save(tmp_path / "rnn.h5", layer)
    back = ht.load(tmp_path / "rnn.h5")
    assert type(back) is type(layer)
    x = rng.standard_normal((5, 2, layer.input_size)).astype(layer.dtype)
    out, back_out = layer(x), back(x)
    first = (lambda o: o[0]) if isinstance(out, tuple) else (lambda o: o)
    np.testing.assert_array_equal(first(out), first(back_out))
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)


def test_encrypted_round_trips(tmp_path, ctx, rng):
    x = rng.uniform(-1, 1, (3, 5))
    m = rng.uniform(-1, 1, (4, 4))
    v = rng.uniform(-1, 1, 6)
    objs = {
        "a": (ctx.encrypt(x), x),
        "m": (ctx.encrypt(m, layout="diagonal"), m),
        "c": (ctx.encrypt_vector(v), v),
    }
    for name, (obj, ref) in objs.items():
        ht.save(tmp_path / f"{name}.h5", obj)
        back = ht.load(tmp_path / f"{name}.h5", context=ctx)
        assert type(back) is type(obj)
        np.testing.assert_allclose(ctx.decrypt(back), ref, atol=1e-5)


def test_context_public_and_secret_key_files(tmp_path, ctx, rng):
    ht.save(tmp_path / "ctx.h5", ctx)
    public = ht.load(tmp_path / "ctx.h5")
    assert public.role == "public" and public.fingerprint == ctx.fingerprint
    with h5py.File(tmp_path / "ctx.h5") as f:  # the secret key is never in a context file
        data = bytes(f["envelope"][()].tobytes())
    assert "secret_key" not in ht.he.serialize.unpack(data, "context")[1]
    ht.save_secret_key(tmp_path / "owner.key", ctx)
    assert os.stat(tmp_path / "owner.key").st_mode & 0o077 == 0
    owner = ht.load(tmp_path / "owner.key", context=public)
    assert owner.role == "owner"
    x = rng.uniform(-1, 1, 8)
    ct = public.encrypt(x)
    np.testing.assert_allclose(owner.decrypt(ct), x, atol=1e-6)
    with pytest.raises(TypeError, match="context="):
        ht.load(tmp_path / "owner.key")


def test_wrong_context_raises(tmp_path, ctx, other_ctx):
    ht.save(tmp_path / "a.h5", ctx.encrypt(np.ones(3)))
    with pytest.raises(ContextMismatchError):
        ht.load(tmp_path / "a.h5", context=other_ctx)
    with pytest.raises(TypeError, match="context="):
        ht.load(tmp_path / "a.h5")
    ht.save_secret_key(tmp_path / "k.h5", ctx)
    with pytest.raises(ContextMismatchError):
        ht.load(tmp_path / "k.h5", context=other_ctx)
    # envelope-level check too (attribute removed): the fingerprint inside still says no
    with h5py.File(tmp_path / "a.h5", "a") as f:
        del f.attrs["context_fingerprint"]
    with pytest.raises(ContextMismatchError):
        ht.load(tmp_path / "a.h5", context=other_ctx)


def test_isolated_load(tmp_path, ctx):
    ht.save(tmp_path / "a.h5", ctx.encrypt(np.arange(4.0) / 4))
    back = ht.load(tmp_path / "a.h5", context=ctx, isolate=True)
    np.testing.assert_allclose(ctx.decrypt(back), np.arange(4.0) / 4, atol=1e-6)
    ht.save(tmp_path / "c.h5", ctx)
    assert ht.load(tmp_path / "c.h5", isolate=True).fingerprint == ctx.fingerprint


def test_newer_format_refused_older_attrs_tolerated(tmp_path):
    ht.save(tmp_path / "x.h5", np.arange(3.0))
    with h5py.File(tmp_path / "x.h5", "a") as f:
        del f.attrs["openfhe_version"], f.attrs["h5py_version"]  # as a lean older writer
    assert np.array_equal(ht.load(tmp_path / "x.h5"), np.arange(3.0))
    with h5py.File(tmp_path / "x.h5", "a") as f:
        f.attrs["format_version"] = htio.FILE_FORMAT_VERSION + 1
    with pytest.raises(FormatError, match=r"newer.*upgrade hetensor"):
        ht.load(tmp_path / "x.h5")


def test_bad_files(tmp_path, ctx):
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(FormatError, match="not a readable HDF5"):
        ht.load(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(FormatError, match="not one written by hetensor"):
        ht.load(tmp_path / "foreign.h5")
    with pytest.raises(FileNotFoundError):
        ht.load(tmp_path / "missing.h5")
    ht.save(tmp_path / "x.h5", np.arange(3.0))
    with h5py.File(tmp_path / "x.h5", "a") as f:
        f.attrs["kind"] = "quantum_model"
    with pytest.raises(FormatError, match="quantum_model"):
        ht.load(tmp_path / "x.h5")
    # truncated file
    ht.save(tmp_path / "a.h5", ctx.encrypt(np.ones(4)))
    raw = (tmp_path / "a.h5").read_bytes()
    (tmp_path / "t.h5").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FormatError):
        ht.load(tmp_path / "t.h5", context=ctx)


def test_corrupt_payload_caught(tmp_path, ctx):
    ht.save(tmp_path / "a.h5", ctx.encrypt(np.ones(4)))
    with h5py.File(tmp_path / "a.h5", "a") as f:
        data = f["envelope"][()]
        del f["envelope"]
        data[len(data) // 2] ^= 0x10
        f.create_dataset("envelope", data=data)  # no Fletcher-32: the envelope must catch it
    with pytest.raises(FormatError, match="checksum"):
        ht.load(tmp_path / "a.h5", context=ctx)


def test_unsupported_objects(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object"):
        ht.save(tmp_path / "o.h5", object())
    with pytest.raises(InvalidDtypeError):
        ht.save(tmp_path / "o.h5", np.array(["a", "b"]))
    with pytest.raises(TypeError, match="keys must be str"):
        ht.save(tmp_path / "o.h5", {1: np.ones(2)})
    assert not list(tmp_path.iterdir())  # failed saves leave nothing behind


def test_register_new_type(tmp_path):
    class Scaler:
        def __init__(self, mean):
            self.mean = np.asarray(mean)

    htio.register(
        Scaler,
        "test_scaler",
        lambda g, s: g.create_dataset("mean", data=s.mean),
        lambda g, opts: Scaler(g["mean"][()]),
    )
    ht.save(tmp_path / "s.h5", Scaler([1.0, 2.0]))
    assert np.array_equal(ht.load(tmp_path / "s.h5").mean, [1.0, 2.0])


def test_failed_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.h5"
    ht.save(path, {"w": np.arange(5.0)})

    def boom(group, name, value, where):
        group.create_dataset(name, data=np.zeros(10))
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(_arrays, "write_array", boom)
    with pytest.raises(OSError, match="simulated"):
        ht.save(path, {"w": np.ones(1000)})
    monkeypatch.undo()
    assert np.array_equal(ht.load(path)["w"], np.arange(5.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.h5"]


def test_killed_save_keeps_old_file(tmp_path):
    """A process SIGKILLed in the middle of writing: the old file stays valid."""
    path = tmp_path / "w.h5"
    ht.save(path, {"w": np.arange(5.0)})
    script = textwrap.dedent(
        f"""
        import sys, time, numpy as np
        import hetensor as ht
        from hetensor.io import _arrays
        real = _arrays.write_array
        def slow(group, name, value, where):
            real(group, name, value, where)
            group.file.flush()
            print("half-written", flush=True)
            time.sleep(60)
        _arrays.write_array = slow
        ht.save({str(path)!r}, {{"w": np.ones(100000), "v": np.ones(3)}})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "half-written"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert np.array_equal(ht.load(path)["w"], np.arange(5.0))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "w.h5"]
    assert all(n.startswith(".w.h5.") and n.endswith(".tmp") for n in leftovers)


def test_save_to_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        ht.save(tmp_path / "nope" / "x.h5", np.ones(2))
    json.dumps(None)
