"""Typed field readers shared by the event decoders (operators/event_fields.py)."""

from __future__ import annotations

import math

import pytest

from operators.event_fields import number_field, optional_number, text_field
from operators.events import EventError


def test_text_field_refuses_missing_wrong_type_and_blank() -> None:
    assert text_field({"id": "M-1"}, "id") == "M-1"
    assert text_field({"id": " M-1 "}, "id") == " M-1 "
    assert text_field({"id": " M-1 "}, "id", strip=True) == "M-1"
    for obj in ({}, {"id": 7}, {"id": ""}, {"id": "   "}, {"id": None}):
        with pytest.raises(EventError, match=r"^id: expected a non-empty string"):
            text_field(obj, "id")


@pytest.mark.parametrize("value", [True, "12", [1], {"v": 1}])
def test_numbers_refuse_other_types_including_booleans(value: object) -> None:
    with pytest.raises(EventError, match=r"^v: expected a number"):
        number_field({"v": value}, "v")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_numbers_refuse_non_finite_values(value: float) -> None:
    with pytest.raises(EventError, match=r"^v: expected a finite number"):
        optional_number({"v": value}, "v")


def test_positive_numbers_refuse_zero_and_below() -> None:
    assert number_field({"v": 3}, "v", positive=True) == 3.0
    assert number_field({"v": -2.5}, "v") == -2.5
    for value in (0, -0.0, -1):
        with pytest.raises(EventError, match=r"^v: expected a positive finite number"):
            number_field({"v": value}, "v", positive=True)


def test_absent_numbers() -> None:
    assert optional_number({}, "v") is None
    assert optional_number({"v": None}, "v") is None
    with pytest.raises(EventError, match=r"^v: missing$"):
        number_field({"v": None}, "v")
