"""Typed field readers for decoded JSON events: each failure is an :class:`EventError` naming the field.

The messages are the dead-letter reasons operators and auditors read (``temp_c: missing``,
``flow_m3h: expected a number, got 'fast'``), the same in every flow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from operators.events import EventError


def text_field(obj: Mapping[str, Any], name: str, *, strip: bool = False) -> str:
    """A non-blank string field.

    Args:
        obj: The event object.
        name: Field name.
        strip: Return the value without surrounding whitespace.

    Raises:
        EventError: When the field is missing, not a string, or blank.
    """
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        raise EventError(f"{name}: expected a non-empty string, got {value!r}")
    return value.strip() if strip else value


def optional_number(obj: Mapping[str, Any], name: str, *, positive: bool = False) -> float | None:
    """A finite number field, or ``None`` when absent or null.

    Args:
        obj: The event object.
        name: Field name.
        positive: Require a value above zero.

    Raises:
        EventError: When the value is not a number (booleans are not), not finite, or not positive when required.
    """
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(f"{name}: expected a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f) or (positive and f <= 0):
        raise EventError(f"{name}: expected a {'positive ' if positive else ''}finite number, got {value!r}")
    return f


def number_field(obj: Mapping[str, Any], name: str, *, positive: bool = False) -> float:
    """A required finite number field (see :func:`optional_number`).

    Raises:
        EventError: When the field is missing or null, or :func:`optional_number` refuses it.
    """
    f = optional_number(obj, name, positive=positive)
    if f is None:
        raise EventError(f"{name}: missing")
    return f
