from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecrf.domain import units
from ecrf.domain.errors import DomainError
from ecrf.domain.units import (
    ImplausibleValue,
    RangeIndicator,
    UnknownTestCode,
    UnknownUnit,
    as_decimal,
    check_plausible,
    convert,
    normalize_unit,
    range_indicator,
    round_half_up,
    standard_unit,
    times_limit,
    to_standard,
)

D = Decimal


# The standard units of docs/domain-contracts.md.
@pytest.mark.parametrize(
    ("test_code", "unit"),
    [
        ("PLAT", "10^9/L"),
        ("WBC", "10^9/L"),
        ("NEUT", "10^9/L"),
        ("LYM", "10^9/L"),
        ("RETIC", "10^9/L"),
        ("HGB", "g/L"),
        ("ALT", "U/L"),
        ("AST", "U/L"),
        ("ALP", "U/L"),
        ("GGT", "U/L"),
        ("LDH", "U/L"),
        ("BILI", "umol/L"),
        ("CREAT", "umol/L"),
        ("K", "mmol/L"),
        ("MG", "mmol/L"),
        ("GLUC", "mmol/L"),
        ("TRIG", "mmol/L"),
        ("CHOL", "mmol/L"),
        ("HAPT", "g/L"),
        ("TACRO", "ng/mL"),
        ("plat", "10^9/L"),  # codes are matched case-insensitively
    ],
)
def test_standard_unit(test_code, unit):
    assert standard_unit(test_code) == unit


def test_catalogue_has_exactly_the_agreed_tests():
    assert set(units.LAB_TESTS) == {
        *("PLAT", "HGB", "WBC", "NEUT", "LYM", "ALT", "AST", "BILI", "ALP", "GGT"),
        *("CREAT", "K", "MG", "GLUC", "TRIG", "CHOL", "RETIC", "LDH", "HAPT", "TACRO"),
    }


@pytest.mark.parametrize("test_code", sorted(units.LAB_TESTS))
def test_standard_unit_converts_with_factor_one(test_code):
    assert to_standard(test_code, D("12.345"), standard_unit(test_code)) == D("12.345")


@pytest.mark.parametrize(
    ("test_code", "spelling", "canonical"),
    [
        ("PLAT", "10^9/L", "10^9/L"),
        ("PLAT", "x10^9/L", "10^9/L"),
        ("PLAT", "X10^9/l", "10^9/L"),
        ("PLAT", "×10⁹/L", "10^9/L"),
        ("PLAT", "10E9/L", "10^9/L"),
        ("PLAT", "10e+9/L", "10^9/L"),
        ("PLAT", "10*9/L", "10^9/L"),
        ("PLAT", "10**9/L", "10^9/L"),
        ("PLAT", " x 10^9 / L ", "10^9/L"),
        ("PLAT", "10^9/litre", "10^9/L"),
        ("PLAT", "G/L", "G/L"),
        ("PLAT", "g/l", "G/L"),
        ("PLAT", "10^3/µL", "10^3/uL"),
        ("PLAT", "10^3/μL", "10^3/uL"),  # Greek mu, not the micro sign
        ("PLAT", "10^3/mcL", "10^3/uL"),
        ("PLAT", "K/uL", "10^3/uL"),
        ("PLAT", "10^3/mm³", "10^3/uL"),
        ("PLAT", "/µL", "/uL"),
        ("PLAT", "/mm3", "/uL"),
        ("PLAT", "cells/µL", "/uL"),
        ("HGB", "g/dl", "g/dL"),
        ("HGB", "G/L", "g/L"),
        ("CREAT", "µmol/L", "umol/L"),
        ("CREAT", "mcmol/l", "umol/L"),
        ("CREAT", "MG/DL", "mg/dL"),
        ("ALT", "IU/L", "IU/L"),
        ("ALT", "µkat/L", "ukat/L"),
        ("K", "meq/l", "mEq/L"),
        ("TACRO", "µg/L", "ug/L"),
        ("TACRO", "mcg/L", "ug/L"),
    ],
)
def test_normalize_unit(test_code, spelling, canonical):
    assert normalize_unit(test_code, spelling) == canonical


