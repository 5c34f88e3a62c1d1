"""Independent NumPy reference for conv2d (explicit padding + strided slices + einsum)."""

from __future__ import annotations

import numpy as np


def reference_conv2d(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), groups=1):
    """y = conv2d(x, w, b) for NCHW x; pads = (top, bottom, left, right). float64 result."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n, _c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    pt, pb, pl, pr = pads
    sh, sw = stride
    dh, dw = dil
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, k, oh, ow))
    kg = k // groups
    for g in range(groups):
        xs = xp[:, g * cg : (g + 1) * cg]
        for r in range(kh):
            for s in range(kw):
                patch = xs[
                    :,
                    :,
                    r * dh : r * dh + sh * (oh - 1) + 1 : sh,
                    s * dw : s * dw + sw * (ow - 1) + 1 : sw,
                ]
                y[:, g * kg : (g + 1) * kg] += np.einsum(
                    "nchw,kc->nkhw", patch, w[g * kg : (g + 1) * kg, :, r, s]
                )
    if b is not None:
        y += np.asarray(b, dtype=np.float64)[None, :, None, None]
    return y


def same_pads(kernel, dil):
    out = []
    for k, d in zip(kernel, dil, strict=True):
        total = d * (k - 1)
        out += [total // 2, total - total // 2]
    return tuple(out)
