"""Tiny numeric backends so that every formula is written once.

The correction formulas in this package are plain arithmetic plus ``exp``.
Arithmetic operators already work on Python floats and on NumPy arrays; the
few functions that do not (``exp``, ``power``, ``maximum``) are taken from a
backend object. :data:`SCALAR` uses :mod:`math` on floats (the per-reading
path), :data:`VECTOR` uses NumPy on float64 arrays (the batch path).
"""

from __future__ import annotations

import math
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
"""A NumPy float64 array (any shape)."""

F = TypeVar("F", float, FloatArray)
"""A float or a float64 array: the value type a formula works on."""


class Backend(Protocol[F]):
    """The non-arithmetic operations the formulas need."""

    def exp(self, x: F, /) -> F:
        """Return e**x."""
        ...

    def power(self, x: F, y: float, /) -> F:
        """Return x**y for a non-negative base."""
        ...

    def maximum(self, x: F, floor: float, /) -> F:
        """Return the larger of x and ``floor``."""
        ...


class _ScalarBackend:
    """Backend for Python floats, built on :mod:`math`."""

    def exp(self, x: float, /) -> float:
        return math.exp(x)

    def power(self, x: float, y: float, /) -> float:
        return math.pow(x, y)

    def maximum(self, x: float, floor: float, /) -> float:
        return x if x > floor else floor


class _VectorBackend:
    """Backend for float64 arrays, built on NumPy ufuncs."""

    def exp(self, x: FloatArray, /) -> FloatArray:
        return np.exp(x)

    def power(self, x: FloatArray, y: float, /) -> FloatArray:
        return np.power(x, y)

    def maximum(self, x: FloatArray, floor: float, /) -> FloatArray:
        return np.maximum(x, floor)


SCALAR: Backend[float] = _ScalarBackend()
"""Backend for the scalar path (no NumPy per reading)."""

VECTOR: Backend[FloatArray] = _VectorBackend()
"""Backend for the vectorised batch path."""
