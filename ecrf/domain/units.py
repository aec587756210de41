"""The lab test catalogue and unit conversion.

Every lab value the other domain modules see is in the test's *standard unit* (see
docs/domain-contracts.md). This module knows, per CDISC LBTESTCD, which units a site may report,
how each converts to the standard unit, and which standard-unit values are physically possible.

Unit spellings are matched leniently but per test (``µmol/L``, ``umol/L``, ``mcmol/L``;
``x10^9/L``, ``10E9/L``, ``10*9/l``), then reported in one canonical spelling. Different names for
the same quantity (``G/L`` and ``10^9/L``, ``IU/L`` and ``U/L``, ``mEq/L`` and ``mmol/L`` for
potassium) stay distinct canonical units with a factor of 1: the reported unit is never rewritten.

All arithmetic is Decimal; results are rounded half up to 4 decimal places and trailing zeros are
dropped (``Decimal("150")``, never ``Decimal("1.5E+2")``), so callers can compare exact values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from ecrf.domain.errors import DomainError

RESULT_PLACES = 4


# --- Errors -----------------------------------------------------------------------------------


class UnknownTestCode(DomainError):
    def __init__(self, test_code: object, field: str = "test_code") -> None:
        super().__init__(
            field, f"unknown lab test code {test_code!r} (known: {', '.join(LAB_TESTS)})"
        )
        self.test_code = test_code


class UnknownUnit(DomainError):
    def __init__(
        self, test_code: str, unit: object, accepted: Iterable[str], field: str = "unit"
    ) -> None:
        accepted = tuple(accepted)
        super().__init__(
            field,
            f"unit {unit!r} is not accepted for {test_code} (accepted: {', '.join(accepted)})",
        )
        self.test_code = test_code
        self.unit = unit
        self.accepted = accepted


class ImplausibleValue(DomainError):
    def __init__(
        self, test_code: str, value: Decimal, low: Decimal, high: Decimal, field: str = "value"
    ) -> None:
        unit = LAB_TESTS[test_code].standard_unit
        reason = "is negative" if value < 0 else "is outside the physically possible range"
        super().__init__(
            field,
            f"{test_code} {format_decimal(value)} {unit} {reason} "
            f"({format_decimal(low)}–{format_decimal(high)} {unit})",
        )
        self.test_code = test_code
        self.value = value


# --- Numeric helpers shared by the domain modules ---------------------------------------------


def as_decimal(value: object, field: str) -> Decimal:
    """Return ``value`` as a finite Decimal; floats go through ``str`` so 0.1 stays 0.1."""
    if isinstance(value, bool) or value is None:
        raise DomainError(field, f"must be a number, got {value!r}")
    try:
        number = Decimal(str(value)) if isinstance(value, float | int | str) else value
    except InvalidOperation:
        raise DomainError(field, f"must be a number, got {value!r}") from None
    if not isinstance(number, Decimal) or not number.is_finite():
        raise DomainError(field, f"must be a finite number, got {value!r}")
    return number


def round_half_up(value: Decimal, places: int = RESULT_PLACES) -> Decimal:
    """Round half up to ``places`` decimals and drop trailing zeros (never exponent notation)."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP).normalize()
    if rounded.is_zero():
        return Decimal(0)
    if rounded.as_tuple().exponent > 0:  # normalize() turned 150 into 1.5E+2
        return rounded.quantize(Decimal(1))
    return rounded


def format_decimal(value: Decimal) -> str:
    """Plain notation for messages: ``150``, ``0.25``."""
    return f"{value:f}"


# --- The catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitConversion:
    """``value_in_standard = value × multiply_by ÷ divide_by``.

    A divisor keeps factors that are published as divisors (glucose mg/dL ÷ 18.016) exact.
    """

    unit: str
    multiply_by: Decimal = Decimal(1)
    divide_by: Decimal = Decimal(1)
    aliases: tuple[str, ...] = ()

    def to_standard(self, value: Decimal) -> Decimal:
        return value * self.multiply_by / self.divide_by

    def from_standard(self, value: Decimal) -> Decimal:
        return value * self.divide_by / self.multiply_by


@dataclass(frozen=True)
class LabTest:
    code: str
    name: str
    standard_unit: str
    conversions: tuple[UnitConversion, ...]
    plausible_low: Decimal
    plausible_high: Decimal

    @property
    def accepted_units(self) -> tuple[str, ...]:
        return tuple(conversion.unit for conversion in self.conversions)


def _unit(unit: str, multiply_by: str = "1", divide_by: str = "1", *aliases: str) -> UnitConversion:
    return UnitConversion(unit, Decimal(multiply_by), Decimal(divide_by), aliases)


