"""Bulk import of lab results (CSV file or JSON rows), idempotent on the lab's accession id.

Every row is validated and saved on its own, through the same service as a single result, so
each stored row has its own history row ("Bulk import <source>"). By default a file is
all-or-nothing: one bad row and nothing is stored, every bad row reported with its line. With
`partial` the good rows are kept and the bad ones reported.

A row whose accession (per patient and test) is already stored with the same content is
skipped, so a file can be sent again safely; with different content it is an error for that
row, never a silent overwrite (corrections go through an audited update with a reason).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ecrf.access import Action
from ecrf.after_write import deferred_after_writes
from ecrf.domain import units
from ecrf.domain.errors import DomainError
from ecrf.exceptions import InvalidInput, ServiceError
from patients.models import Patient
from patients.selectors import visible_patients
from trials.models import Study
from visits.labs import evaluation
from visits.labs.models import DEFAULT_LABORATORY, LabResult, RangeSource
from visits.labs.services import lab_result_create
from visits.models import Visit

REQUIRED_COLUMNS = ("patient", "test_code", "value", "unit", "collected_at", "accession")
OPTIONAL_COLUMNS = ("lln", "uln", "visit", "laboratory")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


class ImportRejected(InvalidInput):
    """An all-or-nothing import with bad rows: nothing was stored."""


@dataclass(frozen=True)
class SourceRow:
    line: int  # the CSV line (header = line 1), or the 1-based position in a JSON list
    values: dict[str, Any]


@dataclass
class RowOutcome:
    line: int
    index: int  # 0-based position, for error paths such as rows.3.value
    status: str = "error"  # created | skipped | error
    patient: str = ""
    test_code: str = ""
    accession: str = ""
    result_id: int | None = None
    errors: list[dict] = field(default_factory=list)

    def fail(self, name: str | None, message: str, code: str = "invalid") -> None:
        path = f"rows.{self.index}.{name}" if name else f"rows.{self.index}"
        self.errors.append(
            {
                "field": path,
                "message": f"line {self.line}: {message}",
                "code": code,
                "line": self.line,
            }
        )


@dataclass
class ImportReport:
    source: str
    partial: bool
    rows: list[RowOutcome]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def failed(self) -> int:
        return self.count("error")

    @property
    def errors(self) -> list[dict]:
        return [error for row in self.rows for error in row.errors]


# --- Reading the input ----------------------------------------------------------------------


def read_lab_csv(text: str) -> list[SourceRow]:
    """Rows of a CSV file with the documented header; a bad header rejects the whole file."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if not header:
        raise InvalidInput("The file is empty: expected a header line.", field="header")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in ALL_COLUMNS]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated column(s) {', '.join(duplicated)}")
    if problems:
        raise InvalidInput(
            f"line 1: {'; '.join(problems)} (expected: {', '.join(ALL_COLUMNS)}).", field="header"
        )
    reader.fieldnames = header
    rows = []
    for values in reader:
        if None in values:  # more cells than header columns
            rows.append(SourceRow(reader.line_num, {**values, "__extra__": values.pop(None)}))
        elif any((cell or "").strip() for cell in values.values()):
            rows.append(SourceRow(reader.line_num, values))
    return rows


def json_rows(rows: list[dict[str, Any]]) -> list[SourceRow]:
    return [SourceRow(position, values) for position, values in enumerate(rows, start=1)]


@dataclass(frozen=True)
class ParsedRow:
    subject_id: str
    test_code: str
    value: Decimal
    unit: str
    lln: Decimal | None
    uln: Decimal | None
    collected_at: dt.datetime
    accession: str
    visit_code: str
    laboratory: str


def _text(values: dict[str, Any], name: str) -> str:
    raw = values.get(name)
    return "" if raw is None else str(raw).strip()


def _decimal(outcome: RowOutcome, values: dict[str, Any], name: str) -> Decimal | None:
    text = _text(values, name)
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        outcome.fail(name, f"{text!r} is not a number.")
        return None
    return number


