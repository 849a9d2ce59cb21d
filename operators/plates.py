"""Turkish licence plates: grammar, normalised form and reading plates out of OCR text.

A Turkish plate is a province code 01–81, a letter group and a digit group, in one of six layouts:
1 letter + 4 or 5 digits, 2 letters + 3 or 4 digits, 3 letters + 2 or 3 digits (Karayolları Trafik
Yönetmeliği, plate annex). Plates use the 23 letters ``A–Z`` without ``Q``, ``W``, ``X`` (and without the
Turkish-specific Ç, Ğ, İ, Ö, Ş, Ü). The blue "TR" band on the left is not part of the plate. The normalised
form is ``34 ABC 123``.

Reading: the OCR text may carry up to two leading junk characters (the band, the border) and one trailing;
confusable characters are mapped by position (a digit where a letter must be and vice versa), at most two
per plate. The candidate with the fewest substitutions wins; a tie between different plates is ambiguous
and gives no plate (a missed read is a nuisance, a wrong one a failure). A letter taken from ``8`` (B or S)
or ``0`` (O or D) marks the read ambiguous: fusion then needs a second agreeing read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from operators.iso6346 import normalise_text
from operators.lookalike import DIGIT, LETTER, map_positions

PLATE_LETTERS = frozenset("ABCDEFGHIJKLMNOPRSTUVYZ")
#: (letters, digits) layouts of the digit/letter groups after the province code.
LAYOUTS = ((1, 4), (1, 5), (2, 3), (2, 4), (3, 2), (3, 3))
MAX_SUBSTITUTIONS = 2
_AMBIGUOUS_DIGITS = frozenset("08")  # 8 is B or S, 0 is O or D
_PLATE_RE = re.compile(r"^(\d{2}) ([A-Z]{1,3}) (\d{2,5})$")


@dataclass(frozen=True, slots=True)
class PlateCandidate:
    """A plate read from OCR text.

    Attributes:
        plate: Normalised form, e.g. ``34 ABC 123``.
        substitutions: Characters mapped by position.
        confidence: OCR confidence of the text.
        ambiguous: A letter was taken from a digit that looks like two letters (``8``: B or S, ``0``: O or D),
            so the read needs a second agreeing read before it is accepted.
        spaced: The OCR text separates province, letters and digits exactly where the plate does (a read that
            ran groups together may have lost or gained a character, e.g. ``29 DG716`` for ``29 DG 7167``).
        confirmed: A second read of the same plate from a differently prepared crop gave the same plate.
    """

    plate: str
    substitutions: int
    confidence: float
    ambiguous: bool = False
    spaced: bool = True
    confirmed: bool = False


def is_valid_plate(plate: str) -> bool:
    """Whether a normalised plate (``34 ABC 123``) follows the grammar: province, letter set, layout."""
    m = _PLATE_RE.match(plate)
    if not m:
        return False
    province, letters, digits = m.groups()
    return (1 <= int(province) <= 81 and set(letters) <= PLATE_LETTERS
            and (len(letters), len(digits)) in LAYOUTS)


def normalise_plate(text: str) -> str | None:
    """The normalised form of a plate written without mistakes (any spacing), or ``None``."""
    compact = re.sub(r"[^0-9A-Z]", "", normalise_text(text))
    m = re.fullmatch(r"(\d{2})([A-Z]{1,3})(\d{2,5})", compact)
    if not m:
        return None
    plate = " ".join(m.groups())
    return plate if is_valid_plate(plate) else None


def _map_group(chars: str, letters: bool) -> tuple[str, int] | None:
    return map_positions(chars, (LETTER if letters else DIGIT,) * len(chars))


def read_plate(text: str, confidence: float = 1.0) -> PlateCandidate | None:
    """The plate in an OCR line, or ``None`` when there is none or the reading is ambiguous.

    Args:
        text: OCR text of a plate (with or without the TR band and spaces).
        confidence: OCR confidence of the text.

    Returns:
        The best candidate (fewest substitutions, then fewest skipped characters).
    """
    norm = normalise_text(text)
    compact = re.sub(r"[^0-9A-Z]", "", norm)
    # for each character of ``compact``: whether a separator precedes it in the text
    gap_before: list[bool] = []
    prev_sep = True
    for ch in norm:
        if ch.isascii() and ch.isalnum():
            gap_before.append(prev_sep)
            prev_sep = False
        else:
            prev_sep = True
    scored: dict[str, tuple[int, int]] = {}
    ambiguous: dict[str, bool] = {}
    spaced: dict[str, bool] = {}
    for lead in range(3):
        for trail in range(2):
            core = compact[lead : len(compact) - trail]
            for n_letters, n_digits in LAYOUTS:
                if len(core) != 2 + n_letters + n_digits:
                    continue
                parts = (_map_group(core[:2], False), _map_group(core[2 : 2 + n_letters], True),
                         _map_group(core[2 + n_letters :], False))
                if any(p is None for p in parts):
                    continue
                groups = [p[0] for p in parts if p is not None]
                subs = sum(p[1] for p in parts if p is not None)
                plate = " ".join(groups)
                if subs > MAX_SUBSTITUTIONS or not is_valid_plate(plate):
                    continue
                rank = (subs, lead + trail)
                if plate not in scored or rank < scored[plate]:
                    scored[plate] = rank
                    ambiguous[plate] = any(c in _AMBIGUOUS_DIGITS for c in core[2 : 2 + n_letters])
                    spaced[plate] = gap_before[lead + 2] and gap_before[lead + 2 + n_letters]
    if not scored:
        return None
    best_rank = min(scored.values())
    best = [p for p, r in scored.items() if r == best_rank]
    if len(best) != 1:
        return None
    return PlateCandidate(best[0], best_rank[0], confidence, ambiguous[best[0]], spaced[best[0]])