@pytest.mark.parametrize(
    ("test_code", "value", "unit", "expected"),
    [
        ("PLAT", "150", "10^9/L", "150"),
        ("PLAT", "150", "G/L", "150"),
        ("PLAT", "150", "10^3/uL", "150"),
        ("PLAT", "150000", "/uL", "150"),
        ("PLAT", "123456", "/µL", "123.456"),
        ("WBC", "4500", "/mm3", "4.5"),
        ("HGB", "12.5", "g/dL", "125"),
        ("HGB", "8", "mmol/L", "128.88"),
        ("CREAT", "1.5", "mg/dL", "132.63"),
        ("CREAT", "1", "mg/dL", "88.42"),
        ("CREAT", "0.1", "mmol/L", "100"),
        ("BILI", "1", "mg/dL", "17.1"),
        ("BILI", "1.2", "mg/dL", "20.52"),
        ("GLUC", "100", "mg/dL", "5.5506"),  # 100 ÷ 18.016 = 5.55062...
        ("GLUC", "18.016", "mg/dL", "1"),
        ("GLUC", "1", "g/L", "5.5506"),
        ("TRIG", "150", "mg/dL", "1.6935"),
        ("CHOL", "200", "mg/dL", "5.172"),
        ("MG", "2", "mg/dL", "0.8228"),
        ("MG", "1.7", "mEq/L", "0.85"),
        ("K", "4.1", "mEq/L", "4.1"),
        ("ALT", "40", "IU/L", "40"),
        ("ALT", "0.5", "µkat/L", "30"),
        ("HAPT", "150", "mg/dL", "1.5"),
        ("TACRO", "4.2", "µg/L", "4.2"),
        ("PLAT", "1", "/uL", "0.001"),
        ("PLAT", "1", "/uL", "0.0010"),  # equal as Decimals: trailing zeros do not matter
    ],
)
def test_to_standard(test_code, value, unit, expected):
    assert to_standard(test_code, D(value), unit) == D(expected)


def test_to_standard_drops_trailing_zeros_without_exponent_notation():
    result = to_standard("PLAT", D("150000"), "/uL")
    assert str(result) == "150"


def test_to_standard_rounds_half_up_to_four_places():
    # 0.00005 × 1 is a tie at the fifth decimal: half up gives 0.0001.
    assert to_standard("PLAT", D("0.05"), "/uL") == D("0.0001")


@pytest.mark.parametrize(
    ("test_code", "value", "from_unit", "to_unit", "expected"),
    [
        ("HGB", "125", "g/L", "g/dL", "12.5"),
        ("HGB", "12", "g/dL", "mmol/L", "7.4488"),
        ("CREAT", "132.63", "umol/L", "mg/dL", "1.5"),
        ("GLUC", "7", "mmol/L", "mg/dL", "126.112"),
        ("PLAT", "150", "10^9/L", "/uL", "150000"),
        ("PLAT", "150", "G/L", "10^3/µL", "150"),
        ("ALT", "120", "U/L", "ukat/L", "2"),
        ("MG", "1", "mEq/L", "mg/dL", "1.2154"),
    ],
)
def test_convert(test_code, value, from_unit, to_unit, expected):
    assert convert(test_code, D(value), from_unit, to_unit) == D(expected)


@given(st.decimals(min_value=0, max_value=10000, places=2))
def test_convert_round_trip_between_mg_dl_and_umol_l(value):
    there = convert("CREAT", value, "mg/dL", "umol/L")
    assert there == value * D("88.42")  # exact: two decimals × 88.42 fits in 4 places
    assert convert("CREAT", there, "umol/L", "mg/dL") == value


@pytest.mark.parametrize("call", [standard_unit, lambda code: to_standard(code, D(1), "g/L")])
@pytest.mark.parametrize("code", ["PLT", "", "HB"])
def test_unknown_test_code(call, code):
    with pytest.raises(UnknownTestCode) as raised:
        call(code)
    assert raised.value.field == "test_code"
    assert isinstance(raised.value, DomainError)


