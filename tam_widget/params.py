"""The numbers and names a user sets, checked once, in one place.

``explain``, ``Explanation.maps``, the widget's traits, ``save_html``, ``Explanation.load`` and
the command line all call these, so every boundary accepts the same values and refuses the
rest with the same message: a ``TypeError`` for a value of the wrong kind, a ``ValueError`` for
one out of range, each naming the argument, what it got and what to pass instead. Each check
returns the value normalised (``numpy.int64(3)`` -> ``3``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

KERNEL_MAX = 15  # the rank Gaussian filter builds kernel**2 shifted copies of the maps: bounded memory
TOP_K_MAX = 100
ECI_SCALE_RANGE = (0.0, 2.0)
COLORMAPS = ("jet", "viridis", "inferno")  # jet: the paper's; viridis, inferno: perceptually uniform


def integer(name: str, value: Any, lo: int | None = None, hi: int | None = None, what: str = "") -> int:
    """``value`` as an int in ``[lo, hi]``; bools, strings and non-integral numbers are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer{_range(lo, hi)}, got {value!r} ({type(value).__name__}).{what}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must be an integer{_range(lo, hi)}, got {v}.{what}")
    return v


def number(name: str, value: Any, lo: float, hi: float, what: str = "") -> float:
    """``value`` as a finite float in ``[lo, hi]``; bools, strings, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [{lo}, {hi}], got {value!r} ({type(value).__name__}).{what}")
    v = float(value)
    if not math.isfinite(v) or not lo <= v <= hi:
        raise ValueError(f"{name} must be a finite number in [{lo}, {hi}], got {v}.{what}")
    return v


def flag(name: str, value: Any) -> bool:
    """``value`` as a bool; only ``True``/``False`` (and numpy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    return bool(value)


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """``value`` if it is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}.")
    return value


def kernel(value: Any) -> int:
    """The rank Gaussian filter's size: an odd integer in ``[1, KERNEL_MAX]`` (TAM uses 3)."""
    k = integer("kernel", value, 1, KERNEL_MAX, " TAM uses 3; the filter's memory grows with kernel**2.")
    if k % 2 == 0:
        raise ValueError(f"kernel must be odd (the filter is centred on each cell), got {k}. TAM uses 3.")
    return k


def top_k(value: Any) -> int:
    """How many candidates to keep at each answer step: ``[1, TOP_K_MAX]``."""
    return integer("top_k", value, 1, TOP_K_MAX)


def max_new_tokens(value: Any) -> int:
    """How many tokens ``generate`` may add: at least 1."""
    return integer("max_new_tokens", value, 1, None)


def eci_scale(value: Any) -> float:
    """The ECI scale λ: a finite number in ``[0, 2]`` (1 is TAM, 0 turns ECI off)."""
    return number("eci_scale", value, *ECI_SCALE_RANGE, " 1 is TAM, 0 turns ECI off.")


def opacity(value: Any) -> float:
    """The heatmap's opacity over the image: ``[0, 1]``."""
    return number("opacity", value, 0.0, 1.0)


def colormap(value: Any) -> str:
    """A colormap the widget draws with."""
    return choice("colormap", value, COLORMAPS)


def item(name: str, value: Any, n_items: int) -> int:
    """An item index in ``[0, n_items)``."""
    if n_items < 1:
        raise ValueError(f"{name}: this explanation has no items.")
    return integer(name, value, 0, n_items - 1, f" Items are 0..{n_items - 1}: the prompt's tokens, then the answer's.")


def _range(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f" in [{lo}, {hi}]"
    if lo is not None:
        return f" >= {lo}"
    return f" <= {hi}" if hi is not None else ""
