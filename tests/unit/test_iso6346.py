"""ISO 6346 check digit and container-code reading rules.

Letter values are the literal table of ISO 6346:1995 annex A (A=10, multiples of 11 skipped); the
published example is CSQU 305438 3 (ISO 6346 annex A / Wikipedia "ISO 6346"). Other expected check digits
come from the independent reference implementation below, which uses that literal table.
"""

from __future__ import annotations

import pytest

from operators.iso6346 import (
    LETTER_VALUES,
    best_valid,
    check_digit,
    format_code,
    is_valid,
    owner_serial_prefix,
    read_containers,
)

ANNEX_A = {"A": 10, "B": 12, "C": 13, "D": 14, "E": 15, "F": 16, "G": 17, "H": 18, "I": 19, "J": 20, "K": 21,
           "L": 23, "M": 24, "N": 25, "O": 26, "P": 27, "Q": 28, "R": 29, "S": 30, "T": 31, "U": 32, "V": 34,
           "W": 35, "X": 36, "Y": 37, "Z": 38}


def reference_check_digit(code10: str) -> int:
    total = 0
    for i, c in enumerate(code10):
        total += (ANNEX_A[c] if c.isalpha() else int(c)) * (2 ** i)
    r = total % 11
    return 0 if r == 10 else r


def test_letter_values_are_the_annex_a_table():
    assert LETTER_VALUES == ANNEX_A


def test_published_example_csqu_305438_3():
    # CSQU305438: 13*1 + 30*2 + 28*4 + 32*8 + 3*16 + 0*32 + 5*64 + 4*128 + 3*256 + 8*512 = 6185; 6185 mod 11 = 3
    assert check_digit("CSQU305438") == 3
    assert is_valid("CSQU3054383")
    assert is_valid("CSQU 305438 3")
    assert format_code("CSQU3054383") == "CSQU 305438 3"


@pytest.mark.parametrize("code10", ["MSCU123456", "TGHU987650", "HLXU814222", "ZCNU303034", "ABCJ000001",
                                    "TRLZ450019", "MAEU000000"])
def test_check_digit_matches_the_reference(code10):
    assert check_digit(code10) == reference_check_digit(code10)


def test_remainder_ten_is_written_as_zero():
    serial = next(f"{n:06d}" for n in range(1000) if sum(
        (ANNEX_A[c] if c.isalpha() else int(c)) * 2 ** i for i, c in enumerate(f"CSQU{n:06d}")) % 11 == 10)
    assert check_digit(f"CSQU{serial}") == 0
    assert is_valid(f"CSQU{serial}0")


@pytest.mark.parametrize("code", ["CSQU3054384", "CSQU3054380", "CSQX3054383", "CSQ3054383", "CSQU30543833",
                                  "C5QU3054383", "csqu305438"])
def test_invalid_codes_are_rejected(code):
    assert not is_valid(code)


def test_check_digit_rejects_malformed_input():
    with pytest.raises(ValueError):
        check_digit("CSQ1305438")


@pytest.mark.parametrize("text", ["CSQU 305438 3", "CSQU3054383", "CSQU 3054383", "csqu 305438 3",
                                  "CSQU 305438 ③", "C5QU 305438 3", "CSQU 3O5438 3", "CSQU 305438 | 3",
                                  "CSQU 305438 [3"])
def test_reads_the_code_with_positional_mapping_and_box_tolerance(text):
    cand = best_valid(text, 0.9)
    assert cand is not None and cand.code == "CSQU3054383"


def test_substitutions_are_counted():
    cand = best_valid("C5QU 3O5438 3")
    assert cand is not None and cand.substitutions == 2


def test_more_than_two_substitutions_are_rejected():
    assert best_valid("C5QU 3O5B38 3") is None


def test_a_wrong_check_digit_is_never_repaired():
    cands = read_containers("CSQU 305438 4")
    assert [c.code for c in cands] == ["CSQU3054384"]
    assert not cands[0].check_digit_ok
    assert best_valid("CSQU 305438 4") is None


def test_token_boundaries_only_between_fields():
    # a boundary inside the serial means the window is not one code
    assert best_valid("CSQU 305 438 3") is None
    # a window must start at a token start: the code is not found inside a longer word
    assert best_valid("XCSQU3054383") is None


def test_cross_line_trap_size_type_after_a_code_without_check_digit():
    # FUVU 570787 with the check digit missed and the size/type 22U1 on the same line: "2" is no check digit
    assert best_valid("FUVU570787 22U1") is None


def test_two_different_valid_codes_on_one_line_are_ambiguous():
    other = f"MSCU123456{reference_check_digit('MSCU123456')}"
    assert best_valid(f"CSQU 305438 3 {other}") is None


def test_box_artefact_before_the_check_digit_is_skipped():
    d = reference_check_digit("SEGU689327")
    assert d != 1  # otherwise the artefact itself would be the check digit
    cand = best_valid(f"SEGU 689327 1 {d}")
    assert cand is not None and cand.code == f"SEGU689327{d}"


def test_owner_serial_prefix_triggers_the_check_digit_rescue():
    assert owner_serial_prefix("CSQU 305438") == "CSQU305438"
    assert owner_serial_prefix("CSQU305438") == "CSQU305438"
    assert owner_serial_prefix("CSQU 305438 3") is None
    assert owner_serial_prefix("CSQU 30543") is None