def _datetime(outcome: RowOutcome, values: dict[str, Any], name: str) -> dt.datetime | None:
    text = _text(values, name)
    try:
        # A bare date is refused, as in the single-result API: the time of a sample matters.
        parsed = parse_datetime(text) if len(text) > len("2025-03-04") else None
    except ValueError:
        parsed = None
    if parsed is None:
        outcome.fail(name, f"{text!r} is not a date and time (e.g. 2025-03-04T08:30:00+08:00).")
        return None
    # As in the single-result API: a time without an offset is in the server's zone (UTC).
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def parse_row(outcome: RowOutcome, values: dict[str, Any]) -> ParsedRow | None:
    """Types and required cells of one row; every problem is added to `outcome`."""
    if "__extra__" in values:
        outcome.fail(None, "has more cells than the header has columns.")
    for name in sorted(set(values) - set(ALL_COLUMNS) - {"__extra__"}):
        outcome.fail(name, f"unknown column (expected: {', '.join(ALL_COLUMNS)}).")
    for name in REQUIRED_COLUMNS:
        if not _text(values, name):
            outcome.fail(name, "is required.", code="required")
    outcome.patient = _text(values, "patient")
    outcome.accession = _text(values, "accession")
    test_code = _text(values, "test_code")
    if test_code:
        try:
            test_code = evaluation.canonical_test_code(test_code)
        except DomainError as error:
            outcome.fail("test_code", error.message)
    outcome.test_code = test_code
    value = _decimal(outcome, values, "value")
    lln = _decimal(outcome, values, "lln")
    uln = _decimal(outcome, values, "uln")
    collected_at = (
        _datetime(outcome, values, "collected_at") if _text(values, "collected_at") else None
    )
    if outcome.errors:
        return None
    return ParsedRow(
        subject_id=outcome.patient,
        test_code=test_code,
        value=value,
        unit=_text(values, "unit"),
        lln=lln,
        uln=uln,
        collected_at=collected_at,
        accession=outcome.accession,
        visit_code=_text(values, "visit"),
        laboratory=_text(values, "laboratory") or DEFAULT_LABORATORY,
    )


# --- Importing ----------------------------------------------------------------------------------


class _PatientDirectory:
    """Subject ids → patients the actor may see (one query per distinct subject id)."""

    def __init__(self, actor, study: Study | None) -> None:
        self.queryset = visible_patients(actor, Action.VIEW)
        if study is not None:
            self.queryset = self.queryset.filter(study=study)
        self.cache: dict[str, Patient | str] = {}

    def find(self, subject_id: str) -> Patient:
        if subject_id not in self.cache:
            found = list(self.queryset.filter(subject_id=subject_id)[:2])
            if len(found) == 1:
                self.cache[subject_id] = found[0]
            elif found:
                self.cache[subject_id] = "is in more than one study; name the study."
            else:
                self.cache[subject_id] = "unknown patient."
        found = self.cache[subject_id]
        if isinstance(found, str):
            raise InvalidInput(f"{subject_id}: {found}", field="patient")
        return found


def _visit(patient: Patient, code: str) -> Visit | None:
    if not code:
        return None
    visit = Visit.objects.filter(patient=patient, code=code, is_voided=False).first()
    if visit is None:
        raise InvalidInput(f"{patient.subject_id} has no visit {code}.", field="visit")
    return visit


def _same_content(stored: LabResult, row: ParsedRow, visit: Visit | None) -> bool:
    sent_range = row.lln is not None or row.uln is not None
    stored_range = stored.range_source == RangeSource.RESULT
    return (
        stored.collected_at == row.collected_at
        and stored.value == row.value
        and stored.unit == units.normalize_unit(row.test_code, row.unit)
        and sent_range == stored_range
        and (not sent_range or (stored.lln, stored.uln) == (row.lln, row.uln))
        and stored.visit_id == (visit.pk if visit else None)
        and stored.laboratory == row.laboratory
    )


