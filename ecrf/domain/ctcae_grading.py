"""CTCAE v5.0 grade suggested by a laboratory value.

The grade is a suggestion: some criteria also need clinical information (symptomatic
hypokalemia is grade 2, life-threatening anemia is grade 4, hyperglycemia is graded by the
treatment it needed). The investigator's grade is the grade of record.

Every threshold lives in the data table below (`LAB_TERMS`, mapped to test codes by
`LAB_TESTS`), copied from the official NCI sheet CTCAE_v5.0_2017-11-27.xlsx and converted to
the standard units of docs/domain-contracts.md. Reading the cut-offs:

* a grade starts at one or more cut-offs; the value gets the highest grade whose cut-off it
  passes. "<LLN-75" (grade 1) then "<75-50" (grade 2) means grade 2 starts strictly below 75,
  so 75 itself is grade 1; ">ULN-3.0xULN" then ">3.0-5.0xULN" means grade 2 starts strictly
  above 3xULN;
* a few grade 1 ranges carry no "<" or ">" in the sheet ("1.5 - 3.0 x baseline",
  "1.71 - 3.42 mmol/L"), so their lower end is included (`inclusive`);
* a cut-off is relative to the LLN, the ULN, the baseline value, or absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from ecrf.domain.errors import DomainError
from ecrf.domain.units import RangeIndicator, range_indicator


@dataclass(frozen=True)
class LabGrade:
    term: str | None
    meddra_code: str | None
    grade: int | None
    basis: str


class Reference(Enum):
    ABSOLUTE = "absolute"
    LLN = "lln"
    ULN = "uln"
    BASELINE = "baseline"


class Direction(Enum):
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True)
class Cutoff:
    """Where a grade starts: a multiple of a reference (LLN, ULN, baseline) or an absolute value."""

    reference: Reference
    amount: Decimal
    label: str  # the grade's range in the sheet's wording, reported as LabGrade.basis
    inclusive: bool = False


@dataclass(frozen=True)
class GradeRow:
    grade: int | None  # None: the value shows the term but cannot grade it
    cutoffs: tuple[Cutoff, ...]  # passing any one of them reaches this grade
    note: str = ""


@dataclass(frozen=True)
class TermCriteria:
    term: str
    meddra_code: str
    direction: Direction
    rows: tuple[GradeRow, ...]  # mildest first
    # v5.0: when the baseline is abnormal, these rows (multiples of the baseline) replace `rows`.
    abnormal_baseline_rows: tuple[GradeRow, ...] = ()


@dataclass(frozen=True)
class GradedLabTest:
    """The terms a test can grade: the value's direction picks one when there are two."""

    low: TermCriteria | None
    high: TermCriteria | None


# ---------------------------------------------------------------------------------------------
# Data table: CTCAE v5.0 lab criteria in standard units.


def _lln(label: str) -> Cutoff:
    return Cutoff(Reference.LLN, Decimal(1), label)


def _uln(multiple: str, label: str) -> Cutoff:
    return Cutoff(Reference.ULN, Decimal(multiple), label)


def _baseline(multiple: str, label: str, *, inclusive: bool = False) -> Cutoff:
    return Cutoff(Reference.BASELINE, Decimal(multiple), label, inclusive)


def _absolute(amount: str, label: str, *, inclusive: bool = False) -> Cutoff:
    return Cutoff(Reference.ABSOLUTE, Decimal(amount), label, inclusive)


def _row(grade: int | None, *cutoffs: Cutoff, note: str = "") -> GradeRow:
    return GradeRow(grade, cutoffs, note)


