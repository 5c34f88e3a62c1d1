"""Slot layouts and encoding for packed ciphertexts."""

from collections.abc import Sequence
from typing import SupportsIndex

import numpy as np
from numpy.typing import ArrayLike, NDArray

class VectorLayout:
    """Where the elements of a 1-D vector sit in the slots of one ciphertext.

    The vector occupies the first ``length`` slots of a block of ``period`` slots (a power of
    two, zero padded); the block repeats ``copies`` times. With ``copies * period == slots``
    the slot vector is periodic, so rotating the ciphertext rotates every block cyclically.
    """

    def __init__(
        self,
        length: SupportsIndex,
        period: SupportsIndex,
        copies: SupportsIndex,
        slots: SupportsIndex,
    ) -> None: ...
    @property
    def length(self) -> int: ...
    @property
    def period(self) -> int: ...
    @property
    def copies(self) -> int: ...
    @property
    def slots(self) -> int: ...
    @property
    def replicated(self) -> bool: ...
    # Only another VectorLayout compares: any other operand raises TypeError.
    def __eq__(self, other: VectorLayout, /) -> bool: ...  # type: ignore[override]
    def __hash__(self) -> int: ...
    def __getstate__(self) -> tuple[int, int, int, int]: ...
    def __setstate__(self, state: tuple[int, int, int, int], /) -> None: ...

class ArrayLayout:
    """Bit-field slot layout of an N-d array in packed ciphertexts (see array_layout.hpp).

    Element ``(i_0, ..., i_{n-1})`` sits in slot ``sum_k i_k * strides[k]`` of a block of
    ``period`` slots that repeats over all ``slots``; axis ``k`` is padded to ``pads[k]``.
    Arrays larger than one ciphertext are split along axis 0 into ``n_chunks`` ciphertexts of
    ``chunk_rows`` rows.
    """

    def __init__(
        self,
        shape: Sequence[SupportsIndex],
        pads: Sequence[SupportsIndex],
        strides: Sequence[SupportsIndex],
        period: SupportsIndex,
        slots: SupportsIndex,
        chunk_rows: SupportsIndex,
        n_chunks: SupportsIndex,
    ) -> None: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def pads(self) -> tuple[int, ...]: ...
    @property
    def strides(self) -> tuple[int, ...]: ...
    @property
    def period(self) -> int: ...
    @property
    def slots(self) -> int: ...
    @property
    def chunk_rows(self) -> int: ...
    @property
    def n_chunks(self) -> int: ...
    @property
    def ndim(self) -> int: ...
    @property
    def size(self) -> int: ...
    # Only another ArrayLayout compares: any other operand raises TypeError.
    def __eq__(self, other: ArrayLayout, /) -> bool: ...  # type: ignore[override]
    def __hash__(self) -> int: ...
    def __getstate__(
        self,
    ) -> tuple[list[int], list[int], list[int], int, int, int, int]: ...
    def __setstate__(
        self,
        state: tuple[
            Sequence[SupportsIndex],
            Sequence[SupportsIndex],
            Sequence[SupportsIndex],
            SupportsIndex,
            SupportsIndex,
            SupportsIndex,
            SupportsIndex,
        ],
        /,
    ) -> None: ...

class BsgsPlan:
    """Baby-step giant-step plan of a diagonal (Halevi-Shoup) matrix-vector product on an
    ``n x n`` (padded) matrix in the doubled diagonal layout: ``len(baby_steps) +
    len(block_steps) + len(giant_steps)`` rotations instead of ``n``.
    """

    @property
    def n(self) -> int: ...
    @property
    def baby(self) -> int: ...
    @property
    def giant(self) -> int: ...
    @property
    def slots(self) -> int: ...
    @property
    def baby_steps(self) -> list[int]: ...
    @property
    def block_steps(self) -> list[int]: ...
    @property
    def giant_steps(self) -> list[int]: ...

def plan_vector(
    length: SupportsIndex, slots: SupportsIndex, replicate: bool = True
) -> VectorLayout:
    """Plan the layout of a vector of ``length`` elements in a ciphertext with ``slots`` slots.

    Raises ``hetensor.errors.CapacityError`` when ``length > slots`` and ``ValueError`` for
    non-positive sizes or a slot count that is not a power of two.

    >>> from hetensor._core import packing
    >>> packing.plan_vector(5, 16)
    VectorLayout(length=5, period=8, copies=2, slots=16)
    """

