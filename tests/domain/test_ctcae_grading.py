"""CTCAE v5.0 lab grading: every cut-off just below, at and just above, both baseline rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecrf.domain.ctcae_grading import LabGrade, grade_lab_value
from ecrf.domain.errors import DomainError

STEP = Decimal("0.01")

# Reference ranges (standard units) used throughout; None where the lab gives no limit.
RANGES: dict[str, tuple[str | None, str | None]] = {
    "PLAT": ("150", "400"),
    "HGB": ("120", "160"),
    "WBC": ("4.0", "10.0"),
    "NEUT": ("2.0", "7.5"),
    "LYM": ("1.0", "3.5"),
    "ALT": (None, "40"),
    "AST": (None, "40"),
    "ALP": ("40", "130"),
    "GGT": (None, "60"),
    "BILI": (None, "20"),
    "CREAT": ("60", "100"),
    "K": ("3.5", "5.1"),
    "MG": ("0.70", "1.00"),
    "TRIG": (None, "1.70"),
    "CHOL": (None, "5.20"),
    "GLUC": ("3.9", "6.1"),
}

PLT = ("Platelet count decreased", "10035528")
ANEMIA = ("Anemia", "10002272")
WBC = ("White blood cell decreased", "10049182")
NEUT = ("Neutrophil count decreased", "10029366")
LYM_DOWN = ("Lymphocyte count decreased", "10025256")
LYM_UP = ("Lymphocyte count increased", "10025258")
ALT = ("Alanine aminotransferase increased", "10001551")
AST = ("Aspartate aminotransferase increased", "10003481")
BILI = ("Blood bilirubin increased", "10005364")
ALP = ("Alkaline phosphatase increased", "10001675")
GGT = ("GGT increased", "10056910")
CREAT = ("Creatinine increased", "10011368")
HYPERK = ("Hyperkalemia", "10020647")
HYPOK = ("Hypokalemia", "10021018")
HYPOMG = ("Hypomagnesemia", "10021028")
HYPERMG = ("Hypermagnesemia", "10020670")
TRIG = ("Hypertriglyceridemia", "10020870")
CHOL = ("Cholesterol high", "10008661")
HYPOGLY = ("Hypoglycemia", "10021005")
HYPERGLY = ("Hyperglycemia", "10020639")


def grade(code: str, value: Decimal | str, **kwargs: object) -> LabGrade:
    lln, uln = RANGES[code]
    kwargs.setdefault("lln", None if lln is None else Decimal(lln))
    kwargs.setdefault("uln", None if uln is None else Decimal(uln))
    return grade_lab_value(code, Decimal(value), **kwargs)


def around(table: list[tuple]) -> list[tuple]:
    """(code, term, cut-off, (grade below, at, above)) -> one case per value."""
    cases = []
    for code, term, cutoff, expected in table:
        values = (Decimal(cutoff) - STEP, Decimal(cutoff), Decimal(cutoff) + STEP)
        cases += [
            pytest.param(code, value, term, grade_, id=f"{code}-{value}")
            for value, grade_ in zip(values, expected, strict=True)
        ]
    return cases


# Each cut-off of the sheet's lab rows, with the grade just below, at and just above it.
BOUNDARIES = [
    ("PLAT", PLT, "150", (1, 0, 0)),  # LLN
    ("PLAT", PLT, "75", (2, 1, 1)),
    ("PLAT", PLT, "50", (3, 2, 2)),
    ("PLAT", PLT, "25", (4, 3, 3)),
    ("HGB", ANEMIA, "120", (1, 0, 0)),
    ("HGB", ANEMIA, "100", (2, 1, 1)),
    ("HGB", ANEMIA, "80", (3, 2, 2)),  # grade 4 is clinical only
    ("WBC", WBC, "4.0", (1, 0, 0)),
    ("WBC", WBC, "3.0", (2, 1, 1)),
    ("WBC", WBC, "2.0", (3, 2, 2)),
    ("WBC", WBC, "1.0", (4, 3, 3)),
    ("NEUT", NEUT, "2.0", (1, 0, 0)),
    ("NEUT", NEUT, "1.5", (2, 1, 1)),
    ("NEUT", NEUT, "1.0", (3, 2, 2)),
    ("NEUT", NEUT, "0.5", (4, 3, 3)),
    ("LYM", LYM_DOWN, "1.0", (1, 0, 0)),
    ("LYM", LYM_DOWN, "0.8", (2, 1, 1)),
    ("LYM", LYM_DOWN, "0.5", (3, 2, 2)),
    ("LYM", LYM_DOWN, "0.2", (4, 3, 3)),
    ("LYM", LYM_UP, "4.0", (0, 0, 2)),  # no grade 1 in the sheet
    ("LYM", LYM_UP, "20.0", (2, 2, 3)),
    ("ALT", ALT, "40", (0, 0, 1)),  # ULN
    ("ALT", ALT, "120", (1, 1, 2)),
    ("ALT", ALT, "200", (2, 2, 3)),
    ("ALT", ALT, "800", (3, 3, 4)),
    ("AST", AST, "40", (0, 0, 1)),
    ("AST", AST, "120", (1, 1, 2)),
    ("AST", AST, "200", (2, 2, 3)),
    ("AST", AST, "800", (3, 3, 4)),
    ("BILI", BILI, "20", (0, 0, 1)),
    ("BILI", BILI, "30", (1, 1, 2)),
    ("BILI", BILI, "60", (2, 2, 3)),
    ("BILI", BILI, "200", (3, 3, 4)),
    ("ALP", ALP, "130", (0, 0, 1)),
    ("ALP", ALP, "325", (1, 1, 2)),
    ("ALP", ALP, "650", (2, 2, 3)),
    ("ALP", ALP, "2600", (3, 3, 4)),
    ("GGT", GGT, "60", (0, 0, 1)),
    ("GGT", GGT, "150", (1, 1, 2)),
    ("GGT", GGT, "300", (2, 2, 3)),
    ("GGT", GGT, "1200", (3, 3, 4)),
    ("CREAT", CREAT, "100", (0, 0, 1)),
    ("CREAT", CREAT, "150", (1, 1, 2)),
    ("CREAT", CREAT, "300", (2, 2, 3)),
    ("CREAT", CREAT, "600", (3, 3, 4)),
    ("K", HYPERK, "5.1", (0, 0, 1)),
    ("K", HYPERK, "5.5", (1, 1, 2)),
    ("K", HYPERK, "6.0", (2, 2, 3)),
    ("K", HYPERK, "7.0", (3, 3, 4)),
    ("K", HYPOK, "3.5", (1, 0, 0)),
    ("K", HYPOK, "3.0", (3, 1, 1)),  # grade 2 needs symptoms
    ("K", HYPOK, "2.5", (4, 3, 3)),
    ("MG", HYPOMG, "0.70", (1, 0, 0)),
    ("MG", HYPOMG, "0.5", (2, 1, 1)),
    ("MG", HYPOMG, "0.4", (3, 2, 2)),
    ("MG", HYPOMG, "0.3", (4, 3, 3)),
    ("MG", HYPERMG, "1.00", (0, 0, 1)),
    ("MG", HYPERMG, "1.23", (1, 1, 3)),  # no grade 2 in the sheet
    ("MG", HYPERMG, "3.30", (3, 3, 4)),
    ("TRIG", TRIG, "1.71", (0, 1, 1)),  # "1.71 - 3.42": 1.71 included
    ("TRIG", TRIG, "3.42", (1, 1, 2)),
    ("TRIG", TRIG, "5.7", (2, 2, 3)),
    ("TRIG", TRIG, "11.4", (3, 3, 4)),
    ("CHOL", CHOL, "5.20", (0, 0, 1)),
    ("CHOL", CHOL, "7.75", (1, 1, 2)),
    ("CHOL", CHOL, "10.34", (2, 2, 3)),
    ("CHOL", CHOL, "12.92", (3, 3, 4)),
    ("GLUC", HYPOGLY, "3.9", (1, 0, 0)),
    ("GLUC", HYPOGLY, "3.0", (2, 1, 1)),
    ("GLUC", HYPOGLY, "2.2", (3, 2, 2)),
    ("GLUC", HYPOGLY, "1.7", (4, 3, 3)),
    ("GLUC", HYPERGLY, "6.1", (0, 0, None)),  # no glucose cut-offs for hyperglycemia
]


@pytest.mark.parametrize(("code", "value", "term", "expected_grade"), around(BOUNDARIES))
def test_every_cutoff(code, value, term, expected_grade):
    result = grade(code, value)
    assert (result.term, result.meddra_code, result.grade) == (*term, expected_grade)


LIVER_BOUNDARIES = [row for row in BOUNDARIES if row[0] in {"ALT", "AST", "ALP", "GGT", "BILI"}]


@pytest.mark.parametrize(("code", "value", "term", "expected_grade"), around(LIVER_BOUNDARIES))
@pytest.mark.parametrize(
    ("baseline_value", "baseline_abnormal"),
    [
        pytest.param("15", None, id="baseline-below-uln"),
        pytest.param("15", False, id="flagged-normal"),
        # The investigator's flag wins over the value.
        pytest.param("1000", False, id="high-but-flagged-normal"),
    ],
)
def test_liver_normal_baseline_uses_uln(
    code, value, term, expected_grade, baseline_value, baseline_abnormal
):
    result = grade(
        code,
        value,
        baseline_value=Decimal(baseline_value),
        baseline_abnormal=baseline_abnormal,
    )
    assert (result.term, result.grade) == (term[0], expected_grade)


@pytest.mark.parametrize(
    ("code", "uln", "expected"),
    [
        ("ALT", "40", LabGrade(*ALT, 1, ">ULN-3×ULN")),
        ("AST", "40", LabGrade(*AST, 1, ">ULN-3×ULN")),
        ("ALP", "130", LabGrade(*ALP, 1, ">ULN-2.5×ULN")),
        ("GGT", "60", LabGrade(*GGT, 1, ">ULN-2.5×ULN")),
        ("BILI", "20", LabGrade(*BILI, 1, ">ULN-1.5×ULN")),
    ],
)
def test_baseline_at_uln_is_normal(code, uln, expected):
    # "Abnormal" means above the ULN: a baseline at the ULN keeps the ULN rule.
    value = Decimal(uln) + STEP
    assert grade(code, value, baseline_value=Decimal(uln)) == expected


# With an abnormal baseline the multiples apply to the baseline (ULN: ALT/AST 40, BILI 20,
# ALP 130, GGT 60).
ABNORMAL_BASELINE_BOUNDARIES = [
    # code, baseline, cut-off, (below, at, above)
    ("ALT", "80", "120", (0, 1, 1)),  # "1.5 - 3.0 x baseline": 1.5x included
    ("ALT", "80", "240", (1, 1, 2)),
    ("ALT", "80", "400", (2, 2, 3)),
    ("ALT", "80", "1600", (3, 3, 4)),
    ("AST", "60", "90", (0, 1, 1)),
    ("AST", "60", "180", (1, 1, 2)),
    ("AST", "60", "300", (2, 2, 3)),
    ("AST", "60", "1200", (3, 3, 4)),
    ("ALP", "200", "400", (0, 1, 1)),  # "2.0 - 2.5 x baseline": 2x included
    ("ALP", "200", "500", (1, 1, 2)),
    ("ALP", "200", "1000", (2, 2, 3)),
    ("ALP", "200", "4000", (3, 3, 4)),
    ("GGT", "90", "180", (0, 1, 1)),
    ("GGT", "90", "225", (1, 1, 2)),
    ("GGT", "90", "450", (2, 2, 3)),
    ("GGT", "90", "1800", (3, 3, 4)),
    ("BILI", "30", "30", (0, 0, 1)),  # "> 1.0 - 1.5 x baseline": strictly above
    ("BILI", "30", "45", (1, 1, 2)),
    ("BILI", "30", "90", (2, 2, 3)),
    ("BILI", "30", "300", (3, 3, 4)),
]


def around_baseline(table: list[tuple]) -> list:
    cases = []
    for code, baseline, cutoff, expected in table:
        values = (Decimal(cutoff) - STEP, Decimal(cutoff), Decimal(cutoff) + STEP)
        cases += [
            pytest.param(code, baseline, value, grade_, id=f"{code}-baseline{baseline}-{value}")
            for value, grade_ in zip(values, expected, strict=True)
        ]
    return cases


@pytest.mark.parametrize(
    ("code", "baseline", "value", "expected_grade"), around_baseline(ABNORMAL_BASELINE_BOUNDARIES)
)
@pytest.mark.parametrize("baseline_abnormal", [None, True], ids=["inferred", "flagged"])
def test_liver_abnormal_baseline_uses_baseline(
    code, baseline, value, expected_grade, baseline_abnormal
):
    result = grade(
        code, value, baseline_value=Decimal(baseline), baseline_abnormal=baseline_abnormal
    )
    assert result.grade == expected_grade


def test_abnormal_flag_applies_to_a_baseline_within_range():
    # Flagged abnormal by the investigator although 30 <= ULN 40: multiples of 30.
    result = grade("ALT", "45", baseline_value=Decimal(30), baseline_abnormal=True)
    assert result == LabGrade(*ALT, 1, "1.5-3×baseline")


# Creatinine: grades 2 and 3 by the worse of the ULN (100) and the baseline multiples.
CREATININE_WITH_BASELINE = [
    # baseline, cut-off, (below, at, above)
    ("50", "75", (0, 0, 2)),  # >1.5x baseline is grade 2 even within the reference range
    ("50", "100", (2, 2, 2)),
    ("50", "150", (2, 2, 3)),  # >3x baseline
    ("50", "300", (3, 3, 3)),
    ("50", "600", (3, 3, 4)),
    ("120", "100", (0, 0, 1)),  # abnormal baseline: ULN still counts
    ("120", "150", (1, 1, 2)),  # >1.5x ULN before >1.5x baseline (180)
    ("120", "180", (2, 2, 2)),
    ("120", "300", (2, 2, 3)),  # >3x ULN before >3x baseline (360)
    ("120", "360", (3, 3, 3)),
    ("120", "600", (3, 3, 4)),
]


@pytest.mark.parametrize(
    ("code", "baseline", "value", "expected_grade"),
    around_baseline([("CREAT", *row) for row in CREATININE_WITH_BASELINE]),
)
@pytest.mark.parametrize("baseline_abnormal", [None, False, True])
def test_creatinine_takes_worse_of_uln_and_baseline(
    code, baseline, value, expected_grade, baseline_abnormal
):
    result = grade(
        code, value, baseline_value=Decimal(baseline), baseline_abnormal=baseline_abnormal
    )
    assert (result.term, result.grade) == (CREAT[0], expected_grade)


# One value per grade of every term, checking the whole result including its basis.
FULL_RESULTS = [
    ("PLAT", "200", {}, LabGrade(*PLT, 0, "normal")),
    ("PLAT", "500", {}, LabGrade(*PLT, 0, "≥LLN")),
    ("PLAT", "100", {}, LabGrade(*PLT, 1, "<LLN-75 ×10⁹/L")),
    ("PLAT", "60", {}, LabGrade(*PLT, 2, "<75-50 ×10⁹/L")),
    ("PLAT", "30", {}, LabGrade(*PLT, 3, "<50-25 ×10⁹/L")),
    ("PLAT", "5", {}, LabGrade(*PLT, 4, "<25 ×10⁹/L")),
    ("PLAT", "0", {}, LabGrade(*PLT, 4, "<25 ×10⁹/L")),
    ("HGB", "130", {}, LabGrade(*ANEMIA, 0, "normal")),
    ("HGB", "110", {}, LabGrade(*ANEMIA, 1, "<LLN-100 g/L")),
    ("HGB", "90", {}, LabGrade(*ANEMIA, 2, "<100-80 g/L")),
    ("HGB", "50", {}, LabGrade(*ANEMIA, 3, "<80 g/L (grade 4 if life-threatening)")),
    ("WBC", "3.5", {}, LabGrade(*WBC, 1, "<LLN-3.0 ×10⁹/L")),
    ("WBC", "2.5", {}, LabGrade(*WBC, 2, "<3.0-2.0 ×10⁹/L")),
    ("WBC", "1.5", {}, LabGrade(*WBC, 3, "<2.0-1.0 ×10⁹/L")),
    ("WBC", "0.5", {}, LabGrade(*WBC, 4, "<1.0 ×10⁹/L")),
    ("NEUT", "1.8", {}, LabGrade(*NEUT, 1, "<LLN-1.5 ×10⁹/L")),
    ("NEUT", "1.2", {}, LabGrade(*NEUT, 2, "<1.5-1.0 ×10⁹/L")),
    ("NEUT", "0.7", {}, LabGrade(*NEUT, 3, "<1.0-0.5 ×10⁹/L")),
    ("NEUT", "0.1", {}, LabGrade(*NEUT, 4, "<0.5 ×10⁹/L")),
    ("LYM", "2.0", {}, LabGrade(*LYM_DOWN, 0, "normal")),
    ("LYM", "0.9", {}, LabGrade(*LYM_DOWN, 1, "<LLN-0.8 ×10⁹/L")),
    ("LYM", "0.6", {}, LabGrade(*LYM_DOWN, 2, "<0.8-0.5 ×10⁹/L")),
    ("LYM", "0.3", {}, LabGrade(*LYM_DOWN, 3, "<0.5-0.2 ×10⁹/L")),
    ("LYM", "0.1", {}, LabGrade(*LYM_DOWN, 4, "<0.2 ×10⁹/L")),
    ("LYM", "3.0", {}, LabGrade(*LYM_UP, 0, "normal")),
    ("LYM", "3.8", {}, LabGrade(*LYM_UP, 0, "short of grade 2 (>4.0-20.0 ×10⁹/L)")),
    ("LYM", "8", {}, LabGrade(*LYM_UP, 2, ">4.0-20.0 ×10⁹/L")),
    ("LYM", "25", {}, LabGrade(*LYM_UP, 3, ">20.0 ×10⁹/L")),
    ("ALT", "30", {}, LabGrade(*ALT, 0, "normal")),
    ("ALT", "100", {}, LabGrade(*ALT, 1, ">ULN-3×ULN")),
    ("ALT", "150", {}, LabGrade(*ALT, 2, ">3-5×ULN")),
    ("ALT", "400", {}, LabGrade(*ALT, 3, ">5-20×ULN")),
    ("ALT", "900", {}, LabGrade(*ALT, 4, ">20×ULN")),
    ("AST", "100", {}, LabGrade(*AST, 1, ">ULN-3×ULN")),
    ("AST", "900", {}, LabGrade(*AST, 4, ">20×ULN")),
    ("BILI", "25", {}, LabGrade(*BILI, 1, ">ULN-1.5×ULN")),
    ("BILI", "50", {}, LabGrade(*BILI, 2, ">1.5-3×ULN")),
    ("BILI", "100", {}, LabGrade(*BILI, 3, ">3-10×ULN")),
    ("BILI", "250", {}, LabGrade(*BILI, 4, ">10×ULN")),
    ("ALP", "200", {}, LabGrade(*ALP, 1, ">ULN-2.5×ULN")),
    ("ALP", "500", {}, LabGrade(*ALP, 2, ">2.5-5×ULN")),
    ("ALP", "1000", {}, LabGrade(*ALP, 3, ">5-20×ULN")),
    ("ALP", "3000", {}, LabGrade(*ALP, 4, ">20×ULN")),
    ("GGT", "100", {}, LabGrade(*GGT, 1, ">ULN-2.5×ULN")),
    ("GGT", "1500", {}, LabGrade(*GGT, 4, ">20×ULN")),
    ("CREAT", "120", {}, LabGrade(*CREAT, 1, ">ULN-1.5×ULN")),
    ("CREAT", "200", {}, LabGrade(*CREAT, 2, ">1.5-3×ULN")),
    ("CREAT", "400", {}, LabGrade(*CREAT, 3, ">3-6×ULN")),
    ("CREAT", "700", {}, LabGrade(*CREAT, 4, ">6×ULN")),
    ("K", "4.0", {}, LabGrade(*HYPOK, 0, "normal")),
    ("K", "5.0", {}, LabGrade(*HYPERK, 0, "normal")),  # high-normal: the hyper- term
    ("K", "4.3", {}, LabGrade(*HYPERK, 0, "normal")),  # midpoint of 3.5-5.1
    ("K", "5.3", {}, LabGrade(*HYPERK, 1, ">ULN-5.5 mmol/L")),
    ("K", "5.8", {}, LabGrade(*HYPERK, 2, ">5.5-6.0 mmol/L")),
    ("K", "6.5", {}, LabGrade(*HYPERK, 3, ">6.0-7.0 mmol/L")),
    ("K", "7.5", {}, LabGrade(*HYPERK, 4, ">7.0 mmol/L")),
    ("K", "3.2", {}, LabGrade(*HYPOK, 1, "<LLN-3.0 mmol/L (grade 2 if symptomatic)")),
    ("K", "2.7", {}, LabGrade(*HYPOK, 3, "<3.0-2.5 mmol/L")),
    ("K", "2.0", {}, LabGrade(*HYPOK, 4, "<2.5 mmol/L")),
    ("MG", "0.6", {}, LabGrade(*HYPOMG, 1, "<LLN-0.5 mmol/L")),
    ("MG", "0.45", {}, LabGrade(*HYPOMG, 2, "<0.5-0.4 mmol/L")),
    ("MG", "0.35", {}, LabGrade(*HYPOMG, 3, "<0.4-0.3 mmol/L")),
    ("MG", "0.2", {}, LabGrade(*HYPOMG, 4, "<0.3 mmol/L")),
    ("MG", "0.95", {}, LabGrade(*HYPERMG, 0, "normal")),
    ("MG", "1.1", {}, LabGrade(*HYPERMG, 1, ">ULN-1.23 mmol/L")),
    ("MG", "2.0", {}, LabGrade(*HYPERMG, 3, ">1.23-3.30 mmol/L")),
    ("MG", "4.0", {}, LabGrade(*HYPERMG, 4, ">3.30 mmol/L")),
    ("TRIG", "1.2", {}, LabGrade(*TRIG, 0, "normal")),
    ("TRIG", "1.705", {}, LabGrade(*TRIG, 0, "short of grade 1 (1.71-3.42 mmol/L)")),
    ("TRIG", "2.5", {}, LabGrade(*TRIG, 1, "1.71-3.42 mmol/L")),
    ("TRIG", "4.0", {}, LabGrade(*TRIG, 2, ">3.42-5.7 mmol/L")),
    ("TRIG", "8.0", {}, LabGrade(*TRIG, 3, ">5.7-11.4 mmol/L")),
    ("TRIG", "12", {}, LabGrade(*TRIG, 4, ">11.4 mmol/L")),
    ("CHOL", "6.0", {}, LabGrade(*CHOL, 1, ">ULN-7.75 mmol/L")),
    ("CHOL", "9.0", {}, LabGrade(*CHOL, 2, ">7.75-10.34 mmol/L")),
    ("CHOL", "11.0", {}, LabGrade(*CHOL, 3, ">10.34-12.92 mmol/L")),
    ("CHOL", "13.0", {}, LabGrade(*CHOL, 4, ">12.92 mmol/L")),
    ("GLUC", "3.5", {}, LabGrade(*HYPOGLY, 1, "<LLN-3.0 mmol/L")),
    ("GLUC", "2.5", {}, LabGrade(*HYPOGLY, 2, "<3.0-2.2 mmol/L")),
    ("GLUC", "2.0", {}, LabGrade(*HYPOGLY, 3, "<2.2-1.7 mmol/L")),
    ("GLUC", "1.0", {}, LabGrade(*HYPOGLY, 4, "<1.7 mmol/L")),
    ("GLUC", "4.5", {}, LabGrade(*HYPOGLY, 0, "normal")),
    ("GLUC", "5.5", {}, LabGrade(*HYPERGLY, 0, "normal")),
    (
        "GLUC",
        "15",
        {},
        LabGrade(*HYPERGLY, None, ">ULN (graded by intervention, no glucose cut-offs)"),
    ),
    # Baseline rules in the basis.
    ("ALT", "100", {"baseline_value": Decimal(50)}, LabGrade(*ALT, 1, "1.5-3×baseline")),
    (
        "ALT",
        "70",
        {"baseline_value": Decimal(50)},
        LabGrade(*ALT, 0, "short of grade 1 (1.5-3×baseline)"),
    ),
    ("ALT", "30", {"baseline_value": Decimal(50)}, LabGrade(*ALT, 0, "normal")),
    ("BILI", "35", {"baseline_value": Decimal(30)}, LabGrade(*BILI, 1, ">1-1.5×baseline")),
    ("GGT", "130", {"baseline_value": Decimal(65)}, LabGrade(*GGT, 1, "2-2.5×baseline")),
    ("ALP", "5000", {"baseline_value": Decimal(200)}, LabGrade(*ALP, 4, ">20×baseline")),
    ("CREAT", "80", {"baseline_value": Decimal(50)}, LabGrade(*CREAT, 2, ">1.5-3×baseline")),
    (
        "CREAT",
        "160",
        {"baseline_value": Decimal(60)},
        LabGrade(*CREAT, 2, ">1.5-3×ULN; >1.5-3×baseline"),
    ),
    ("CREAT", "200", {"baseline_value": Decimal(60)}, LabGrade(*CREAT, 3, ">3×baseline")),
    (
        "CREAT",
        "350",
        {"baseline_value": Decimal(60)},
        LabGrade(*CREAT, 3, ">3-6×ULN; >3×baseline"),
    ),
    ("CREAT", "700", {"baseline_value": Decimal(60)}, LabGrade(*CREAT, 4, ">6×ULN")),
]


@pytest.mark.parametrize(
    ("code", "value", "kwargs", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}-{i}") for i, case in enumerate(FULL_RESULTS)],
)
def test_full_result(code, value, kwargs, expected):
    assert grade(code, value, **kwargs) == expected


NO_CRITERION = LabGrade(None, None, None, "no CTCAE v5.0 lab criterion")


@pytest.mark.parametrize(
    ("code", "value", "lln", "uln"),
    [
        ("RETIC", "50", Decimal(20), Decimal(100)),
        ("RETIC", "500", None, None),
        ("LDH", "900", Decimal(135), Decimal(225)),
        ("HAPT", "0", Decimal("0.3"), Decimal(2)),
        ("TACRO", "12.5", None, None),
    ],
)
def test_tests_without_ctcae_criterion(code, value, lln, uln):
    assert grade_lab_value(code, Decimal(value), lln=lln, uln=uln) == NO_CRITERION


# A limit is needed only where it decides the grade.
@pytest.mark.parametrize(
    ("code", "value", "lln", "uln", "expected_term", "expected_grade"),
    [
        ("PLAT", "60", None, None, PLT, 2),
        ("HGB", "70", None, None, ANEMIA, 3),
        ("NEUT", "0.3", None, None, NEUT, 4),
        ("TRIG", "2.0", None, None, TRIG, 1),
        ("K", "3.0", Decimal("3.5"), None, HYPOK, 1),
        ("K", "7.5", None, Decimal("5.1"), HYPERK, 4),
        ("LYM", "0.4", Decimal("1.0"), None, LYM_DOWN, 3),
    ],
)
def test_limits_needed_only_where_they_decide(code, value, lln, uln, expected_term, expected_grade):
    result = grade_lab_value(code, Decimal(value), lln=lln, uln=uln)
    assert (result.term, result.meddra_code, result.grade) == (*expected_term, expected_grade)


@pytest.mark.parametrize(
    ("code", "value", "kwargs", "field"),
    [
        ("XYZ", Decimal(1), {"lln": None, "uln": None}, "test_code"),
        ("plat", Decimal(100), {"lln": Decimal(150), "uln": Decimal(400)}, "test_code"),
        ("PLAT", Decimal(100), {"lln": None, "uln": Decimal(400)}, "lln"),
        ("PLAT", Decimal(75), {"lln": None, "uln": None}, "lln"),  # grade 1 or 0: LLN decides
        ("HGB", Decimal(110), {"lln": None, "uln": None}, "lln"),
        ("ALT", Decimal(50), {"lln": None, "uln": None}, "uln"),
        ("CREAT", Decimal(90), {"lln": None, "uln": None, "baseline_value": Decimal(50)}, "uln"),
        ("CHOL", Decimal(6), {"lln": None, "uln": None}, "uln"),
        ("K", Decimal(4), {"lln": Decimal("3.5"), "uln": None}, "uln"),
        ("K", Decimal(4), {"lln": None, "uln": Decimal("5.1")}, "lln"),
        ("GLUC", Decimal(5), {"lln": None, "uln": None}, "lln"),
        (
            "ALT",
            Decimal(50),
            {"lln": None, "uln": Decimal(40), "baseline_abnormal": True},
            "baseline_value",
        ),
        # Whether the baseline is abnormal is inferred from the ULN.
        ("ALT", Decimal(50), {"lln": None, "uln": None, "baseline_value": Decimal(80)}, "uln"),
        ("PLAT", 1.5, {"lln": Decimal(150), "uln": None}, "value"),
        ("PLAT", "100", {"lln": Decimal(150), "uln": None}, "value"),
        ("PLAT", Decimal("NaN"), {"lln": Decimal(150), "uln": None}, "value"),
        ("PLAT", Decimal(-1), {"lln": Decimal(150), "uln": None}, "value"),
        ("PLAT", Decimal(100), {"lln": 150.0, "uln": None}, "lln"),
        ("PLAT", Decimal(100), {"lln": Decimal(400), "uln": Decimal(150)}, "lln"),
        ("ALT", Decimal(50), {"lln": None, "uln": Decimal(0)}, "uln"),
        (
            "ALT",
            Decimal(50),
            {"lln": None, "uln": Decimal(40), "baseline_value": Decimal(0)},
            "baseline_value",
        ),
    ],
)
def test_bad_input_names_the_field(code, value, kwargs, field):
    with pytest.raises(DomainError) as raised:
        grade_lab_value(code, value, **kwargs)
    assert raised.value.field == field
    assert raised.value.message


def test_missing_limit_message_names_the_term():
    with pytest.raises(DomainError, match=r"Platelet count decreased: .* needs the LLN"):
        grade_lab_value("PLAT", Decimal(100), lln=None, uln=None)


def test_integer_values_are_accepted():
    assert grade_lab_value("PLAT", 60, lln=150, uln=400) == LabGrade(*PLT, 2, "<75-50 ×10⁹/L")


# For the "decreased" terms the grade never rises as the value rises. Two-sided tests are
# sampled below their LLN, where the value's direction is the decreased term.
DECREASED_TESTS = {
    "PLAT": "600",
    "HGB": "200",
    "WBC": "20",
    "NEUT": "15",
    "LYM": "1.0",
    "K": "3.5",
    "MG": "0.70",
    "GLUC": "3.9",
}


@pytest.mark.parametrize(("code", "highest_value"), DECREASED_TESTS.items())
@given(data=st.data())
def test_decreased_grade_is_monotone_non_increasing(code, highest_value, data):
    values = st.decimals(min_value=0, max_value=Decimal(highest_value), places=2)
    low, high = sorted((data.draw(values), data.draw(values)))
    assert grade(code, low).grade >= grade(code, high).grade
    assert grade(code, low).term == grade(code, high).term
