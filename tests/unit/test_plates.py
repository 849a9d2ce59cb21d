"""Turkish plate grammar: province 01–81, 1–3 letters from the official set, 2–5 digits in six layouts."""

from __future__ import annotations

import pytest

from operators.plates import is_valid_plate, normalise_plate, read_plate


@pytest.mark.parametrize("plate", ["34 A 1234", "34 A 12345", "06 AB 123", "06 AB 1234", "35 ABC 12", "35 ABC 123",
                                   "01 Z 9999", "81 YZ 999"])
def test_valid_layouts(plate):
    assert is_valid_plate(plate)


@pytest.mark.parametrize("plate", ["00 A 1234", "82 AB 123", "34 AQ 123", "34 WX 123", "34 A 123", "34 AB 12",
                                   "34 ABC 1234", "34 ABCD 12", "34 AB 123456", "3 AB 123", "34AB123"])
def test_invalid_plates(plate):
    assert not is_valid_plate(plate)


def test_normalised_form():
    assert normalise_plate("34abc123") == "34 ABC 123"
    assert normalise_plate("34 ABC 123") == "34 ABC 123"
    assert normalise_plate("99 ABC 123") is None


@pytest.mark.parametrize(("text", "plate", "subs"), [
    ("34 ABC 123", "34 ABC 123", 0),
    ("TR 34 ABC 123", "34 ABC 123", 0),   # the TR band is not part of the plate
    ("TR34ABC123", "34 ABC 123", 0),
    ("34 A8C 123", "34 ABC 123", 1),      # digit where a letter must be
    ("34 ABC 1Z3", "34 ABC 123", 1),      # letter where a digit must be
    ("3A AB 123", None, 0),               # A is no digit: the province cannot be read
    ("34 ABC 12345", None, 0),            # 3 letters take at most 3 digits
    ("O6 DE 4141", "06 DE 4141", 1),
])
def test_read_plate(text, plate, subs):
    cand = read_plate(text, 0.8)
    if plate is None:
        assert cand is None
    else:
        assert cand is not None and cand.plate == plate and cand.substitutions == subs


def test_letter_guessed_from_a_digit_is_marked_as_a_substitution():
    # "2688382": the letter group can only come from the "8" (B or S look alike); the read is flagged with one
    # substitution so that fusion does not accept it from a single frame
    cand = read_plate("2688382")
    assert cand is not None and cand.plate == "26 B 8382" and cand.substitutions == 1 and cand.ambiguous


def test_one_read_as_i_is_not_ambiguous():
    cand = read_plate("64 1 64730")
    assert cand is not None and cand.plate == "64 I 64730" and cand.substitutions == 1 and not cand.ambiguous
    assert not read_plate("34 ABC 123").ambiguous
