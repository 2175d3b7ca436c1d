"""The rank Gaussian filter as compiled loops (numba): one frame at a time, every step of a cell in registers.

The same float32 (or float64) steps as the recorded torch calls of :mod:`.rgf_tape`, in the same order:
the window sums ``S`` and ``Q`` column by column, the exponent ``-1/(2 cv^2)`` clamped at ``EXP_FLOOR``,
the windows ordered by the same compare-exchange networks, the weighted rank pairs, each ``addcmul`` as
one fused multiply-add. Only ``exp`` is not torch's vector one (float32: a polynomial rounded once, correctly
rounded on every one of 3 M samples tested; float64: the C library's): a cell may differ in its last bit.
A frame's padded copy and a few row buffers stay in the first-level cache, so the filter makes one pass
over the maps instead of one per call (about 70 for ``k = 3``).

This module imports numba: :mod:`.rgf_fused` imports it only when the filter first runs, and only if
numba is installed (the ``fast`` extra).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from llvmlite import ir
from numba import from_dtype, njit, types
from numba.extending import intrinsic, overload

from .rgf_tape import EXP_FLOOR


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``fma``: one instruction where the CPU has it), as torch's ``addcmul``."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@intrinsic
def _pow2(typingctx, q):
    """``2.0 ** q`` as float64 for a float64 integer ``q`` in ``[-1022, 1023]``: ``q + 1023`` in the exponent's bits."""
    i64 = ir.IntType(64)

    def codegen(context, builder, signature, args):
        k = builder.fptosi(args[0], i64)
        bits = builder.shl(builder.add(k, ir.Constant(i64, 1023)), ir.Constant(i64, 52))
        return builder.bitcast(bits, ir.DoubleType())

    return types.float64(types.float64), codegen


_LOG2E, _LN2_HI, _LN2_LO = 1.4426950408889634, 0.6931471805599453, 2.3190468138462996e-17
_INV_FACTORIALS = tuple(1.0 / math.factorial(k) for k in range(10, -1, -1))  # 1/10!, ..., 1/1!, 1/0!


def exp(x):
    """``exp(x)`` in the kernels: for float32 an inlined vector-friendly ``expf`` (no call, so the loop around
    it is vectorised); for float64 the C library's ``exp``."""
    raise NotImplementedError("only callable from compiled code")


@overload(exp, inline="always")
def _exp_overload(x):
    if x == types.float32:
        return _expf
    return lambda x: math.exp(x)


def _expf(x):
    """``exp`` of a float32 ``x`` in float64 steps, rounded to float32 once: ``2^q e^r`` with ``|r| <= ln 2 / 2``
    and ``e^r`` by its Taylor polynomial to degree 10 (relative error below 1e-12 before the one rounding:
    correctly rounded on all 3 M samples tested in ``[-87, 0]``). Loops around it are vectorised (no call).
    NaN stays NaN."""
    d = np.float64(x)
    q = np.rint(d * _LOG2E)
    r = fma(q, -_LN2_LO, fma(q, -_LN2_HI, d))
    c = _INV_FACTORIALS
    u = fma(fma(fma(fma(fma(c[0], r, c[1]), r, c[2]), r, c[3]), r, c[4]), r, c[5])
    u = fma(fma(fma(fma(fma(u, r, c[6]), r, c[7]), r, c[8]), r, c[9]), r, c[10])
    return np.float32(u * _pow2(q))


@njit(inline="always")
def _cx(a, b):
    """Compare-exchange: ``(min, max)``."""
    return (a if a <= b else b), (b if a <= b else a)


@njit(inline="always")
def _at_least(x, low):
    """``clamp(x, min=low)`` keeping NaN, as torch's ``clamp_``."""
    return low if x < low else x


@njit(inline="always")
def _reflect(i, n):
    """numpy's ``reflect`` index of ``i`` on a length-``n`` axis (as :func:`.rgf.reflect_index`)."""
    if n == 1:
        return 0
    period = 2 * (n - 1)
    m = i % period
    return period - m if m >= n else m


