"""The built-in CTCAE term dictionary against the official NCI sheet."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from ecrf.data import CTCAE_V5_WORKBOOK
from ecrf.domain.ctcae_grading import LAB_TERMS, LAB_TESTS, grade_lab_value
from ecrf.domain.ctcae_terms import BUILTIN_TERMS, CtcaeTerm, builtin_term
from ecrf.domain.errors import DomainError

# The official sheet ships inside the product (ecrf/data/ctcae): missing input is a failure,
# never a skip.
SHEET = CTCAE_V5_WORKBOOK
assert SHEET.exists(), f"official CTCAE sheet not found: {SHEET}"


def _cell(value: object) -> str | None:
    text = str(value).strip()
    return None if text == "-" else text


@pytest.fixture(scope="module")
def sheet_rows() -> dict[str, tuple]:
    """Official rows by MedDRA code, read directly (independently of ecrf.domain.ctcae_import)."""
    workbook = load_workbook(SHEET, read_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    finally:
        workbook.close()
    return {
        str(row[0]): (
            row[1].strip(),
            row[2].strip(),
            tuple(_cell(grade) for grade in row[3:8]),
            _cell(row[8]) or "",
        )
        for row in rows
    }


@pytest.mark.parametrize("term", BUILTIN_TERMS, ids=lambda term: term.term)
def test_builtin_term_matches_official_sheet(term, sheet_rows):
    assert (term.soc, term.term, term.grades, term.definition) == sheet_rows[term.meddra_code]


@pytest.mark.parametrize("criteria", LAB_TERMS, ids=lambda criteria: criteria.term)
def test_every_gradable_term_is_builtin(criteria):
    assert builtin_term(criteria.meddra_code).term == criteria.term


def test_lab_tests_use_only_the_tabled_terms():
    used = {term for test in LAB_TESTS.values() for term in (test.low, test.high) if term}
    assert used == set(LAB_TERMS)


def test_builtin_terms_are_unique_and_curated():
    codes = [term.meddra_code for term in BUILTIN_TERMS]
    names = [term.term for term in BUILTIN_TERMS]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    assert 60 <= len(BUILTIN_TERMS) <= 90


@pytest.mark.parametrize(
    "name",
    [
        # ITP bleeding
        "Epistaxis",
        "Oral hemorrhage",
        "Purpura",
        "Bruising",
        "Hematuria",
        "Intracranial hemorrhage",
        "Upper gastrointestinal hemorrhage",
        "Lower gastrointestinal hemorrhage",
        "Vitreous hemorrhage",
        "Vaginal hemorrhage",
        "Hematoma",
        "Menorrhagia",
        # tacrolimus
        "Hypertension",
        "Tremor",
        "Headache",
        "Diarrhea",
        "Nausea",
        "Insomnia",
        "Paresthesia",
        "Upper respiratory infection",
        "Lung infection",
        "Chronic kidney disease",
        # danazol
        "Weight gain",
        "Rash acneiform",
        "Hirsutism",
        "Irregular menstruation",
        "Voice alteration",
        "Edema limbs",
        # ATRA
        "Dry skin",
        "Cheilitis",
        "Bone pain",
        "Pruritus",
        "Dry mouth",
        "Retinoic acid syndrome",
        # rituximab
        "Infusion related reaction",
        "Fever",
        "Chills",
        "Hepatitis B reactivation",
        # corticosteroids
        "Cushingoid",
        "Osteoporosis",
        "Hyperglycemia",
        "Agitation",
        "Gastric ulcer",
        "Cataract",
        "Osteonecrosis",
    ],
)
def test_expected_terms_are_builtin(name):
    assert builtin_term(name).term == name


@pytest.mark.parametrize(
    ("key", "expected_code"),
    [
        ("10035528", "10035528"),
        (" 10035528 ", "10035528"),
        ("Platelet count decreased", "10035528"),
        ("platelet COUNT decreased", "10035528"),
        ("Epistaxis", "10015090"),
    ],
)
def test_builtin_term_by_code_or_name(key, expected_code):
    assert builtin_term(key).meddra_code == expected_code


@pytest.mark.parametrize("key", ["", "Nosebleed", "10000000", "Retinal hemorrhage"])
def test_unknown_builtin_term(key):
    with pytest.raises(DomainError) as raised:
        builtin_term(key)
    assert raised.value.field == "term"


@pytest.mark.parametrize(
    ("name", "existing_grades"),
    [
        ("Anemia", (1, 2, 3, 4, 5)),
        ("Platelet count decreased", (1, 2, 3, 4)),
        ("Lymphocyte count increased", (2, 3)),
        ("Hypermagnesemia", (1, 3, 4, 5)),
        ("Hypokalemia", (1, 2, 3, 4, 5)),
        ("Bruising", (1, 2)),
        ("Purpura", (1, 2, 3)),
        ("Febrile neutropenia", (3, 4, 5)),
        ("Virilization", (1, 2)),
    ],
)
def test_existing_grades(name, existing_grades):
    assert builtin_term(name).existing_grades == existing_grades


def test_grade_text():
    bruising = builtin_term("Bruising")
    assert bruising.grade_text(2) == "Generalized"
    assert bruising.grade_text(3) is None
    with pytest.raises(DomainError):
        bruising.grade_text(6)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"meddra_code": "1003552"}, "meddra_code"),
        ({"meddra_code": "1003552x"}, "meddra_code"),
        ({"grades": ("a", "b", "c", "d")}, "grades"),
    ],
)
def test_term_rejects_malformed_data(kwargs, field):
    fields = {
        "meddra_code": "10035528",
        "soc": "Investigations",
        "term": "Platelet count decreased",
        "grades": ("a", "b", "c", "d", None),
        "definition": "",
    }
    with pytest.raises(DomainError) as raised:
        CtcaeTerm(**(fields | kwargs))
    assert raised.value.field == field


_GRADED_TESTS = sorted(code for code, test in LAB_TESTS.items() if test.low or test.high)


@given(
    code=st.sampled_from(_GRADED_TESTS),
    value=st.decimals(min_value=0, max_value=5000, places=2),
    baseline=st.none() | st.decimals(min_value=1, max_value=500, places=1),
)
def test_suggested_grade_exists_for_the_term(code, value, baseline):
    # Any reference range will do: the suggested grade must be one the sheet defines.
    result = grade_lab_value(
        code, value, lln=Decimal("1"), uln=Decimal("2"), baseline_value=baseline
    )
    if result.grade:
        assert result.grade in builtin_term(result.meddra_code).existing_grades