def encode_vector(values: ArrayLike, layout: VectorLayout) -> NDArray[np.float64]:
    """Slot vector (``layout.slots`` doubles) holding ``values`` padded and replicated per
    ``layout``. Raises ``hetensor.errors.NonFiniteError`` naming the first NaN or infinity."""

def decode_vector(
    slot_values: ArrayLike, layout: VectorLayout, average: bool = True
) -> NDArray[np.float64]:
    """The ``layout.length`` elements of a decoded slot vector; with ``average`` each element is
    the mean of its replicas, which lowers CKKS noise by about ``sqrt(layout.copies)``."""

def rotation_sum_steps(period: SupportsIndex) -> list[int]:
    """Rotation steps (1, 2, 4, ..., period/2) of a rotate-and-sum that leaves the total of a
    power-of-two block in each of its slots: log2(period) rotations instead of period - 1."""

def next_pow2(n: SupportsIndex) -> int:
    """Smallest power of two >= ``n`` (``n >= 1``)."""

def normalize_rotation(k: SupportsIndex, slots: SupportsIndex) -> int:
    """The rotation index in ``[0, slots)`` equivalent to rotating by ``k``."""

def plan_array(shape: Sequence[SupportsIndex], slots: SupportsIndex) -> ArrayLayout:
    """Canonical row-major layout of an array of ``shape``: axes padded to powers of two, split
    along axis 0 over several ciphertexts when it does not fit one.

    >>> from hetensor._core import packing
    >>> packing.plan_array((3, 4), 64).strides
    (4, 1)
    """

def encode_array(values: ArrayLike, layout: ArrayLayout) -> NDArray[np.float64]:
    """Slot vectors ``(n_chunks, slots)`` for ``values`` (C order) in ``layout``;
    raises ``hetensor.errors.NonFiniteError`` on NaN/inf."""

def decode_array(
    slot_values: ArrayLike, layout: ArrayLayout, average: bool = True
) -> NDArray[np.float64]:
    """The array held by decoded slot vectors; ``average`` takes the mean of replicas."""

def reduce_steps(layout: ArrayLayout, axis: SupportsIndex) -> list[int]:
    """Rotation steps of a sum over ``axis``: log2(pads[axis]) of them."""

def reduced_layout(
    layout: ArrayLayout, axis: SupportsIndex, keepdims: bool = False
) -> tuple[ArrayLayout, bool]:
    """``(layout, cyclic)`` after a sum over ``axis``; ``cyclic`` when every position along
    the axis holds the sum (the axis held the block's top bits)."""

def transpose_layout(layout: ArrayLayout, axes: Sequence[SupportsIndex]) -> ArrayLayout:
    """The layout with axes permuted: no data moves."""

def plan_relayout(
    src: ArrayLayout, dst: ArrayLayout, source_index: ArrayLike
) -> tuple[list[tuple[int, int, int, NDArray[np.float64]]], bool]:
    """Plan a data movement: destination element ``e`` (C order) takes source element
    ``source_index[e]`` (converted to int64). Returns ``(terms, free_move)`` with terms
    ``(dst_chunk, src_chunk, rotation, mask)``: each destination chunk is the sum of
    ``mask * rotate(src[src_chunk], rotation)``. ``free_move`` means the data is already in
    place."""

def layout_mask(layout: ArrayLayout) -> NDArray[np.float64]:
    """0/1 mask ``(n_chunks, slots)`` of the slots holding elements."""

def plan_bsgs(n: SupportsIndex, slots: SupportsIndex) -> BsgsPlan:
    """BSGS plan for an ``n x n`` matrix (padded to a power of two); needs 2n^2 <= slots."""

def encode_diagonals(matrix: ArrayLike, plan: BsgsPlan) -> NDArray[np.float64]:
    """Slot vector of the doubled, pre-rotated diagonals of ``matrix`` for ``plan``."""

def decode_diagonals(
    slot_values: ArrayLike, plan: BsgsPlan, rows: SupportsIndex, cols: SupportsIndex
) -> NDArray[np.float64]:
    """The ``(rows, cols)`` matrix held in the doubled diagonal layout of ``plan``."""

def bsgs_masks(plan: BsgsPlan) -> NDArray[np.float64]:
    """Masks ``(baby, slots)`` selecting each baby step's blocks."""