def _import_one(actor, row: ParsedRow, directory: _PatientDirectory, reason: str, outcome):
    patient = directory.find(row.subject_id)
    visit = _visit(patient, row.visit_code)
    stored = LabResult.objects.filter(
        patient=patient, test_code=row.test_code, source_accession=row.accession
    ).first()
    if stored is not None:
        if stored.is_voided or not _same_content(stored, row, visit):
            raise InvalidInput(
                f"accession {row.accession} is already stored for {row.test_code} of "
                f"{patient.subject_id} with different content"
                + (" (voided)" if stored.is_voided else "")
                + "; correct the stored result with a reason instead.",
                field="accession",
            )
        outcome.status, outcome.result_id = "skipped", stored.pk
        return
    result = lab_result_create(
        actor=actor,
        patient=patient,
        collected_at=row.collected_at,
        test_code=row.test_code,
        value=row.value,
        unit=row.unit,
        lln=row.lln,
        uln=row.uln,
        laboratory=row.laboratory,
        visit=visit,
        source_accession=row.accession,
        reason=reason,
    )
    outcome.status, outcome.result_id = "created", result.pk


def _record_failure(outcome: RowOutcome, error: Exception) -> None:
    if isinstance(error, ServiceError):
        for item in error.errors:
            outcome.fail(_column(item.get("field")), item["message"], item.get("code", "invalid"))
    elif isinstance(error, DomainError):
        outcome.fail(_column(error.field), error.message)
    elif isinstance(error, DjangoValidationError):
        details = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for name, messages in details.items():
            for message in messages:
                outcome.fail(_column(name if name != "__all__" else None), message)
    else:  # pragma: no cover - programming errors propagate
        raise error


def _column(name: str | None) -> str | None:
    # The service speaks of the model's field; the file calls it `accession`.
    return {"source_accession": "accession"}.get(name or "", name)


def _parse_all(
    rows: list[SourceRow], outcomes: list[RowOutcome]
) -> list[tuple[RowOutcome, ParsedRow]]:
    """Parses every row in file order; an accession repeated within the file is an error on
    each repetition."""
    first_line_of_key: dict[tuple[str, str, str], int] = {}
    valid = []
    for source_row, outcome in zip(rows, outcomes, strict=True):
        parsed = parse_row(outcome, source_row.values)
        if parsed is None:
            continue
        key = (parsed.subject_id, parsed.test_code, parsed.accession)
        if key in first_line_of_key:
            outcome.fail(
                "accession",
                f"accession {parsed.accession} for {parsed.test_code} of {parsed.subject_id} "
                f"repeats line {first_line_of_key[key]}.",
            )
            continue
        first_line_of_key[key] = outcome.line
        valid.append((outcome, parsed))
    return valid


@transaction.atomic
def lab_results_import(
    *,
    actor,
    rows: list[SourceRow],
    source: str,
    study: Study | None = None,
    partial: bool = False,
) -> ImportReport:
    """Imports the rows; raises ImportRejected (nothing stored) if any row fails, unless
    `partial`. The report lists the rows in file order."""
    reason = f"Bulk import {source}"
    directory = _PatientDirectory(actor, study)
    outcomes = [RowOutcome(line=row.line, index=index) for index, row in enumerate(rows)]
    valid = _parse_all(rows, outcomes)
    # Oldest first: each patient's baseline is then stored before the values graded against
    # it, so no stored suggestion has to be re-derived during the import.
    # Each touched patient's endpoint assessment is recomputed once, after the last row.
    with deferred_after_writes(actor=actor, reason=reason):
        for outcome, parsed in sorted(valid, key=lambda pair: pair[1].collected_at):
            try:
                with transaction.atomic():  # a failed row rolls back to here, not the whole file
                    _import_one(actor, parsed, directory, reason, outcome)
            except (ServiceError, DomainError, DjangoValidationError) as error:
                outcome.status = "error"
                _record_failure(outcome, error)
    report = ImportReport(source=source, partial=partial, rows=outcomes)
    if report.failed and not partial:
        raise ImportRejected(
            f"{report.failed} of {len(outcomes)} rows have errors; nothing was imported.",
            errors=report.errors,
        )
    if not outcomes:
        raise InvalidInput("There are no rows to import.", field="rows")
    return report