PLATELET_COUNT_DECREASED = TermCriteria(
    "Platelet count decreased",
    "10035528",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-75 ×10⁹/L")),
        _row(2, _absolute("75", "<75-50 ×10⁹/L")),
        _row(3, _absolute("50", "<50-25 ×10⁹/L")),
        _row(4, _absolute("25", "<25 ×10⁹/L")),
    ),
)
WHITE_BLOOD_CELL_DECREASED = TermCriteria(
    "White blood cell decreased",
    "10049182",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-3.0 ×10⁹/L")),
        _row(2, _absolute("3.0", "<3.0-2.0 ×10⁹/L")),
        _row(3, _absolute("2.0", "<2.0-1.0 ×10⁹/L")),
        _row(4, _absolute("1.0", "<1.0 ×10⁹/L")),
    ),
)
NEUTROPHIL_COUNT_DECREASED = TermCriteria(
    "Neutrophil count decreased",
    "10029366",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-1.5 ×10⁹/L")),
        _row(2, _absolute("1.5", "<1.5-1.0 ×10⁹/L")),
        _row(3, _absolute("1.0", "<1.0-0.5 ×10⁹/L")),
        _row(4, _absolute("0.5", "<0.5 ×10⁹/L")),
    ),
)
LYMPHOCYTE_COUNT_DECREASED = TermCriteria(
    "Lymphocyte count decreased",
    "10025256",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-0.8 ×10⁹/L")),
        _row(2, _absolute("0.8", "<0.8-0.5 ×10⁹/L")),
        _row(3, _absolute("0.5", "<0.5-0.2 ×10⁹/L")),
        _row(4, _absolute("0.2", "<0.2 ×10⁹/L")),
    ),
)
# The sheet gives no grade 1 and absolute cut-offs only (">4000/mm3 - 20,000/mm3").
LYMPHOCYTE_COUNT_INCREASED = TermCriteria(
    "Lymphocyte count increased",
    "10025258",
    Direction.HIGH,
    rows=(
        _row(2, _absolute("4.0", ">4.0-20.0 ×10⁹/L")),
        _row(3, _absolute("20.0", ">20.0 ×10⁹/L")),
    ),
)
ANEMIA = TermCriteria(
    "Anemia",
    "10002272",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-100 g/L")),
        _row(2, _absolute("100", "<100-80 g/L")),
        # Grade 4 ("life-threatening consequences") is clinical: the value stops at grade 3.
        _row(3, _absolute("80", "<80 g/L"), note="grade 4 if life-threatening"),
    ),
)
# v5.0: with an abnormal baseline the grades are multiples of the baseline instead of the ULN;
# grade 1 starts at 1.5x (ALT, AST), 2x (ALP, GGT; both inclusive: no ">" in the sheet) or
# strictly above 1x (bilirubin) the baseline.
# ALT and AST share their thresholds in CTCAE v5.0, and so do ALP and GGT: one table per pair,
# so the twin terms cannot drift apart.
_TRANSAMINASE_ROWS = (
    _row(1, _uln("1", ">ULN-3×ULN")),
    _row(2, _uln("3", ">3-5×ULN")),
    _row(3, _uln("5", ">5-20×ULN")),
    _row(4, _uln("20", ">20×ULN")),
)
_TRANSAMINASE_BASELINE_ROWS = (
    _row(1, _baseline("1.5", "1.5-3×baseline", inclusive=True)),
    _row(2, _baseline("3", ">3-5×baseline")),
    _row(3, _baseline("5", ">5-20×baseline")),
    _row(4, _baseline("20", ">20×baseline")),
)
_ALP_GGT_ROWS = (
    _row(1, _uln("1", ">ULN-2.5×ULN")),
    _row(2, _uln("2.5", ">2.5-5×ULN")),
    _row(3, _uln("5", ">5-20×ULN")),
    _row(4, _uln("20", ">20×ULN")),
)
_ALP_GGT_BASELINE_ROWS = (
    _row(1, _baseline("2", "2-2.5×baseline", inclusive=True)),
    _row(2, _baseline("2.5", ">2.5-5×baseline")),
    _row(3, _baseline("5", ">5-20×baseline")),
    _row(4, _baseline("20", ">20×baseline")),
)


