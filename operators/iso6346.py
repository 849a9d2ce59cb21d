"""ISO 6346 container identification: check digit and reading codes out of OCR text.

A container number is an owner code (3 letters), a category identifier (``U`` freight container, ``J``
detachable freight-container equipment, ``Z`` trailer or chassis), a 6-digit serial number and a check
digit (ISO 6346:1995 annex A). Reading rules (see ``shared/research/ocr.md`` §5), chosen so that a wrong
read is rejected rather than accepted:

- the check digit is mandatory; a code whose check digit fails is rejected, never "repaired";
- confusable characters (O/0, I/1, B/8, S/5, Z/2, G/6) are mapped only where the position dictates a
  letter (owner, category) or a digit (serial, check digit), at most two per code;
- a code starts at the start of an OCR token and token boundaries may only fall between owner code,
  serial and check digit; the first token has at least 4 characters;
- up to two box artefacts (``1``, ``I``, ``J``, ``L``, ``|``, brackets) between serial and check digit are
  tolerated, because the check digit is printed in a box that OCR engines read as extra strokes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from operators.lookalike import DIGIT, LETTER, map_positions

CATEGORIES = frozenset("UJZ")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _letter_values() -> dict[str, int]:
    values: dict[str, int] = {}
    v = 10
    for c in _LETTERS:
        if v % 11 == 0:  # 11, 22 and 33 are skipped (multiples of the modulus)
            v += 1
        values[c] = v
        v += 1
    return values


LETTER_VALUES = _letter_values()
BOX_ARTEFACTS = frozenset("1IJL|[]()")
MAX_SUBSTITUTIONS = 2
_CODE_RE = re.compile(r"^[A-Z]{3}[UJZ]\d{7}$")


def check_digit(code10: str) -> int:
    """ISO 6346 check digit of owner code, category and serial.

    Args:
        code10: 4 letters and 6 digits, e.g. ``CSQU305438``.

    Returns:
        The check digit 0–9 (a remainder of 10 is written as 0).

    Raises:
        ValueError: When ``code10`` is not 4 letters followed by 6 digits.
    """
    if not re.fullmatch(r"[A-Z]{4}\d{6}", code10):
        raise ValueError(f"not an owner code + serial: {code10!r}")
    total = sum((LETTER_VALUES[c] if c.isalpha() else int(c)) << i for i, c in enumerate(code10))
    return total % 11 % 10


def is_valid(code: str) -> bool:
    """Whether an 11-character code has the ISO 6346 layout (category U/J/Z) and a correct check digit."""
    code = code.replace(" ", "").upper()
    return bool(_CODE_RE.match(code)) and check_digit(code[:10]) == int(code[10])


def format_code(code: str) -> str:
    """The printed form ``CSQU 305438 3`` of an 11-character code."""
    return f"{code[:4]} {code[4:10]} {code[10:]}"


def normalise_text(text: str) -> str:
    """NFKC-fold (circled digits ``⑨`` → ``9``, full-width forms) and upper-case OCR text."""
    return unicodedata.normalize("NFKC", text).upper()


@dataclass(frozen=True, slots=True)
class ContainerCandidate:
    """A container code read from OCR text.

    Attributes:
        code: The 11 characters as read after positional mapping (owner, category, serial, check digit).
        substitutions: How many characters were mapped by position (0–2).
        check_digit_ok: Whether the check digit validates; only such codes are ever accepted.
        confidence: The OCR confidence of the text it came from.
    """

    code: str
    substitutions: int
    check_digit_ok: bool
    confidence: float


_CODE_SLOTS = (LETTER,) * 4 + (DIGIT,) * 7


def _positional(chars: str) -> tuple[str, int] | None:
    """Map 11 characters by position (4 letters, 7 digits); ``None`` if impossible or too many changes."""
    mapped = map_positions(chars, _CODE_SLOTS)
    if mapped is None or mapped[1] > MAX_SUBSTITUTIONS or mapped[0][3] not in CATEGORIES:
        return None
    return mapped


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^0-9A-Z|\[\]()]+", normalise_text(text)) if t]


def _windows(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """Raw 11-character windows starting at a token start, with token boundaries only at 4 and 10.

    Returns ``(chars, artefacts_skipped)`` pairs; box artefacts before the last character may be skipped.
    """
    found: list[tuple[str, int]] = []
    for start in range(len(tokens)):
        if len(tokens[start]) < 4:
            continue
        joined = ""
        bounds: set[int] = set()
        for tok in tokens[start:]:
            if joined:
                bounds.add(len(joined))
            joined += tok
            if len(joined) >= 14:
                break
        head = joined[:10]
        if any(b not in (4, 10) for b in bounds if b < 10) or re.search(r"[|\[\]()]", head):
            continue
        rest = joined[10:]
        for skip in range(3):
            if len(rest) <= skip:
                break
            if skip and not all(c in BOX_ARTEFACTS for c in rest[:skip]):
                break
            # the check digit ends the window: it must be the end of the text or of a token
            end = 10 + skip + 1
            if end != len(joined) and end not in bounds:
                continue
            found.append((head + rest[skip], skip))
    return found


def read_containers(text: str, confidence: float = 1.0) -> list[ContainerCandidate]:
    """Container codes in one OCR line (or a lone owner-code line joined to the next).

    Args:
        text: OCR text; tokens are separated by spaces or punctuation.
        confidence: OCR confidence of the text.

    Returns:
        Every distinct candidate, valid ones first (fewest substitutions, then fewest skipped artefacts).
        Callers accept only candidates with ``check_digit_ok``.
    """
    best: dict[str, tuple[int, int, ContainerCandidate]] = {}
    for chars, skipped in _windows(_tokens(text)):
        mapped = _positional(chars)
        if mapped is None:
            continue
        code, subs = mapped
        cand = ContainerCandidate(code, subs, check_digit(code[:10]) == int(code[10]), confidence)
        rank = (subs, skipped)
        if code not in best or rank < best[code][:2]:
            best[code] = (subs, skipped, cand)
    ranked = sorted(best.values(), key=lambda t: (not t[2].check_digit_ok, t[0], t[1]))
    return [c for _s, _k, c in ranked]


def best_valid(text: str, confidence: float = 1.0) -> ContainerCandidate | None:
    """The single valid code a line holds, or ``None`` when it holds none or two different ones."""
    valid = [c for c in read_containers(text, confidence) if c.check_digit_ok]
    if not valid:
        return None
    top = [c for c in valid if c.substitutions == valid[0].substitutions]
    return top[0] if len({c.code for c in top}) == 1 else None


def owner_serial_prefix(text: str) -> str | None:
    """The 10 characters of owner code + serial when a line holds them without a check digit.

    This is the trigger for the check-digit rescue: the boxed check digit was not read with the line, so
    the engine reads the box to its right on its own.
    """
    toks = _tokens(text)
    joined = "".join(toks)
    bounds = {len("".join(toks[:i])) for i in range(1, len(toks))}
    if len(joined) != 10 or not bounds <= {4}:
        return None
    mapped = _positional(joined + "0")
    return mapped[0][:10] if mapped else None