# 10^9/L = G/L = /nL = 10^3/µL; /µL is 1000 times smaller.
_CELL_COUNT_UNITS = (
    _unit("10^9/L"),
    _unit("G/L", "1", "1", "giga/L"),
    _unit("/nL"),
    _unit("10^3/uL", "1", "1", "K/uL", "10^3/mm3", "thou/uL"),
    _unit("/uL", "0.001", "1", "/mm3", "cells/uL"),
)
# U/L = IU/L; 1 µkat/L = 60 U/L (1 U = 1 µmol/min, 1 kat = 1 mol/s).
_ENZYME_UNITS = (_unit("U/L"), _unit("IU/L"), _unit("ukat/L", "60"))


def _test(
    code: str,
    name: str,
    conversions: tuple[UnitConversion, ...],
    plausible: tuple[str, str],
) -> LabTest:
    low, high = plausible
    return LabTest(code, name, conversions[0].unit, conversions, Decimal(low), Decimal(high))


# Plausibility bounds are deliberately generous: they catch unit mix-ups and typing errors
# (a platelet count of 150000 entered as 10^9/L), not clinically unusual values.
_CATALOGUE = (
    _test("PLAT", "Platelets", _CELL_COUNT_UNITS, ("0", "5000")),
    _test(
        "HGB",
        "Hemoglobin",
        # Hb monomer: 1 mmol/L = 16.11 g/L.
        (_unit("g/L"), _unit("g/dL", "10"), _unit("mmol/L", "16.11")),
        ("10", "250"),
    ),
    _test("WBC", "Leukocytes", _CELL_COUNT_UNITS, ("0", "1000")),
    _test("NEUT", "Neutrophils", _CELL_COUNT_UNITS, ("0", "1000")),
    _test("LYM", "Lymphocytes", _CELL_COUNT_UNITS, ("0", "1000")),
    _test("RETIC", "Reticulocytes", _CELL_COUNT_UNITS, ("0", "1500")),
    _test("ALT", "Alanine Aminotransferase", _ENZYME_UNITS, ("0", "50000")),
    _test("AST", "Aspartate Aminotransferase", _ENZYME_UNITS, ("0", "50000")),
    _test("ALP", "Alkaline Phosphatase", _ENZYME_UNITS, ("0", "20000")),
    _test("GGT", "Gamma Glutamyl Transferase", _ENZYME_UNITS, ("0", "20000")),
    _test("LDH", "Lactate Dehydrogenase", _ENZYME_UNITS, ("0", "100000")),
    _test(
        "BILI",
        "Bilirubin",
        # Molar mass 584.7 g/mol: 1 mg/dL = 17.1 µmol/L.
        (_unit("umol/L"), _unit("mg/dL", "17.1"), _unit("mg/L", "1.71")),
        ("0", "1500"),
    ),
    _test(
        "CREAT",
        "Creatinine",
        # Molar mass 113.1 g/mol: 1 mg/dL = 88.42 µmol/L.
        (
            _unit("umol/L"),
            _unit("mg/dL", "88.42"),
            _unit("mg/L", "8.842"),
            _unit("mmol/L", "1000"),
        ),
        ("0", "5000"),
    ),
    _test("K", "Potassium", (_unit("mmol/L"), _unit("mEq/L")), ("1", "15")),
    _test(
        "MG",
        "Magnesium",
        # Molar mass 24.31 g/mol: 1 mg/dL = 0.4114 mmol/L; divalent: 1 mEq/L = 0.5 mmol/L.
        (_unit("mmol/L"), _unit("mg/dL", "0.4114"), _unit("mEq/L", "0.5")),
        ("0", "10"),
    ),
    _test(
        "GLUC",
        "Glucose",
        # Molar mass 180.16 g/mol: mmol/L = mg/dL ÷ 18.016.
        (_unit("mmol/L"), _unit("mg/dL", "1", "18.016"), _unit("g/L", "100", "18.016")),
        ("0", "150"),
    ),
    _test(
        "TRIG",
        "Triglycerides",
        # As triolein, 885.7 g/mol: 1 mg/dL = 0.01129 mmol/L.
        (_unit("mmol/L"), _unit("mg/dL", "0.01129"), _unit("g/L", "1.129")),
        ("0", "200"),
    ),
    _test(
        "CHOL",
        "Cholesterol",
        # Molar mass 386.7 g/mol: 1 mg/dL = 0.02586 mmol/L.
        (_unit("mmol/L"), _unit("mg/dL", "0.02586"), _unit("g/L", "2.586")),
        ("0", "100"),
    ),
    _test(
        "HAPT",
        "Haptoglobin",
        (_unit("g/L"), _unit("mg/dL", "0.01"), _unit("mg/L", "0.001")),
        ("0", "20"),
    ),
    _test("TACRO", "Tacrolimus", (_unit("ng/mL"), _unit("ug/L")), ("0", "500")),
)