ALT_INCREASED = TermCriteria(
    "Alanine aminotransferase increased",
    "10001551",
    Direction.HIGH,
    rows=_TRANSAMINASE_ROWS,
    abnormal_baseline_rows=_TRANSAMINASE_BASELINE_ROWS,
)
AST_INCREASED = TermCriteria(
    "Aspartate aminotransferase increased",
    "10003481",
    Direction.HIGH,
    rows=_TRANSAMINASE_ROWS,
    abnormal_baseline_rows=_TRANSAMINASE_BASELINE_ROWS,
)
ALKALINE_PHOSPHATASE_INCREASED = TermCriteria(
    "Alkaline phosphatase increased",
    "10001675",
    Direction.HIGH,
    rows=_ALP_GGT_ROWS,
    abnormal_baseline_rows=_ALP_GGT_BASELINE_ROWS,
)
GGT_INCREASED = TermCriteria(
    "GGT increased",
    "10056910",
    Direction.HIGH,
    rows=_ALP_GGT_ROWS,
    abnormal_baseline_rows=_ALP_GGT_BASELINE_ROWS,
)
BLOOD_BILIRUBIN_INCREASED = TermCriteria(
    "Blood bilirubin increased",
    "10005364",
    Direction.HIGH,
    rows=(
        _row(1, _uln("1", ">ULN-1.5×ULN")),
        _row(2, _uln("1.5", ">1.5-3×ULN")),
        _row(3, _uln("3", ">3-10×ULN")),
        _row(4, _uln("10", ">10×ULN")),
    ),
    abnormal_baseline_rows=(
        _row(1, _baseline("1", ">1-1.5×baseline")),
        _row(2, _baseline("1.5", ">1.5-3×baseline")),
        _row(3, _baseline("3", ">3-10×baseline")),
        _row(4, _baseline("10", ">10×baseline")),
    ),
)
# Grades 2 and 3 are reached by either the ULN or the baseline multiple (the worse one wins);
# the baseline cut-offs apply only when a baseline is given.
CREATININE_INCREASED = TermCriteria(
    "Creatinine increased",
    "10011368",
    Direction.HIGH,
    rows=(
        _row(1, _uln("1", ">ULN-1.5×ULN")),
        _row(2, _uln("1.5", ">1.5-3×ULN"), _baseline("1.5", ">1.5-3×baseline")),
        _row(3, _uln("3", ">3-6×ULN"), _baseline("3", ">3×baseline")),
        _row(4, _uln("6", ">6×ULN")),
    ),
)
HYPERKALEMIA = TermCriteria(
    "Hyperkalemia",
    "10020647",
    Direction.HIGH,
    rows=(
        _row(1, _uln("1", ">ULN-5.5 mmol/L")),
        _row(2, _absolute("5.5", ">5.5-6.0 mmol/L")),
        _row(3, _absolute("6.0", ">6.0-7.0 mmol/L")),
        _row(4, _absolute("7.0", ">7.0 mmol/L")),
    ),
)
# Grade 2 is grade 1's range when symptomatic: the value alone gives grade 1.
HYPOKALEMIA = TermCriteria(
    "Hypokalemia",
    "10021018",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-3.0 mmol/L"), note="grade 2 if symptomatic"),
        _row(3, _absolute("3.0", "<3.0-2.5 mmol/L")),
        _row(4, _absolute("2.5", "<2.5 mmol/L")),
    ),
)
HYPOMAGNESEMIA = TermCriteria(
    "Hypomagnesemia",
    "10021028",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-0.5 mmol/L")),
        _row(2, _absolute("0.5", "<0.5-0.4 mmol/L")),
        _row(3, _absolute("0.4", "<0.4-0.3 mmol/L")),
        _row(4, _absolute("0.3", "<0.3 mmol/L")),
    ),
)
# The sheet has no grade 2 ("-"): grade 3 follows grade 1 directly.
HYPERMAGNESEMIA = TermCriteria(
    "Hypermagnesemia",
    "10020670",
    Direction.HIGH,
    rows=(
        _row(1, _uln("1", ">ULN-1.23 mmol/L")),
        _row(3, _absolute("1.23", ">1.23-3.30 mmol/L")),
        _row(4, _absolute("3.30", ">3.30 mmol/L")),
    ),
)
# Absolute cut-offs only; grade 1 "1.71 mmol/L - 3.42 mmol/L" includes 1.71.
HYPERTRIGLYCERIDEMIA = TermCriteria(
    "Hypertriglyceridemia",
    "10020870",
    Direction.HIGH,
    rows=(
        _row(1, _absolute("1.71", "1.71-3.42 mmol/L", inclusive=True)),
        _row(2, _absolute("3.42", ">3.42-5.7 mmol/L")),
        _row(3, _absolute("5.7", ">5.7-11.4 mmol/L")),
        _row(4, _absolute("11.4", ">11.4 mmol/L")),
    ),
)
CHOLESTEROL_HIGH = TermCriteria(
    "Cholesterol high",
    "10008661",
    Direction.HIGH,
    rows=(
        _row(1, _uln("1", ">ULN-7.75 mmol/L")),
        _row(2, _absolute("7.75", ">7.75-10.34 mmol/L")),
        _row(3, _absolute("10.34", ">10.34-12.92 mmol/L")),
        _row(4, _absolute("12.92", ">12.92 mmol/L")),
    ),
)
HYPOGLYCEMIA = TermCriteria(
    "Hypoglycemia",
    "10021005",
    Direction.LOW,
    rows=(
        _row(1, _lln("<LLN-3.0 mmol/L")),
        _row(2, _absolute("3.0", "<3.0-2.2 mmol/L")),
        _row(3, _absolute("2.2", "<2.2-1.7 mmol/L")),
        _row(4, _absolute("1.7", "<1.7 mmol/L")),
    ),
)
# v5.0 grades hyperglycemia by the intervention it needed, not by the glucose value.
HYPERGLYCEMIA = TermCriteria(
    "Hyperglycemia",
    "10020639",
    Direction.HIGH,
    rows=(_row(None, _uln("1", ">ULN"), note="graded by intervention, no glucose cut-offs"),),
)

