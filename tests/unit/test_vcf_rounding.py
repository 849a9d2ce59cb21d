"""Rounding per API MPMS 11.1-2004 §11.1.5.4 (research note §1.5).

Decimal increments, round half to even, a tie detected within 1e-7 of the
increment, symmetric about zero; floats and NumPy arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from operators.vcf.rounding import round_to_increment

CASES = [
    # value, increment, expected
    (0.125, 0.01, 0.12),  # tie → even (12)
    (0.135, 0.01, 0.14),  # tie → even (14)
    (1.000005, 0.00001, 1.0),  # tie → even
    (1.000015, 0.00001, 1.00002),  # tie → even
    (0.98439709, 0.00001, 0.9844),  # A1 CTPL (0.984397092633) to 5 dp
    (2.5, 1.0, 2.0),
    (3.5, 1.0, 4.0),
    (7.5, 5.0, 10.0),  # 1.5 increments → 2
    (12.5, 5.0, 10.0),  # 2.5 increments → 2
    (1232.4, 5.0, 1230.0),
    (1237.6, 5.0, 1240.0),
    (0.025, 0.05, 0.0),  # 0.5 increments → 0
    (0.075, 0.05, 0.1),  # 1.5 increments → 2
    (22.27, 0.05, 22.25),
    (667.718347529613, 0.1, 667.7),
    (1201.85, 0.1, 1201.8),  # tie → even
    (0.00057634, 0.1e-6, 0.0005763),
    (0.0, 0.1, 0.0),
]


@pytest.mark.parametrize(("value", "inc", "expected"), CASES)
def test_scalar(value: float, inc: float, expected: float) -> None:
    assert round_to_increment(value, inc) == expected


@pytest.mark.parametrize(("value", "inc", "expected"), CASES)
def test_negative_is_symmetric(value: float, inc: float, expected: float) -> None:
    assert round_to_increment(-value, inc) == -expected


def test_array_matches_scalar() -> None:
    values = np.array([c[0] for c in CASES] + [-c[0] for c in CASES])
    for inc in (0.00001, 0.05, 0.1, 5.0):
        got = round_to_increment(values, inc)
        assert isinstance(got, np.ndarray)
        assert got.tolist() == [round_to_increment(float(v), inc) for v in values]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.5 + 0.5e-7, 2.0),  # within the tie tolerance: treated as a tie → even
        (2.5 - 0.5e-7, 2.0),
        (3.5 - 0.5e-7, 4.0),
        (2.5 + 2e-7, 3.0),  # outside the tolerance: ordinary rounding
        (2.5 - 2e-7, 2.0),
        (3.5 - 2e-7, 3.0),
    ],
)
def test_tie_tolerance(value: float, expected: float) -> None:
    assert round_to_increment(value, 1.0) == expected
    assert round_to_increment(np.array([value]), 1.0)[0] == expected
    # scaled to the CTL increment: tolerance is relative to the increment
    assert round_to_increment(value * 1e-5, 1e-5) == pytest.approx(expected * 1e-5, abs=1e-15)


def test_results_are_the_nearest_doubles_to_the_decimals() -> None:
    # n × 0.1 in binary would give 0.30000000000000004; the result must be the literal.
    assert round_to_increment(0.31, 0.1) == 0.3
    assert round_to_increment(np.array([0.31, 0.69]), 0.1).tolist() == [0.3, 0.7]


def test_non_finite_pass_through() -> None:
    assert math.isnan(round_to_increment(float("nan"), 0.1))
    assert round_to_increment(float("inf"), 0.1) == float("inf")
    out = round_to_increment(np.array([np.nan, 1.26]), 0.1)
    assert math.isnan(out[0]) and out[1] == 1.3


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan")])
def test_bad_increment(bad: float) -> None:
    with pytest.raises(ValueError, match="increment"):
        round_to_increment(1.0, bad)


def _reference(value: float, num: int, den: int) -> float:
    """§11.1.5.4 as the standard words it: normalise |x|, truncate, tie test on the fraction."""
    sign = -1.0 if value < 0 else 1.0
    scaled = abs(value) * den / num
    whole = math.floor(scaled)
    frac = scaled - whole
    if abs(frac - 0.5) < 1e-7:
        whole += whole % 2
    else:
        whole = math.floor(scaled + 0.5)
    return sign * (whole * num / den)


@pytest.mark.parametrize(("inc", "num", "den"), [(0.00001, 1, 100_000), (0.05, 1, 20), (0.1, 1, 10), (5.0, 5, 1)])
def test_matches_the_standard_wording_near_ties(inc: float, num: int, den: int) -> None:
    rng = np.random.default_rng(7)
    halves = rng.integers(-(10**6), 10**6, 5000) + 0.5
    offsets = rng.choice([0.0, 1e-9, -1e-9, 5e-8, -5e-8, 1.5e-7, -1.5e-7, 0.3, -0.2], halves.size)
    values = (halves + offsets) * num / den
    expected = [_reference(float(v), num, den) for v in values]
    assert round_to_increment(values, inc).tolist() == expected
    assert [round_to_increment(float(v), inc) for v in values] == expected
