"""What a reported lab value means: standard units, range indicator, ×ULN, CTCAE suggestion.

Plain functions over `ecrf.domain.units` and `ecrf.domain.ctcae_grading` (no database): the
lab-result
service, the bulk import and `POST /api/ctcae/grade/` all evaluate values the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ecrf.domain import units
from ecrf.domain.ctcae_grading import LabGrade, grade_lab_value
from ecrf.domain.errors import DomainError


@dataclass(frozen=True)
class StandardValues:
    """A value and its reference limits as reported and in the test's standard unit."""

    test_code: str
    unit: str  # canonical spelling of the reported unit
    unit_std: str
    value_std: Decimal
    lln_std: Decimal | None
    uln_std: Decimal | None


def grade_standard_values(
    values: StandardValues, baseline_std: Decimal | None, baseline_abnormal: bool | None
) -> LabGrade:
    """`ecrf.domain.ctcae_grading.grade_lab_value` on standard-unit values (raises DomainError)."""
    return grade_lab_value(
        values.test_code,
        values.value_std,
        lln=values.lln_std,
        uln=values.uln_std,
        baseline_value=baseline_std,
        baseline_abnormal=baseline_abnormal,
    )


@dataclass(frozen=True)
class CtcaeSuggestion:
    """The CTCAE grade a value suggests; `term` empty (and a `note`) when there is none."""

    term: str = ""
    meddra_code: str = ""
    grade: int | None = None
    basis: str = ""
    note: str = ""

    @property
    def suggested(self) -> bool:
        return bool(self.term)


def canonical_test_code(test_code: str, field: str = "test_code") -> str:
    return units.lab_test(test_code, field).code


def standardize(
    *,
    test_code: str,
    value: Decimal,
    unit: str,
    lln: Decimal | None = None,
    uln: Decimal | None = None,
    baseline_value: Decimal | None = None,
) -> tuple[StandardValues, Decimal | None]:
    """Converts value, limits (and a baseline) to the standard unit and checks plausibility.

    Raises DomainError naming the field at fault: unknown test code or unit, a negative or
    physically impossible value or limit, a ULN of zero, an LLN above the ULN.
    """
    code = canonical_test_code(test_code)
    canonical_unit = units.normalize_unit(code, unit)
    value_std = _standard(code, value, canonical_unit, "value")
    _, lln_std, uln_std = standard_limits(test_code=code, unit=canonical_unit, lln=lln, uln=uln)
    baseline_std = None
    if baseline_value is not None:
        baseline_std = _standard(code, baseline_value, canonical_unit, "baseline_value")
    values = StandardValues(
        test_code=code,
        unit=canonical_unit,
        unit_std=units.standard_unit(code),
        value_std=value_std,
        lln_std=lln_std,
        uln_std=uln_std,
    )
    return values, baseline_std


def standard_limits(
    *, test_code: str, unit: str, lln: Decimal | None, uln: Decimal | None
) -> tuple[str, Decimal | None, Decimal | None]:
    """The canonical unit and the limits in the standard unit, checked: not negative,
    physically possible, a ULN above 0 and not below the LLN."""
    code = canonical_test_code(test_code)
    canonical_unit = units.normalize_unit(code, unit)
    lln_std = None if lln is None else _standard(code, lln, canonical_unit, "lln")
    uln_std = None if uln is None else _standard(code, uln, canonical_unit, "uln")
    if uln_std is not None and uln_std <= 0:
        raise DomainError("uln", "the upper limit of normal must be greater than 0")
    if lln_std is not None and uln_std is not None and lln_std > uln_std:
        raise DomainError(
            "lln",
            f"the lower limit {units.format_decimal(lln)} is above the upper limit "
            f"{units.format_decimal(uln)}",
        )
    return canonical_unit, lln_std, uln_std


def _standard(test_code: str, number: Decimal, unit: str, field: str) -> Decimal:
    number = units.as_decimal(number, field)
    if number < 0:
        raise DomainError(field, f"must not be negative, got {units.format_decimal(number)}")
    converted = units.to_standard(test_code, number, unit)
    units.check_plausible(test_code, converted, field)
    return converted


def times_uln(values: StandardValues) -> Decimal | None:
    return units.times_limit(values.value_std, values.uln_std)


def suggest_ctcae(
    values: StandardValues,
    *,
    baseline_std: Decimal | None = None,
    baseline_abnormal: bool | None = None,
    excluded_terms: list[str] | tuple[str, ...] = (),
    protocol_label: str = "the protocol",
) -> CtcaeSuggestion:
    """The suggestion for a stored result: never raises, says in `note` why there is none."""
    try:
        graded = grade_standard_values(values, baseline_std, baseline_abnormal)
    except DomainError as error:
        # Typically a missing reference limit: the result is still stored, just not graded.
        return CtcaeSuggestion(note=f"Not graded: {error.message}.")
    if graded.term is None:
        return CtcaeSuggestion(note=f"Not graded: {graded.basis}.")
    excluded = {term.casefold() for term in excluded_terms}
    if graded.term.casefold() in excluded:
        return CtcaeSuggestion(
            note=f"'{graded.term}' is excluded from suggestions by {protocol_label} "
            "(disease under study)."
        )
    return CtcaeSuggestion(
        term=graded.term,
        meddra_code=graded.meddra_code or "",
        grade=graded.grade,
        basis=graded.basis,
    )


def grade_reported_value(
    *,
    test_code: str,
    value: Decimal,
    unit: str,
    lln: Decimal | None,
    uln: Decimal | None,
    baseline_value: Decimal | None = None,
    baseline_abnormal: bool | None = None,
) -> tuple[StandardValues, Decimal | None, LabGrade]:
    """Grades a value as reported (limits and baseline in the value's unit). Unlike
    `suggest_ctcae` it raises DomainError naming the input the grading lacks or refuses."""
    values, baseline_std = standardize(
        test_code=test_code,
        value=value,
        unit=unit,
        lln=lln,
        uln=uln,
        baseline_value=baseline_value,
    )
    graded = grade_standard_values(values, baseline_std, baseline_abnormal)
    return values, baseline_std, graded