LAB_TERMS: tuple[TermCriteria, ...] = (
    PLATELET_COUNT_DECREASED,
    ANEMIA,
    WHITE_BLOOD_CELL_DECREASED,
    NEUTROPHIL_COUNT_DECREASED,
    LYMPHOCYTE_COUNT_DECREASED,
    LYMPHOCYTE_COUNT_INCREASED,
    ALT_INCREASED,
    AST_INCREASED,
    BLOOD_BILIRUBIN_INCREASED,
    ALKALINE_PHOSPHATASE_INCREASED,
    GGT_INCREASED,
    CREATININE_INCREASED,
    HYPERKALEMIA,
    HYPOKALEMIA,
    HYPOMAGNESEMIA,
    HYPERMAGNESEMIA,
    HYPERTRIGLYCERIDEMIA,
    CHOLESTEROL_HIGH,
    HYPOGLYCEMIA,
    HYPERGLYCEMIA,
)

LAB_TESTS: dict[str, GradedLabTest] = {
    "PLAT": GradedLabTest(low=PLATELET_COUNT_DECREASED, high=None),
    "HGB": GradedLabTest(low=ANEMIA, high=None),
    "WBC": GradedLabTest(low=WHITE_BLOOD_CELL_DECREASED, high=None),
    "NEUT": GradedLabTest(low=NEUTROPHIL_COUNT_DECREASED, high=None),
    "LYM": GradedLabTest(low=LYMPHOCYTE_COUNT_DECREASED, high=LYMPHOCYTE_COUNT_INCREASED),
    "ALT": GradedLabTest(low=None, high=ALT_INCREASED),
    "AST": GradedLabTest(low=None, high=AST_INCREASED),
    "ALP": GradedLabTest(low=None, high=ALKALINE_PHOSPHATASE_INCREASED),
    "GGT": GradedLabTest(low=None, high=GGT_INCREASED),
    "BILI": GradedLabTest(low=None, high=BLOOD_BILIRUBIN_INCREASED),
    "CREAT": GradedLabTest(low=None, high=CREATININE_INCREASED),
    "K": GradedLabTest(low=HYPOKALEMIA, high=HYPERKALEMIA),
    "MG": GradedLabTest(low=HYPOMAGNESEMIA, high=HYPERMAGNESEMIA),
    "TRIG": GradedLabTest(low=None, high=HYPERTRIGLYCERIDEMIA),
    "CHOL": GradedLabTest(low=None, high=CHOLESTEROL_HIGH),
    "GLUC": GradedLabTest(low=HYPOGLYCEMIA, high=HYPERGLYCEMIA),
    # Measured in the trials but without a CTCAE v5.0 lab criterion.
    "RETIC": GradedLabTest(low=None, high=None),
    "LDH": GradedLabTest(low=None, high=None),
    "HAPT": GradedLabTest(low=None, high=None),
    "TACRO": GradedLabTest(low=None, high=None),
}

