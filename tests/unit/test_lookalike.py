"""Look-alike mapping by position (operators/lookalike.py)."""

from __future__ import annotations

from operators.lookalike import DIGIT, LETTER, Slot, map_positions


def test_accepted_characters_are_kept_and_lookalikes_counted() -> None:
    # "CSQU3O5438": the O in the serial is the digit 0 (one substitution); the letters stay
    assert map_positions("CSQU3O5438", (LETTER,) * 4 + (DIGIT,) * 6) == ("CSQU305438", 1)
    assert map_positions("C5QU", (LETTER,) * 4) == ("CSQU", 1)
    assert map_positions("ABC", (LETTER,) * 3) == ("ABC", 0)


def test_a_character_without_an_accepted_lookalike_refuses_the_read() -> None:
    assert map_positions("AB#", (LETTER,) * 3) is None
    assert map_positions("4X", (DIGIT,) * 2) is None  # X looks like no digit


def test_the_lookalike_must_be_accepted_by_the_position() -> None:
    lengths = Slot({"2", "4"}.__contains__, {"Z": "2", "S": "5"})
    assert map_positions("Z", (lengths,)) == ("2", 1)
    assert map_positions("S", (lengths,)) is None  # 5 is not a length code


def test_lengths_must_agree() -> None:
    assert map_positions("ABCD", (LETTER,) * 3) is None
    assert map_positions("", ()) == ("", 0)
