"""Container numbers (ISO 6346): owner code, category, serial number and check digit.

A container number is three owner letters, a category letter (``U`` freight container, ``J`` detachable
equipment, ``Z`` trailer or chassis), six serial digits and a check digit. The check digit is the sum of
each of the first ten characters' values (letters: A=10 upward skipping multiples of 11) times 2 to the
power of its position, modulo 11, with 10 written as 0 (ISO 6346:1995 Annex A).
"""

from __future__ import annotations

import re
from functools import lru_cache

_FORMAT = re.compile(r"^[A-Z]{3}[UJZ][0-9]{6}[0-9]$")
_PREFIX = re.compile(r"^[A-Z]{3}[UJZ][0-9]{6}$")


def _letter_values() -> dict[str, int]:
    values: dict[str, int] = {}
    v = 10
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if v % 11 == 0:
            v += 1
        values[ch] = v
        v += 1
    return values


_VALUES = _letter_values()


class ContainerNumberError(ValueError):
    """A container number is malformed or its check digit is wrong."""


def check_digit(prefix: str) -> int:
    """The ISO 6346 check digit of the first ten characters of a container number.

    Args:
        prefix: Owner code, category letter and six digits, e.g. ``CSQU305438``.

    Returns:
        The check digit (0–9).

    Raises:
        ContainerNumberError: When the prefix is not three letters, a category letter and six digits.
    """
    if not _PREFIX.match(prefix):
        raise ContainerNumberError(f"container number prefix {prefix!r} is not AAA[UJZ]999999")
    total = sum((_VALUES[ch] if ch.isalpha() else int(ch)) << i for i, ch in enumerate(prefix))
    return total % 11 % 10


def normalize(number: str) -> str:
    """Upper-case a container number and drop spaces, dashes and slashes (``csqu 305438-3`` → ``CSQU3054383``)."""
    return re.sub(r"[\s\-/]", "", number).upper()


@lru_cache(maxsize=1 << 16)
def validate(number: str) -> str:
    """The normalized container number, if it is well formed and its check digit is right.

    Args:
        number: As written (spaces and dashes allowed).

    Returns:
        The 11-character number.

    Raises:
        ContainerNumberError: When the format or the check digit is wrong.

    Results are cached (a container's number recurs in every event about it).
    """
    n = normalize(number)
    if not _FORMAT.match(n):
        raise ContainerNumberError(f"container number {number!r} is not AAA[UJZ]9999999 (ISO 6346)")
    expected = check_digit(n[:10])
    if int(n[10]) != expected:
        raise ContainerNumberError(f"container number {number!r}: check digit {n[10]} should be {expected}")
    return n


def is_valid(number: str) -> bool:
    """Whether a container number is well formed with a correct check digit."""
    try:
        validate(number)
    except ContainerNumberError:
        return False
    return True


def with_check_digit(prefix: str) -> str:
    """The full number for a ten-character prefix (simulators and tests)."""
    return f"{prefix}{check_digit(prefix)}"
