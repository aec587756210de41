"""Reading the official CTCAE workbook, and refusing malformed ones with row and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from ecrf.data import CTCAE_V5_WORKBOOK
from ecrf.domain.ctcae_import import parse_ctcae_workbook
from ecrf.domain.ctcae_terms import CtcaeTerm
from ecrf.domain.errors import DomainError

# The official sheet ships inside the product (ecrf/data/ctcae): missing input is a failure,
# never a skip.
SHEET = CTCAE_V5_WORKBOOK
assert SHEET.exists(), f"official CTCAE sheet not found: {SHEET}"

NBSP = "\xa0"
# As in the official file: trailing non-breaking spaces on the grade headers.
HEADER = (
    "MedDRA Code",
    "MedDRA SOC",
    "CTCAE Term",
    *(f"Grade {grade} {NBSP}{NBSP}" for grade in range(1, 6)),
    "Definition",
    "Navigational Note",
    "CTCAE v5.0 Change",
)
BRUISING = (
    10006504,
    "Injury, poisoning and procedural complications",
    "Bruising",
    "Localized or in a dependent area",
    "Generalized",
    " -",
    " -",
    " -",
    "A finding of injury of the soft tissues or bone characterized by leakage of blood.",
    None,
    None,
)
EPISTAXIS = (
    10015090,
    "Respiratory, thoracic and mediastinal disorders",
    "Epistaxis",
    "Mild symptoms; intervention not indicated",
    "Moderate symptoms; medical intervention indicated",
    "Transfusion indicated",
    "Life-threatening consequences",
    "Death",
    "A disorder characterized by bleeding from the nose.",
    None,
    None,
)


def write_workbook(path: Path, header: tuple, *rows: tuple) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def replaced(row: tuple, index: int, value: object) -> tuple:
    return (*row[:index], value, *row[index + 1 :])


@pytest.fixture(scope="module")
def official_terms() -> list[CtcaeTerm]:
    return parse_ctcae_workbook(SHEET)


def test_official_workbook_parses_completely(official_terms):
    codes = [term.meddra_code for term in official_terms]
    assert len(official_terms) == 837
    assert len({term.soc for term in official_terms}) == 26
    assert len(set(codes)) == 837
    assert all(len(code) == 8 and code.isdigit() for code in codes)


@pytest.mark.parametrize(
    ("code", "term", "soc", "existing_grades"),
    [
        ("10035528", "Platelet count decreased", "Investigations", (1, 2, 3, 4)),
        ("10001551", "Alanine aminotransferase increased", "Investigations", (1, 2, 3, 4)),
        ("10002272", "Anemia", "Blood and lymphatic system disorders", (1, 2, 3, 4, 5)),
        ("10006504", "Bruising", "Injury, poisoning and procedural complications", (1, 2)),
        ("10025258", "Lymphocyte count increased", "Investigations", (2, 3)),
        ("10020670", "Hypermagnesemia", "Metabolism and nutrition disorders", (1, 3, 4, 5)),
        ("10016288", "Febrile neutropenia", "Blood and lymphatic system disorders", (3, 4, 5)),
    ],
)
def test_official_spot_checks(official_terms, code, term, soc, existing_grades):
    found = next(parsed for parsed in official_terms if parsed.meddra_code == code)
    assert (found.term, found.soc, found.existing_grades) == (term, soc, existing_grades)


def test_official_texts_are_stripped_and_dashes_are_none(official_terms):
    by_code = {term.meddra_code: term for term in official_terms}
    platelets = by_code["10035528"]
    assert platelets.grades == (
        "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L",
        "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L",
        "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L",
        "<25,000/mm3; <25.0 x 10e9 /L",
        None,
    )
    other = by_code["10005329"]  # Blood and lymphatic system disorders - Other, specify
    assert other.definition == ""
    assert other.existing_grades == (1, 2, 3, 4, 5)


def test_columns_are_found_by_normalised_name(tmp_path):
    # Reordered columns, odd spacing and case, an extra column, codes as text and as float.
    order = (2, 0, 8, 7, 6, 5, 4, 3, 1)
    header = tuple(HEADER[index] for index in order)
    header = replaced(header, 0, f" ctcae{NBSP} TERM ")
    rows = [tuple(row[index] for index in order) for row in (BRUISING, EPISTAXIS)]
    rows[0] = replaced(rows[0], 1, " 10006504 ")
    rows[1] = replaced(rows[1], 1, 10015090.0)
    path = write_workbook(tmp_path / "reordered.xlsx", (*header, "Notes"), *rows)

    assert parse_ctcae_workbook(path) == [
        CtcaeTerm(
            meddra_code="10006504",
            soc="Injury, poisoning and procedural complications",
            term="Bruising",
            grades=("Localized or in a dependent area", "Generalized", None, None, None),
            definition=(
                "A finding of injury of the soft tissues or bone characterized by leakage of blood."
            ),
        ),
        CtcaeTerm(
            meddra_code="10015090",
            soc="Respiratory, thoracic and mediastinal disorders",
            term="Epistaxis",
            grades=(
                "Mild symptoms; intervention not indicated",
                "Moderate symptoms; medical intervention indicated",
                "Transfusion indicated",
                "Life-threatening consequences",
                "Death",
            ),
            definition="A disorder characterized by bleeding from the nose.",
        ),
    ]


def test_blank_rows_are_skipped(tmp_path):
    blank = (None,) * len(HEADER)
    path = write_workbook(tmp_path / "blank.xlsx", HEADER, BRUISING, blank, EPISTAXIS, blank)
    assert [term.term for term in parse_ctcae_workbook(path)] == ["Bruising", "Epistaxis"]


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("MedDRA Code", "header.meddra_code"),
        ("MedDRA SOC", "header.meddra_soc"),
        ("CTCAE Term", "header.ctcae_term"),
        (f"Grade 3 {NBSP}{NBSP}", "header.grade_3"),
        ("Definition", "header.definition"),
    ],
)
def test_missing_required_column(tmp_path, missing, field):
    header = tuple("Unrelated" if cell == missing else cell for cell in HEADER)
    path = write_workbook(tmp_path / "missing.xlsx", header, BRUISING)
    with pytest.raises(DomainError) as raised:
        parse_ctcae_workbook(path)
    assert raised.value.field == field
    assert f"row 1: required column '{missing.strip()}' is missing" in raised.value.message


@pytest.mark.parametrize(
    ("second_row", "field", "message"),
    [
        (replaced(EPISTAXIS, 2, None), "rows.3.ctcae_term", "row 3, column 'CTCAE Term': is empty"),
        (replaced(EPISTAXIS, 2, "  "), "rows.3.ctcae_term", "row 3, column 'CTCAE Term': is empty"),
        (replaced(EPISTAXIS, 1, ""), "rows.3.meddra_soc", "row 3, column 'MedDRA SOC': is empty"),
        (
            replaced(EPISTAXIS, 4, None),
            "rows.3.grade_2",
            "row 3, column 'Grade 2': is empty",
        ),
        (
            replaced(EPISTAXIS, 0, 1001509),
            "rows.3.meddra_code",
            "row 3, column 'MedDRA Code': 1001509 is not an 8-digit MedDRA code",
        ),
        (
            replaced(EPISTAXIS, 0, 100150900),
            "rows.3.meddra_code",
            "row 3, column 'MedDRA Code': 100150900 is not an 8-digit MedDRA code",
        ),
        (
            replaced(EPISTAXIS, 0, "1001509A"),
            "rows.3.meddra_code",
            "row 3, column 'MedDRA Code': '1001509A' is not an 8-digit MedDRA code",
        ),
        (
            replaced(EPISTAXIS, 0, 10015090.5),
            "rows.3.meddra_code",
            "row 3, column 'MedDRA Code': 10015090.5 is not an 8-digit MedDRA code",
        ),
        (
            replaced(EPISTAXIS, 0, None),
            "rows.3.meddra_code",
            "row 3, column 'MedDRA Code': None is not an 8-digit MedDRA code",
        ),
        (
            replaced(EPISTAXIS, 0, 10006504),
            "rows.3.meddra_code",
            "row 3, column 'MedDRA Code': code 10006504 already appears in row 2",
        ),
    ],
)
def test_malformed_row_names_row_and_column(tmp_path, second_row, field, message):
    path = write_workbook(tmp_path / "malformed.xlsx", HEADER, BRUISING, second_row)
    with pytest.raises(DomainError) as raised:
        parse_ctcae_workbook(path)
    assert (raised.value.field, raised.value.message) == (field, message)


def test_empty_sheet(tmp_path):
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    with pytest.raises(DomainError) as raised:
        parse_ctcae_workbook(path)
    assert raised.value.field == "header"


@pytest.mark.parametrize("content", [None, b"MedDRA Code,CTCAE Term\n", b"PK\x03\x04 not a zip"])
def test_unreadable_file(tmp_path, content):
    path = tmp_path / "terms.xlsx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DomainError) as raised:
        parse_ctcae_workbook(path)
    assert raised.value.field == "path"