@njit(inline="always")
def _padding(n, pad):
    """The source index of every cell of a length-``n`` axis padded by ``pad`` (numpy's ``reflect``)."""
    index = np.empty(n + 2 * pad, np.int64)
    for i in range(index.size):
        index[i] = _reflect(i - pad, n)
    return index


@njit(inline="always")
def _load(maps, b, f, rows, cols, padded):
    """Frame ``(b, f)`` of ``maps`` with its padding (``rows``, ``cols``: :func:`_padding`) into ``padded``,
    flat, row after row."""
    for i in range(rows.size):
        r, at = rows[i], i * cols.size
        for j in range(cols.size):
            padded[at + j] = maps[b, f, r, cols[j]]


@njit(inline="always")
def _constants(dt, n):
    """The tape's scalars in the maps' dtype (as torch casts a Python scalar): ``-1/n``, ``-1/(2n)``, the
    smallest normal, ``EXP_FLOOR``, 0, 1, 2 (``n``: the window's values)."""
    c = np.empty(7, dt)
    c[0], c[1], c[3], c[4], c[5], c[6] = -1.0 / n, -0.5 / n, EXP_FLOOR, 0, 1, 2
    c[2] = 2.0**-126 if c.itemsize == 4 else 2.0**-1022
    return c


@njit(inline="always")
def _exponent(S, Q, c0, c1, tiny, floor):
    """``-1 / (2 cv^2)`` from a window's sum ``S`` and sum of squares ``Q``, as the tape's ``_neg_inv``
    (``c0 = -1/n``, ``c1 = -1/(2n)``, ``tiny``, ``floor``: :func:`_constants`)."""
    nvar = _at_least(fma(c0 * S, S, Q), tiny)
    return _at_least((c1 * (S / nvar)) * S, floor)