@pytest.mark.parametrize(
    ("test_code", "unit", "accepted"),
    [
        ("PLAT", "mg/dL", "10^9/L, G/L, /nL, 10^3/uL, /uL"),
        ("HGB", "%", "g/L, g/dL, mmol/L"),
        ("CREAT", "mmol", "umol/L, mg/dL, mg/L, mmol/L"),
        ("TACRO", "", "ng/mL, ug/L"),
    ],
)
def test_unknown_unit_lists_accepted_units(test_code, unit, accepted):
    with pytest.raises(UnknownUnit) as raised:
        to_standard(test_code, D(1), unit)
    assert raised.value.field == "unit"
    assert raised.value.message == (
        f"unit {unit!r} is not accepted for {test_code} (accepted: {accepted})"
    )


def test_convert_names_the_bad_side():
    with pytest.raises(UnknownUnit) as raised:
        convert("HGB", D(1), "g/dL", "furlongs")
    assert raised.value.field == "to_unit"


@pytest.mark.parametrize(
    ("test_code", "value"),
    [
        ("PLAT", "0"),
        ("PLAT", "5000"),
        ("HGB", "10"),
        ("HGB", "250"),
        ("K", "1"),
        ("ALT", "45000"),
        ("TACRO", "0"),
    ],
)
def test_check_plausible_accepts_bounds(test_code, value):
    assert check_plausible(test_code, D(value)) is None


@pytest.mark.parametrize(
    ("test_code", "value", "message"),
    [
        ("PLAT", "-1", "PLAT -1 10^9/L is negative (0–5000 10^9/L)"),
        ("PLAT", "150000", "PLAT 150000 10^9/L is outside the physically possible range "
         "(0–5000 10^9/L)"),
        ("HGB", "9.9", "HGB 9.9 g/L is outside the physically possible range (10–250 g/L)"),
        ("HGB", "1250", "HGB 1250 g/L is outside the physically possible range (10–250 g/L)"),
        ("K", "0.5", "K 0.5 mmol/L is outside the physically possible range (1–15 mmol/L)"),
    ],
)  # fmt: skip
def test_check_plausible_rejects(test_code, value, message):
    with pytest.raises(ImplausibleValue) as raised:
        check_plausible(test_code, D(value))
    assert raised.value.field == "value"
    assert raised.value.message == message


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), "abc", None, True])
def test_non_numbers_are_rejected(value):
    with pytest.raises(DomainError) as raised:
        check_plausible("PLAT", value)
    assert raised.value.field == "value"


@pytest.mark.parametrize(
    ("value", "lln", "uln", "expected"),
    [
        ("149", "150", "400", RangeIndicator.LOW),
        ("150", "150", "400", RangeIndicator.NORMAL),
        ("400", "150", "400", RangeIndicator.NORMAL),
        ("401", "150", "400", RangeIndicator.HIGH),
        ("41", None, "40", RangeIndicator.HIGH),
        ("5", None, "40", RangeIndicator.NORMAL),
        ("0.5", "0.7", None, RangeIndicator.LOW),
        ("5", None, None, None),
    ],
)
def test_range_indicator(value, lln, uln, expected):
    as_dec = lambda text: None if text is None else D(text)  # noqa: E731
    assert range_indicator(D(value), as_dec(lln), as_dec(uln)) == expected


def test_range_indicator_values_are_the_cdisc_strings():
    assert range_indicator(D(1), D(2), D(3)) == "LOW"


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("130", "40", "3.25"),
        ("120", "40", "3"),
        ("100", "3", "33.3333"),
        ("50", "0", None),
        ("50", None, None),
    ],
)
def test_times_limit(value, limit, expected):
    result = times_limit(D(value), None if limit is None else D(limit))
    assert result == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.00005", 4, "2.0001"),
        ("2.00004", 4, "2"),
        ("1.2345", 2, "1.23"),
        ("1.235", 2, "1.24"),
        ("1500.000", 4, "1500"),
        ("-0.00001", 4, "0"),
    ],
)
def test_round_half_up(value, places, expected):
    assert str(round_half_up(D(value), places)) == expected


@pytest.mark.parametrize(("value", "expected"), [(1, "1"), (0.1, "0.1"), ("2.50", "2.50")])
def test_as_decimal(value, expected):
    assert str(as_decimal(value, "x")) == expected
