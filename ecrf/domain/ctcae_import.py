"""Reading the full CTCAE term dictionary from the official NCI workbook.

The workbook (e.g. CTCAE_v5.0_2017-11-27.xlsx) has one sheet whose first row is the header:
MedDRA Code, MedDRA SOC, CTCAE Term, Grade 1..5, Definition, then columns this module does not
need (Navigational Note, CTCAE v5.0 Change). The header cells carry trailing non-breaking
spaces, so columns are found by normalised name, not by position. A "-" grade cell means the
grade does not exist for the term; a "-" definition means there is none.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from os import PathLike
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ecrf.domain.ctcae_terms import GRADE_COUNT, CtcaeTerm
from ecrf.domain.errors import DomainError

HEADER_ROW = 1
MEDDRA_CODE = "MedDRA Code"
SOC = "MedDRA SOC"
TERM = "CTCAE Term"
GRADES = tuple(f"Grade {grade}" for grade in range(1, GRADE_COUNT + 1))
DEFINITION = "Definition"
REQUIRED_COLUMNS = (MEDDRA_CODE, SOC, TERM, *GRADES, DEFINITION)

NOT_DEFINED = "-"
_MEDDRA_CODE = re.compile(r"\d{8}")
_WHITESPACE = re.compile(r"\s+")  # \s includes the non-breaking space in str patterns


def parse_ctcae_workbook(path: str | PathLike[str]) -> list[CtcaeTerm]:
    """All terms of the workbook, in sheet order.

    Raises DomainError naming the row number and column of the first malformed cell (missing
    required column, empty term or SOC, empty grade cell, code that is not 8 digits,
    duplicate code).
    """
    rows = _read_rows(path)
    if not rows or all(_text(cell) == "" for cell in rows[0]):
        raise DomainError("header", f"row {HEADER_ROW}: the sheet is empty")
    columns = _column_positions(rows[0])
    terms: list[CtcaeTerm] = []
    first_row_of_code: dict[str, int] = {}
    for row_number, cells in enumerate(rows[1:], start=HEADER_ROW + 1):
        if all(_text(cell) == "" for cell in cells):
            continue  # blank lines (spreadsheets often keep trailing ones)
        row = _Row(row_number, cells, columns)
        term = _term_from_row(row)
        _check_unique_code(term.meddra_code, row, first_row_of_code)
        terms.append(term)
    return terms


def _read_rows(path: str | PathLike[str]) -> list[tuple[Any, ...]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError) as error:
        # KeyError: a zip file that is not a workbook (openpyxl looks for its parts by name).
        raise DomainError("path", f"cannot read {path} as an xlsx workbook: {error}") from error
    try:
        return list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()  # read-only mode keeps the file open until closed


def _normalised(name: object) -> str:
    return _WHITESPACE.sub(" ", _text(name)).casefold()


def _column_positions(header: tuple[Any, ...]) -> dict[str, int]:
    positions = {_normalised(cell): index for index, cell in enumerate(header) if cell is not None}
    found: dict[str, int] = {}
    for column in REQUIRED_COLUMNS:
        index = positions.get(_normalised(column))
        if index is None:
            raise DomainError(
                f"header.{_field_key(column)}",
                f"row {HEADER_ROW}: required column '{column}' is missing",
            )
        found[column] = index
    return found


def _field_key(column: str) -> str:
    return column.lower().replace(" ", "_")  # "MedDRA Code" -> "meddra_code"


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


@dataclass(frozen=True)
class _Row:
    number: int
    cells: tuple[Any, ...]
    columns: dict[str, int]

    def cell(self, column: str) -> object:
        index = self.columns[column]
        return self.cells[index] if index < len(self.cells) else None

    def error(self, column: str, problem: str) -> DomainError:
        field = f"rows.{self.number}.{_field_key(column)}"
        return DomainError(field, f"row {self.number}, column '{column}': {problem}")

    def required_text(self, column: str) -> str:
        text = _text(self.cell(column))
        if not text:
            raise self.error(column, "is empty")
        return text


def _term_from_row(row: _Row) -> CtcaeTerm:
    return CtcaeTerm(
        meddra_code=_meddra_code(row),
        soc=row.required_text(SOC),
        term=row.required_text(TERM),
        grades=tuple(_grade_text(row, column) for column in GRADES),
        definition=_definition(row),
    )


def _meddra_code(row: _Row) -> str:
    cell = row.cell(MEDDRA_CODE)
    # Excel stores the code as a number; a float is accepted only when it is a whole number.
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    code = "" if isinstance(cell, bool) else _text(cell)
    if not _MEDDRA_CODE.fullmatch(code):
        raise row.error(MEDDRA_CODE, f"{cell!r} is not an 8-digit MedDRA code")
    return code


def _grade_text(row: _Row, column: str) -> str | None:
    # An empty cell is refused rather than read as "-": the official sheet always writes "-",
    # so a blank is more likely a damaged file than a grade that does not exist.
    text = row.required_text(column)
    return None if text == NOT_DEFINED else text


def _definition(row: _Row) -> str:
    text = _text(row.cell(DEFINITION))
    return "" if text == NOT_DEFINED else text


def _check_unique_code(code: str, row: _Row, first_row_of_code: dict[str, int]) -> None:
    if code in first_row_of_code:
        raise row.error(
            MEDDRA_CODE, f"code {code} already appears in row {first_row_of_code[code]}"
        )
    first_row_of_code[code] = row.number
