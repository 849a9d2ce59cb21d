"""ISO 6346 size/type codes, decoded against the code tables of ISO 6346:1995 (length code 2 = 20 ft,
4 = 40 ft, L = 45 ft; height code 2 = 8 ft 6 in, 5 = 9 ft 6 in; G1 general purpose, R1 reefer, T6 tank)."""

from __future__ import annotations

import pytest

from operators.size_type import decode, read_size_type


@pytest.mark.parametrize(("code", "length_ft", "height_mm", "group"), [
    ("22G1", 20, 2591, "G"), ("42G1", 40, 2591, "G"), ("45G1", 40, 2896, "G"), ("L5G1", 45, 2896, "G"),
    ("45R1", 40, 2896, "R"), ("22T6", 20, 2591, "T"), ("22U1", 20, 2591, "U"), ("20G0", 20, 2438, "G"),
])
def test_decode_published_codes(code, length_ft, height_mm, group):
    st = decode(code)
    assert st is not None
    assert (st.length_ft, st.height_mm, st.type_group) == (length_ft, height_mm, group)


@pytest.mark.parametrize("code", ["22X1", "72G1", "23G1", "22G9", "22G", "22G11"])
def test_unknown_codes(code):
    assert decode(code) is None


@pytest.mark.parametrize(("text", "code"), [("22G1", "22G1"), ("45 G1", None), ("4561", "45G1"), ("L5G1", "L5G1"),
                                            ("CSQU 305438 3 22T6", "22T6"), ("2ZG1", "22G1"), ("ABCD", None)])
def test_read_size_type(text, code):
    st = read_size_type(text)
    assert (st.code if st else None) == code


def test_two_codes_on_a_line_are_ambiguous():
    assert read_size_type("22G1 45R1") is None
