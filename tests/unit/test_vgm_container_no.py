"""ISO 6346 check digit: the standard's published example and an independent reference computation."""

from __future__ import annotations

import random

import pytest

from operators.vgm_container_no import ContainerNumberError, check_digit, normalise, validate

# ISO 6346 Annex A letter values (A=10 … Z=38, multiples of 11 skipped), written out from the standard.
LETTERS = {"A": 10, "B": 12, "C": 13, "D": 14, "E": 15, "F": 16, "G": 17, "H": 18, "I": 19, "J": 20, "K": 21,
           "L": 23, "M": 24, "N": 25, "O": 26, "P": 27, "Q": 28, "R": 29, "S": 30, "T": 31, "U": 32, "V": 34,
           "W": 35, "X": 36, "Y": 37, "Z": 38}


def reference(first_ten: str) -> int:
    total = sum((LETTERS[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(first_ten))
    return total % 11 % 10


def test_published_example_csqu_305438_3():
    # ISO 6346 example: C13·1 + S30·2 + Q28·4 + U32·8 + 3·16 + 0·32 + 5·64 + 4·128 + 3·256 + 8·512 = 6185;
    # 6185 mod 11 = 3
    assert 13 + 60 + 112 + 256 + 48 + 0 + 320 + 512 + 768 + 4096 == 6185 and 6185 % 11 == 3
    assert check_digit("CSQU305438") == 3
    assert validate("CSQU 305438 3") == "CSQU3054383"
    assert validate("csqu-305438-3") == "CSQU3054383"


def test_agrees_with_the_reference_on_random_numbers_including_remainder_ten():
    rng = random.Random(3)
    tens = 0
    for _ in range(3000):
        first = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + rng.choice("UJZ")
        first += f"{rng.randrange(1_000_000):06d}"
        total = sum((LETTERS[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(first))
        tens += total % 11 == 10
        assert check_digit(first) == reference(first)
    assert tens > 100  # remainder 10 (digit 0) was exercised


@pytest.mark.parametrize("bad", ["CSQU3054384", "CSQU305438", "CSQ3054383", "CSQX3054383", "1SQU3054383", ""])
def test_rejects_wrong_check_digit_and_malformed(bad):
    with pytest.raises(ContainerNumberError):
        validate(bad)


def test_normalise():
    assert normalise(" msku 123/4 ") == "MSKU1234"
