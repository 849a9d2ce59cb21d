"""ISO 6346 container numbers, as far as the VGM flow needs them: the check digit and validation.

A container number is a three-letter owner code, an equipment category letter (``U`` freight, ``J``
detachable equipment, ``Z`` trailer or chassis), a six-digit serial number and a check digit. The check
digit is computed from the first ten characters: letters take the values 10..38 skipping multiples of 11,
each character's value is weighted by 2**position, and the sum modulo 11 (10 read as 0) is the digit.
"""

from __future__ import annotations

import re

_LETTER_VALUES: dict[str, int] = {}
_v = 10
for _c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    if _v % 11 == 0:
        _v += 1
    _LETTER_VALUES[_c] = _v
    _v += 1

_SHAPE = re.compile(r"^[A-Z]{3}[UJZ][0-9]{6}[0-9]$")


class ContainerNumberError(ValueError):
    """A container number is malformed or its check digit is wrong; the message says which."""


def normalise(number: str) -> str:
    """Upper-case and drop spaces, hyphens and slashes (``CSQU 305438-3`` → ``CSQU3054383``)."""
    return re.sub(r"[\s\-/]", "", number).upper()


def check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of owner code, category and serial number.

    Args:
        first_ten: ``AAAU123456`` (case-insensitive, no separators).

    Returns:
        The check digit 0..9.

    Raises:
        ContainerNumberError: When the text is not three letters, a category letter and six digits.
    """
    text = first_ten.upper()
    if not re.fullmatch(r"[A-Z]{3}[UJZ][0-9]{6}", text):
        raise ContainerNumberError(f"{first_ten!r} is not an owner code, category letter and six digits")
    total = 0
    for i, ch in enumerate(text):
        value = _LETTER_VALUES[ch] if ch.isalpha() else int(ch)
        total += value << i
    return total % 11 % 10


def validate(number: str) -> str:
    """Validate a container number and return it normalised.

    Args:
        number: The number as written (spaces and hyphens allowed).

    Returns:
        The eleven-character number.

    Raises:
        ContainerNumberError: On a malformed number or a wrong check digit.
    """
    text = normalise(number)
    if not _SHAPE.match(text):
        raise ContainerNumberError(f"container number {number!r} is not ISO 6346 (AAAU1234567)")
    expected = check_digit(text[:10])
    if int(text[10]) != expected:
        raise ContainerNumberError(f"container number {number!r}: check digit is {text[10]}, expected {expected}")
    return text