def filter3(maps, out, start, stop, nonnegative, padded, res):
    """Filter frames ``start`` to ``stop`` (counted over ``(B, F)``) of ``(B, F, h, w)`` ``maps`` into ``out``
    with the 3 x 3 window (see :mod:`.rgf` for the math, :mod:`.rgf_tape` for the steps): one loop over a
    frame's cells reads its padded copy and writes the results, so the compiler vectorises it whole.
    ``padded`` and ``res``: scratch of :func:`scratch3`'s sizes."""
    F, h, w = maps.shape[1], maps.shape[2], maps.shape[3]
    width = w + 2
    down, across, c = _padding(h, 1), _padding(w, 1), _constants(maps.dtype, 9)
    padded[-2:] = 0
    for n in range(start, stop):
        _load(maps, n // F, n % F, down, across, padded)
        _cells3(padded, width, res, c[0], c[1], c[2], c[3], c[4], c[5], nonnegative)
        for i in range(h):
            for j in range(w):
                out[n // F, n % F, i, j] = res[i * width + j]


def scratch3(dtype: np.dtype[Any], h: int, w: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """:func:`filter3`'s scratch for ``h x w`` frames: the padded frame, flat (the loop runs over padded rows'
    full width, whose last two cells of a row are windows across the edge, computed and dropped, so no row
    leaves a remainder; two cells to spare at the end), and the results. The results lie *before* the frame:
    the overlap test the compiler puts ahead of the vectorised loop takes the frame's reads as about twice
    their extent, so results just after the frame fail it and the loop runs a cell at a time (measured 7x
    slower); anywhere before it, the test passes."""
    size, cells = (h + 2) * (w + 2) + 2, h * (w + 2)
    buf = np.empty(cells + size, dtype)
    return buf[cells:], buf[:cells]


@njit(inline="always")
def _cells3(p, width, res, c0, c1, tiny, floor, zero, one, nonnegative):
    """Every cell ``k`` of ``res``: the window whose top-left corner is ``p[k]`` (``p``: the padded frame, flat,
    ``width`` a row)."""
    for k in range(res.size):
        a0, a1, a2 = p[k], p[k + width], p[k + 2 * width]
        b0, b1, b2 = p[k + 1], p[k + width + 1], p[k + 2 * width + 1]
        d0, d1, d2 = p[k + 2], p[k + width + 2], p[k + 2 * width + 2]
        S = ((a0 + a1) + a2 + ((b0 + b1) + b2)) + ((d0 + d1) + d2)
        Q = (_squares(a0, a1, a2) + _squares(b0, b1, b2)) + _squares(d0, d1, d2)
        g = exp(_exponent(S, Q, c0, c1, tiny, floor))
        a0, a1, a2 = _sort3(a0, a1, a2)
        b0, b1, b2 = _sort3(b0, b1, b2)
        d0, d1, d2 = _sort3(d0, d1, d2)
        x4, s1, s2, s3, s4 = _merge3(a0, a1, a2, b0, b1, b2, d0, d1, d2)
        value = _horner3(g, x4, s1, s2, s3, s4, one)
        res[k] = value * (one if (zero < S) | nonnegative else zero)  # no branch (``or`` would be one)


@njit(inline="always")
def _squares(a, b, c):
    """A column's sum of squares, as the tape's ``mul`` then two ``addcmul_``."""
    return fma(c, c, fma(b, b, a * a))


@njit(inline="always")
def _sort3(a, b, c):
    """A column sorted by the tape's ``sorting_network(3)``."""
    a, b = _cx(a, b)
    b, c = _cx(b, c)
    a, b = _cx(a, b)
    return a, b, c


@njit(inline="always")
def _merge3(x0, x1, x2, x3, x4, x5, x6, x7, x8):
    """Three sorted columns merged by the tape's 16-comparator ``window_network(3)`` (unrolled): the median
    and the sums of the rank pairs ``(3, 5)``, ``(2, 6)``, ``(1, 7)``, ``(0, 8)``."""
    x0, x3 = _cx(x0, x3)
    x1, x4 = _cx(x1, x4)
    x2, x5 = _cx(x2, x5)
    x2, x8 = _cx(x2, x8)
    x1, x7 = _cx(x1, x7)
    x3, x6 = _cx(x3, x6)
    x4, x7 = _cx(x4, x7)
    x0, x3 = _cx(x0, x3)
    x5, x8 = _cx(x5, x8)
    x2, x6 = _cx(x2, x6)
    x1, x3 = _cx(x1, x3)
    x5, x7 = _cx(x5, x7)
    x2, x3 = _cx(x2, x3)
    x3, x4 = _cx(x3, x4)
    x4, x6 = _cx(x4, x6)
    x5, x6 = _cx(x5, x6)
    return x4, x3 + x5, x2 + x6, x1 + x7, x0 + x8


@njit(inline="always")
def _horner3(g, x4, s1, s2, s3, s4, one):
    """The weighted mean from ``g = exp(exponent)``: the weights ``g, g^4, g^9, g^16`` by Horner's rule, as
    the tape's ``_weights_3x3``."""
    g2 = g * g
    g3 = g2 * g
    g5 = g3 * g2
    g7 = g5 * g2
    num = fma(g, fma(g3, fma(g5, fma(g7, s4, s3), s2), s1), x4)
    den = fma(g + g, fma(g3, fma(g5, g7 + one, one), one), one)
    return num / den


def filter_any(maps, out, start, stop, kernel, nonnegative):
    """:func:`filter3` for any odd ``kernel``, a cell at a time: the window sorted in full (the ranks' values
    do not depend on how), the weights one ``exp`` each, as the tape's any-``k`` path."""
    F, h, w = maps.shape[1], maps.shape[2], maps.shape[3]
    dt, pad, n_win = maps.dtype, kernel // 2, kernel * kernel
    width = w + 2 * pad
    padded, down, across = np.empty((h + 2 * pad) * width, dt), _padding(h, pad), _padding(w, pad)
    window, c, squares = np.empty(n_win, dt), _constants(dt, n_win), np.empty(n_win // 2 + 1, dt)
    for d in range(squares.size):
        squares[d] = d * d  # the tape's float(d * d), cast to the maps' dtype
    for n in range(start, stop):
        _load(maps, n // F, n % F, down, across, padded)
        for i in range(h):
            for j in range(w):
                at = i * width + j  # the window's top-left corner
                S, Q = _window_sums(padded, at, width, kernel, c[4])
                for col in range(kernel):
                    for r in range(kernel):
                        window[col * kernel + r] = padded[at + r * width + col]
                window.sort()
                value = _weighted(window, _exponent(S, Q, c[0], c[1], c[2], c[3]), c, squares)
                out[n // F, n % F, i, j] = value if nonnegative or c[4] < S else value * c[4]


@njit(inline="always")
def _window_sums(padded, at, width, kernel, zero):
    """A window's sum and sum of squares in the tape's order: each column's rows, then the columns (its
    top-left corner at ``padded[at]``, rows ``width`` apart)."""
    S = Q = zero
    for c in range(kernel):
        x = padded[at + c]
        col, sq = x, x * x
        for r in range(1, kernel):
            y = padded[at + r * width + c]
            col, sq = col + y, fma(y, y, sq)
        S, Q = (col, sq) if c == 0 else (S + col, Q + sq)
    return S, Q


@njit(inline="always")
def _weighted(x, expo, c, squares):
    """``sum_i w_i x_(i) / sum_i w_i`` with ``w = exp(d^2 expo)`` at rank distance ``d`` from the median
    (``c``: :func:`_constants`; ``squares[d] = d^2``), as the tape's any-``k`` ``_weighted_ranks``."""
    m = x.size // 2
    num, den = x[m], c[4]
    if m == 0:
        return num
    for d in range(1, m + 1):
        g = math.exp(_at_least(expo * squares[d], c[3]))
        num, den = fma(g, x[m - d] + x[m + d], num), den + g
    return num / (den * c[6] + c[5])


@cache
def compiled(kernel3: bool, dtype: np.dtype[Any]) -> Callable[..., None]:
    """:func:`filter3` (``kernel3``) or :func:`filter_any`, compiled for ``dtype`` maps of any strides (one
    machine-code version each, kept on disk by numba's cache: compiled once per install, in a few seconds).
    Where numba finds no writable cache folder, it compiles in every process instead (warned once)."""
    maps, flat = types.Array(from_dtype(dtype), 4, "A"), types.Array(from_dtype(dtype), 1, "C")
    ints = (types.int64,) * (2 if kernel3 else 3)
    sig = types.void(maps, maps, *ints, types.boolean, *((flat, flat) if kernel3 else ()))
    fn = filter3 if kernel3 else filter_any

    def jit(cache: bool) -> Callable[..., None]:
        return njit([sig], nogil=True, cache=cache, error_model="numpy")(fn)

    try:
        return jit(cache=True)
    except RuntimeError as err:  # numba: "cannot cache function ...: no locator available"
        if "cannot cache" not in str(err):
            raise
        warnings.warn(  # one text for every kernel and dtype, so Python shows it once
            "tam-widget: numba finds no writable folder to cache the compiled filter in; it compiles in each "
            "process (a few seconds). Set NUMBA_CACHE_DIR to a writable folder to keep it.",
            RuntimeWarning,
            stacklevel=2,
        )
        return jit(cache=False)


def filter_frames(
    src: np.ndarray[Any, Any], dst: np.ndarray[Any, Any], start: int, stop: int, kernel: int, nonnegative: bool
) -> None:
    """Frames ``start`` to ``stop`` (counted over ``(B, F)``) of ``(B, F, h, w)`` ``src`` filtered into ``dst``
    by the compiled kernel for their dtype and ``kernel``, with scratch of this call's own."""
    if kernel == 3:
        scratch = scratch3(src.dtype, src.shape[2], src.shape[3])
        compiled(True, src.dtype)(src, dst, start, stop, nonnegative, *scratch)
    else:
        compiled(False, src.dtype)(src, dst, start, stop, kernel, nonnegative)


__all__ = ["compiled", "filter3", "filter_any", "filter_frames", "scratch3"]