NO_CRITERION_BASIS = "no CTCAE v5.0 lab criterion"


# ---------------------------------------------------------------------------------------------
# Grading logic: reads the table above.


@dataclass(frozen=True)
class _References:
    lln: Decimal | None
    uln: Decimal | None
    baseline: Decimal | None


def grade_lab_value(
    test_code: str,
    value: Decimal,
    *,
    lln: Decimal | None,
    uln: Decimal | None,
    baseline_value: Decimal | None = None,
    baseline_abnormal: bool | None = None,
) -> LabGrade:
    """Suggest the CTCAE v5.0 term and grade of one lab value (all values in standard units).

    `baseline_abnormal` says whether the baseline was abnormal; when None it is inferred as
    `baseline_value > uln`. Grade 0: the value does not reach the lowest grade of the term in
    its direction. Grade None: no lab criterion, or the term cannot be graded from the value.
    """
    lab_test = _lab_test(test_code)
    references = _checked_references(value, lln, uln, baseline_value)
    if lab_test.low is None and lab_test.high is None:
        return LabGrade(None, None, None, NO_CRITERION_BASIS)
    criteria = _term_in_value_direction(lab_test, value, references)
    rows = _rows_for_baseline(criteria, references, baseline_abnormal)
    for row in reversed(rows):
        passed = [cutoff for cutoff in row.cutoffs if _passes(value, cutoff, criteria, references)]
        if passed:
            return LabGrade(criteria.term, criteria.meddra_code, row.grade, _basis(row, passed))
    grade_0_basis = _grade_0_basis(value, criteria, rows, references)
    return LabGrade(criteria.term, criteria.meddra_code, 0, grade_0_basis)


def _lab_test(test_code: str) -> GradedLabTest:
    try:
        return LAB_TESTS[test_code]
    except KeyError:
        raise DomainError("test_code", f"unknown lab test code {test_code!r}") from None


def _checked_references(
    value: Decimal, lln: Decimal | None, uln: Decimal | None, baseline: Decimal | None
) -> _References:
    _require_decimal("value", value, allow_zero=True)
    if lln is not None:
        _require_decimal("lln", lln, allow_zero=True)
    if uln is not None:
        _require_decimal("uln", uln, allow_zero=False)
    if baseline is not None:
        # A zero baseline would make every multiple of it zero, hence every value "abnormal".
        _require_decimal("baseline_value", baseline, allow_zero=False)
    if lln is not None and uln is not None and lln > uln:
        raise DomainError("lln", f"LLN {lln} is above ULN {uln}")
    return _References(lln, uln, baseline)


def _require_decimal(field: str, number: object, *, allow_zero: bool) -> None:
    # Floats are refused: binary noise (0.1 + 0.2) would move values across cut-offs.
    if isinstance(number, bool) or not isinstance(number, Decimal | int):
        raise DomainError(field, f"expected a Decimal, got {type(number).__name__}")
    number = Decimal(number)
    if not number.is_finite():
        raise DomainError(field, f"expected a finite number, got {number}")
    if number < 0 or (number == 0 and not allow_zero):
        raise DomainError(field, f"must be {'>= 0' if allow_zero else '> 0'}, got {number}")


