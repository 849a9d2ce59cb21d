"""OCR look-alike characters: mapping a read character by character onto what each position may hold.

Plates, container codes and size/type codes each fix what a position may hold (a letter, a digit, a code from a
table). OCR confuses some letters and digits (``O``/``0``, ``I``/``1``, ``S``/``5``, ``B``/``8`` ...); a
character that its position does not accept is replaced by its look-alike when the position accepts that, and the
replacement is counted (callers cap the substitutions and rank candidates by them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

#: Digit read where a letter must be → the letter it is usually confused with.
TO_LETTER: Mapping[str, str] = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"}
#: Letter read where a digit must be → the digit it is usually confused with.
TO_DIGIT: Mapping[str, str] = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8",
                               "G": "6"}


@dataclass(frozen=True, slots=True)
class Slot:
    """What one position accepts, and the look-alikes tried for a character it does not.

    Attributes:
        accepts: Whether the position accepts a character.
        lookalikes: Character read → the character it is taken for when ``accepts`` refuses the one read.
    """

    accepts: Callable[[str], bool]
    lookalikes: Mapping[str, str]


LETTER = Slot(str.isalpha, TO_LETTER)
DIGIT = Slot(str.isdigit, TO_DIGIT)


def map_positions(chars: str, slots: Sequence[Slot]) -> tuple[str, int] | None:
    """Map ``chars`` position by position onto ``slots``.

    Args:
        chars: The characters read (as many as ``slots``).
        slots: What each position accepts.

    Returns:
        ``(mapped text, substitutions)``, or ``None`` when a character is neither accepted nor the look-alike
        of an accepted one, or when the lengths differ.
    """
    if len(chars) != len(slots):
        return None
    out: list[str] = []
    subs = 0
    for ch, slot in zip(chars, slots, strict=True):
        if slot.accepts(ch):
            out.append(ch)
            continue
        mapped = slot.lookalikes.get(ch)
        if mapped is None or not slot.accepts(mapped):
            return None
        out.append(mapped)
        subs += 1
    return "".join(out), subs
