"""ISO 6346 container numbers as typed input (declarations, weighings): validation with a reason.

The check digit itself is :func:`operators.iso6346.check_digit`; OCR reading rules live there too.
"""

from __future__ import annotations

import re

from operators import iso6346

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
    return iso6346.check_digit(text)


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