LAB_TESTS: Mapping[str, LabTest] = MappingProxyType({test.code: test for test in _CATALOGUE})


# --- Unit spelling --------------------------------------------------------------------------

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


# A feed repeats a handful of spellings: each is collapsed once (the key is a pure function).
@functools.lru_cache(maxsize=1024)
def _unit_key(unit: str) -> str:
    """Collapse the spellings of one unit to a comparison key: ``x 10E9 / L`` → ``10^9/l``."""
    key = re.sub(r"\s+", "", unit).lower()
    key = key.replace("µ", "u").replace("μ", "u").replace("mc", "u")  # micro sign, Greek mu, mc
    key = key.replace("×", "x")
    key = re.sub(r"([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", r"^\1", key).translate(_SUPERSCRIPTS)  # 10⁹ → 10^9
    key = key.replace("**", "^").replace("*", "^")  # 10*9 → 10^9
    key = re.sub(r"10e\+?(?=\d)", "10^", key)  # 10E9 → 10^9
    key = key.replace("^+", "^")
    key = re.sub(r"^x(?=10\^)", "", key)  # x10^9/L → 10^9/L
    key = key.replace("mm^3", "mm3")
    return re.sub(r"/(litre|liter)$", "/l", key)


def _spellings(test: LabTest) -> Mapping[str, UnitConversion]:
    spellings: dict[str, UnitConversion] = {}
    for conversion in test.conversions:
        for spelling in (conversion.unit, *conversion.aliases):
            spellings[_unit_key(spelling)] = conversion
    return MappingProxyType(spellings)


_SPELLINGS: Mapping[str, Mapping[str, UnitConversion]] = MappingProxyType(
    {code: _spellings(test) for code, test in LAB_TESTS.items()}
)


# --- Public API -------------------------------------------------------------------------------


def lab_test(test_code: str, field: str = "test_code") -> LabTest:
    """The catalogue entry; test codes are matched case-insensitively."""
    code = test_code.strip().upper() if isinstance(test_code, str) else test_code
    try:
        return LAB_TESTS[code]
    except (KeyError, TypeError):
        raise UnknownTestCode(test_code, field) from None


def standard_unit(test_code: str) -> str:
    return lab_test(test_code).standard_unit


def accepted_units(test_code: str) -> tuple[str, ...]:
    return lab_test(test_code).accepted_units


def _conversion(test: LabTest, unit: str, field: str) -> UnitConversion:
    conversion = _SPELLINGS[test.code].get(_unit_key(unit)) if isinstance(unit, str) else None
    if conversion is None:
        raise UnknownUnit(test.code, unit, test.accepted_units, field)
    return conversion


def normalize_unit(test_code: str, unit: str, field: str = "unit") -> str:
    """The canonical spelling of ``unit`` for this test (``µmol/l`` → ``umol/L``)."""
    return _conversion(lab_test(test_code), unit, field).unit


def to_standard(test_code: str, value: Decimal, unit: str) -> Decimal:
    test = lab_test(test_code)
    conversion = _conversion(test, unit, "unit")
    return round_half_up(conversion.to_standard(as_decimal(value, "value")))


def convert(test_code: str, value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    test = lab_test(test_code)
    source = _conversion(test, from_unit, "from_unit")
    target = _conversion(test, to_unit, "to_unit")
    return round_half_up(target.from_standard(source.to_standard(as_decimal(value, "value"))))


def check_plausible(test_code: str, value_std: Decimal, field: str = "value") -> None:
    """Raise ImplausibleValue unless the standard-unit value is physically possible."""
    test = lab_test(test_code)
    value = as_decimal(value_std, field)
    if not test.plausible_low <= value <= test.plausible_high:
        raise ImplausibleValue(test.code, value, test.plausible_low, test.plausible_high, field)


class RangeIndicator(StrEnum):
    """CDISC LBNRIND values."""

    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


def range_indicator(
    value: Decimal, lln: Decimal | None, uln: Decimal | None
) -> RangeIndicator | None:
    """LOW below the LLN, HIGH above the ULN (limits themselves are normal); None without limits."""
    if lln is None and uln is None:
        return None
    if lln is not None and value < lln:
        return RangeIndicator.LOW
    if uln is not None and value > uln:
        return RangeIndicator.HIGH
    return RangeIndicator.NORMAL


def times_limit(value: Decimal, limit: Decimal | None) -> Decimal | None:
    """``value`` as a multiple of a reference limit (×ULN); None without a usable limit."""
    if limit is None or limit <= 0:
        return None
    return round_half_up(value / limit)
