"""Saving and loading hetensor objects as HDF5 files (``ht.save`` / ``ht.load``).

One object per file. The file's root attributes say what it holds and who wrote it::

    format           "hetensor"
    format_version   FILE_FORMAT_VERSION (files from a newer hetensor are refused)
    kind             registry name: "encrypted_array", "context", "secret_key", "conv2d",
                     "ndarray", "state_dict", ...
    hetensor_version, openfhe_version, h5py_version, object_type

Encrypted objects and contexts are stored as one ``uint8`` dataset, ``envelope``, holding the
checked envelope of :mod:`hetensor.he.serialize` (magic, format version, kind, context
fingerprint, sections, BLAKE2b checksum), so the bytes OpenFHE parses are checked twice: by
HDF5's Fletcher-32 filter and by the envelope's checksum. Plain arrays are stored as
datasets (Fletcher-32 checksummed where HDF5 allows, i.e. non-empty arrays of rank >= 1).

Writes are atomic (:mod:`hetensor.io._atomic`): a crash mid-save never leaves a truncated file
where a good one was. h5py is imported on first use: ``pip install 'hetensor[io]'``.

New object types plug in with :func:`register` (a writer and a reader); see the README.

The code is split by concern: the file format (root attributes, version checks, ``save``,
``load``, ``save_secret_key``) in :mod:`hetensor.io._format`, the type registry in
:mod:`hetensor.io._registry`, and one codec module per owner, each registering its own
kinds when imported: :mod:`~hetensor.io._arrays` (arrays, state dicts),
:mod:`~hetensor.io._nn` (layers), :mod:`~hetensor.io._models` (regression models) and
:mod:`~hetensor.io._encrypted` (contexts, encrypted objects, secret keys). Importing this
package imports neither h5py nor openfhe nor scikit-learn.

Examples
--------
>>> import numpy as np, os, tempfile
>>> import hetensor as ht
>>> path = os.path.join(tempfile.mkdtemp(), "weights.h5")
>>> ht.save(path, {"w": np.arange(3.0), "b": np.float64(0.5)})
>>> ht.load(path)["w"]
array([0., 1., 2.])
"""

from __future__ import annotations

# The built-in codecs register their kinds when imported.
from . import _arrays, _encrypted, _models, _nn  # noqa: F401
from ._format import FILE_FORMAT_VERSION, load, save, save_secret_key
from ._registry import LoadOptions, register

__all__ = ["FILE_FORMAT_VERSION", "LoadOptions", "load", "register", "save", "save_secret_key"]
