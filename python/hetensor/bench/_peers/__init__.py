"""Peer workers for the ``peers.*`` benchmark cases (:mod:`hetensor.bench.peers`).

Each worker is a standalone program run by its library's own interpreter (TenSEAL and
openfhe-numpy live in their own venvs, ``make bench-peers``): ``python -m _peers.WORKER OP IN
OUT REPEAT PARAMS``. It reads the operands from the ``.npz`` file IN, builds its context and keys
(untimed, reported as ``setup_s``), times the operation ``REPEAT`` times after one warm-up, and
prints one JSON line (library, version, times, parameters, peak RSS); the decrypted result goes
to the ``.npz`` file OUT so the driver can check it against NumPy. The workers import nothing
of hetensor: they run as ``python -m _peers.WORKER`` with ``hetensor/bench`` on the path, so
:mod:`._protocol` is their only import from here.
"""