def _term_in_value_direction(
    lab_test: GradedLabTest, value: Decimal, references: _References
) -> TermCriteria:
    if lab_test.high is None:
        return lab_test.low
    if lab_test.low is None:
        return lab_test.high
    indicator = range_indicator(value, references.lln, references.uln)
    if indicator is RangeIndicator.LOW:
        return lab_test.low
    if indicator is RangeIndicator.HIGH:
        return lab_test.high
    # Within the reference range the nearer limit names the term, so that a high-normal
    # potassium reads "Hyperkalemia, grade 0"; that needs the whole range.
    lln = _required(references.lln, "lln", lab_test.low.term)
    uln = _required(references.uln, "uln", lab_test.high.term)
    return lab_test.high if value >= (lln + uln) / 2 else lab_test.low


def _rows_for_baseline(
    criteria: TermCriteria, references: _References, baseline_abnormal: bool | None
) -> tuple[GradeRow, ...]:
    if not criteria.abnormal_baseline_rows:
        return criteria.rows
    if baseline_abnormal is None:
        baseline_abnormal = _baseline_above_uln(criteria, references)
    if not baseline_abnormal:
        return criteria.rows
    if references.baseline is None:
        raise DomainError(
            "baseline_value", f"{criteria.term}: an abnormal baseline needs its value"
        )
    return criteria.abnormal_baseline_rows


def _baseline_above_uln(criteria: TermCriteria, references: _References) -> bool:
    if references.baseline is None:
        return False  # no baseline known: the ULN rule applies
    return references.baseline > _required(references.uln, "uln", criteria.term)


def _passes(
    value: Decimal, cutoff: Cutoff, criteria: TermCriteria, references: _References
) -> bool:
    limit = _limit(cutoff, criteria, references)
    if limit is None:
        return False
    if criteria.direction is Direction.HIGH:
        return value >= limit if cutoff.inclusive else value > limit
    return value <= limit if cutoff.inclusive else value < limit


def _limit(cutoff: Cutoff, criteria: TermCriteria, references: _References) -> Decimal | None:
    """The cut-off in the value's unit; None for a baseline cut-off when no baseline is given."""
    match cutoff.reference:
        case Reference.ABSOLUTE:
            return cutoff.amount
        case Reference.LLN:
            return cutoff.amount * _required(references.lln, "lln", criteria.term)
        case Reference.ULN:
            return cutoff.amount * _required(references.uln, "uln", criteria.term)
        case Reference.BASELINE:
            return None if references.baseline is None else cutoff.amount * references.baseline


def _required(reference: Decimal | None, field: str, term: str) -> Decimal:
    if reference is None:
        raise DomainError(field, f"{term}: grading this value needs the {field.upper()}")
    return reference


def _basis(row: GradeRow, passed: list[Cutoff]) -> str:
    basis = "; ".join(cutoff.label for cutoff in passed)
    return f"{basis} ({row.note})" if row.note else basis


def _grade_0_basis(
    value: Decimal, criteria: TermCriteria, rows: tuple[GradeRow, ...], references: _References
) -> str:
    if _within_reference_range(value, criteria.direction, references):
        return "normal"
    mildest = rows[0]
    if all(cutoff.reference in (Reference.LLN, Reference.ULN) for cutoff in mildest.cutoffs):
        # Beyond the opposite limit, e.g. a high platelet count for "Platelet count decreased".
        return "≥LLN" if criteria.direction is Direction.LOW else "≤ULN"
    # Out of range but not abnormal enough for the mildest grade, e.g. triglycerides above the
    # ULN but under 1.71 mmol/L, or ALT under 1.5x an abnormal baseline.
    return f"short of grade {mildest.grade} ({_basis(mildest, list(mildest.cutoffs))})"


def _within_reference_range(value: Decimal, direction: Direction, references: _References) -> bool:
    """Within the given limits, the one on the term's side being known."""
    limit_on_term_side = references.lln if direction is Direction.LOW else references.uln
    if limit_on_term_side is None:
        return False
    above_lln = references.lln is None or value >= references.lln
    below_uln = references.uln is None or value <= references.uln
    return above_lln and below_uln
