"""ISO 6346 size and type codes (``22G1``, ``42G1``, ``45G1``, ``L5G1``, ``45R1``, ``22T6`` ...).

Four characters: length code, height/width code, type group letter, type detail digit (ISO 6346:1995,
clause 4 and annexes D and E). Decoding gives the nominal length in feet, the height and the type group.
Reading maps confusable characters by position: the type letter position reads ``0`` as ``G`` only when
``G`` makes a known type, ``6`` as ``G``; length/height read ``O`` as ``0`` and so on. A code is accepted
only when every position decodes and the type (group + detail digit) is in the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from operators.iso6346 import normalise_text
from operators.lookalike import Slot, map_positions

#: Length code → (nominal length in feet, length in mm).
LENGTHS: dict[str, tuple[int, int]] = {
    "1": (10, 2991), "2": (20, 6058), "3": (30, 9125), "4": (40, 12192), "B": (24, 7315), "C": (24, 7430),
    "G": (41, 12500), "H": (43, 13106), "K": (44, 13600), "L": (45, 13716), "M": (48, 14630), "N": (49, 14935),
}
#: Height/width code → (height in mm, description).
HEIGHTS: dict[str, tuple[int, str]] = {
    "0": (2438, "8 ft"), "2": (2591, "8 ft 6 in"), "4": (2743, "9 ft"), "5": (2896, "9 ft 6 in (high cube)"),
    "6": (2900, "above 9 ft 6 in"), "8": (1295, "4 ft 3 in"), "9": (1219, "4 ft or less"),
    "C": (2591, "8 ft 6 in, wide"), "D": (2743, "9 ft, wide"), "E": (2896, "9 ft 6 in, wide"),
    "F": (2900, "above 9 ft 6 in, wide"), "L": (2591, "8 ft 6 in, pallet-wide"),
    "M": (2743, "9 ft, pallet-wide"), "N": (2896, "9 ft 6 in, pallet-wide"),
}
#: Type group letter → (name, the detail digits the group defines).
TYPE_GROUPS: dict[str, tuple[str, str]] = {
    "G": ("general purpose", "0123"),
    "V": ("general purpose, ventilated", "024"),
    "B": ("dry bulk", "013456"),
    "S": ("named cargo", "012"),
    "R": ("thermal, refrigerated", "0123"),
    "H": ("thermal, insulated", "01256"),
    "U": ("open top", "012345"),
    "P": ("platform", "012345"),
    "T": ("tank", "0123456789"),
    "A": ("air/surface", "0"),
}
_TO_DIGIT = {"O": "0", "D": "0", "Q": "0", "I": "1", "Z": "2", "S": "5", "B": "8", "G": "6"}
_TO_TYPE = {"6": "G", "0": "G", "8": "B", "5": "S"}
#: Length, height/width, type group, type detail digit (``L`` is a length code: it is never read as ``1`` here).
_SLOTS = (Slot(LENGTHS.__contains__, _TO_DIGIT), Slot(HEIGHTS.__contains__, _TO_DIGIT),
          Slot(TYPE_GROUPS.__contains__, _TO_TYPE), Slot(str.isdigit, _TO_DIGIT))


@dataclass(frozen=True, slots=True)
class SizeType:
    """A decoded size/type code.

    Attributes:
        code: The four characters, e.g. ``45G1``.
        length_ft: Nominal length (20, 40, 45 ...).
        length_mm: Length in millimetres.
        height_mm: Height in millimetres.
        height: Height (and width) in words.
        type_group: Type group letter.
        type_name: Type group in words.
    """

    code: str
    length_ft: int
    length_mm: int
    height_mm: int
    height: str
    type_group: str
    type_name: str


def decode(code: str) -> SizeType | None:
    """Decode a four-character size/type code; ``None`` when any position is unknown."""
    code = code.strip().upper()
    if len(code) != 4 or code[0] not in LENGTHS or code[1] not in HEIGHTS or code[2] not in TYPE_GROUPS:
        return None
    name, details = TYPE_GROUPS[code[2]]
    if code[3] not in details:
        return None
    ft, mm = LENGTHS[code[0]]
    h_mm, h = HEIGHTS[code[1]]
    return SizeType(code, ft, mm, h_mm, h, code[2], name)


def _positional(tok: str) -> tuple[str, int] | None:
    return map_positions(tok, _SLOTS)


def read_size_type(text: str) -> SizeType | None:
    """The size/type code in an OCR line: a 4-character token that decodes after at most one mapping.

    A line holding two different decodable codes gives ``None``.
    """
    found: dict[str, int] = {}
    for tok in re.split(r"[^0-9A-Z]+", normalise_text(text)):
        if len(tok) != 4:
            continue
        mapped = _positional(tok)
        if mapped is None or mapped[1] > 1 or decode(mapped[0]) is None:
            continue
        found[mapped[0]] = min(mapped[1], found.get(mapped[0], 9))
    if not found:
        return None
    best = min(found.values())
    codes = [c for c, s in found.items() if s == best]
    return decode(codes[0]) if len(codes) == 1 else None
