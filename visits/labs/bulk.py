"""Bulk import of lab results (CSV file or JSON rows), idempotent on the lab's accession id.

Every row is validated with the checks of a single entry (`services.prepare_lab_result`) and
stored with its own history row ("Bulk import <source>"), written in bulk. By default a file is
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

from ecrf.access import Action, can
from ecrf.after_write import deferred_after_writes, records_written
from ecrf.audit import save_audited
from ecrf.domain import units
from ecrf.domain.dates import age_in_years
from ecrf.domain.errors import DomainError
from ecrf.exceptions import InvalidInput, PermissionRefused, ServiceError
from ecrf.validation import validate_for_save
from patients.models import Patient
from patients.selectors import visible_patients
from trials.models import Study
from visits.labs import evaluation
from visits.labs.bulk_write import store_results
from visits.labs.models import DEFAULT_LABORATORY, LabResult, RangeSource, ReferenceRange
from visits.labs.selectors import baseline_among
from visits.labs.services import (
    REGRADE_REASON,
    ReportedValue,
    apply_suggestion,
    prepare_lab_result,
    suggestion_fields,
)
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
    if timezone.is_naive(parsed):
        # As in the single-result API (issue 11): a site's 08:00 is not 08:00Z, so a time
        # without its offset is refused rather than guessed.
        outcome.fail(
            name,
            f"{text!r} has no UTC offset; give it (e.g. 2025-03-04T08:30:00+08:00 or "
            "...T00:30:00Z).",
            code="naive",
        )
        return None
    return parsed


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
#
# The import reads what it needs in a fixed number of queries (patients, visits, stored
# accessions, range tables, the series it extends), validates every row in Python with the
# checks of a single entry, and writes the new results and their history rows in bulk. Results
# are graded oldest first, as a series grows; a new baseline re-derives the stored results
# graded against the old one (audited updates, as for a single entry). Each touched patient's
# assessment is then refreshed once.

CHUNK = 5000  # ids per IN (...) list


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _PatientDirectory:
    """Subject ids → patients the actor may see, read in one query per chunk of ids; the
    patients with rows to store are then locked, in id order (no deadlock between imports)."""

    def __init__(self, actor, study: Study | None, subject_ids: set[str]) -> None:
        queryset = visible_patients(actor, Action.VIEW)
        if study is not None:
            queryset = queryset.filter(study=study)
        found: dict[str, list[Patient]] = {}
        for chunk in _chunks(sorted(subject_ids)):
            for patient in queryset.filter(subject_id__in=chunk):
                found.setdefault(patient.subject_id, []).append(patient)
        self.actor = actor
        self.cache: dict[str, Patient | str] = {}
        for subject_id in subject_ids:
            matches = found.get(subject_id, [])
            if len(matches) == 1:
                self.cache[subject_id] = matches[0]
            elif matches:
                self.cache[subject_id] = "is in more than one study; name the study."
            else:
                self.cache[subject_id] = "unknown patient."
        self.allowed: dict[tuple[int, int], bool] = {}

    def find(self, subject_id: str) -> Patient:
        found = self.cache[subject_id]
        if isinstance(found, str):
            raise InvalidInput(f"{subject_id}: {found}", field="patient")
        key = (found.study_id, found.site_id)
        if key not in self.allowed:
            self.allowed[key] = can(
                self.actor, Action.ENTER_DATA, study_id=found.study_id, site_id=found.site_id
            )
        if not self.allowed[key]:
            raise PermissionRefused(
                f"Your role does not allow '{Action.ENTER_DATA.value}' for this patient."
            )
        return found

    def lock(self, patients: list[Patient]) -> dict[int, Patient]:
        """The patients' rows locked (their own rows only), with what grading reads."""
        locked = {}
        for chunk in _chunks(sorted({p.pk for p in patients})):
            for patient in (
                Patient.objects.select_for_update(of=("self",))
                .select_related("protocol_version", "study", "site")
                .filter(pk__in=chunk)
                .order_by("pk")
            ):
                locked[patient.pk] = patient
        for subject_id, found in self.cache.items():
            if isinstance(found, Patient) and found.pk in locked:
                self.cache[subject_id] = locked[found.pk]
        return locked


class _RangeTable:
    """The range tables of the sites and tests in the file, chosen per result as
    `selectors.reference_range_for` chooses (one query)."""

    def __init__(self, site_ids: set[int], test_codes: set[str]) -> None:
        self.rows: dict[tuple[int, str, str], list[ReferenceRange]] = {}
        ranges = ReferenceRange.objects.filter(site_id__in=site_ids, test_code__in=test_codes)
        for range_row in ranges:
            key = (range_row.site_id, range_row.laboratory, range_row.test_code)
            self.rows.setdefault(key, []).append(range_row)

    def find(self, *, patient: Patient, test_code: str, laboratory: str, collected_on: dt.date):
        age = age_in_years(patient.birth_date, collected_on)
        candidates = [
            r
            for r in self.rows.get((patient.site_id, laboratory, test_code), [])
            if r.sex in (patient.sex, "")
            and (r.effective_to is None or r.effective_to >= collected_on)
            and r.age_min_years <= age <= r.age_max_years
            and r.effective_from <= collected_on
        ]
        ranked = sorted(
            candidates, key=lambda r: (r.sex != patient.sex, -r.effective_from.toordinal())
        )
        return ranked[0] if ranked else None


def _visits(patients: list[Patient], codes: set[str]) -> dict[tuple[int, str], Visit]:
    visits: dict[tuple[int, str], Visit] = {}
    if not codes:
        return visits
    for chunk in _chunks(sorted({p.pk for p in patients})):
        for visit in Visit.objects.filter(patient_id__in=chunk, code__in=codes, is_voided=False):
            visits.setdefault((visit.patient_id, visit.code), visit)
    return visits


def _stored_accessions(valid: list[tuple[RowOutcome, ParsedRow]], directory: _PatientDirectory):
    keys = {
        (found.pk, row.test_code, row.accession)
        for _, row in valid
        if isinstance(found := directory.cache[row.subject_id], Patient)
    }
    stored: dict[tuple[int, str, str], LabResult] = {}
    for chunk in _chunks(sorted(keys)):
        query = LabResult.objects.filter(
            patient_id__in={k[0] for k in chunk}, source_accession__in={k[2] for k in chunk}
        )
        for result in query:
            stored[(result.patient_id, result.test_code, result.source_accession)] = result
    return stored


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


def _prepare(row: ParsedRow, directory, visits, stored, ranges) -> LabResult | None:
    """The unsaved result of a row, validated (None: already stored with the same content)."""
    patient = directory.find(row.subject_id)
    visit = None
    if row.visit_code:
        visit = visits.get((patient.pk, row.visit_code))
        if visit is None:
            raise InvalidInput(
                f"{patient.subject_id} has no visit {row.visit_code}.", field="visit"
            )
    known = stored.get((patient.pk, row.test_code, row.accession))
    if known is not None:
        if known.is_voided or not _same_content(known, row, visit):
            raise InvalidInput(
                f"accession {row.accession} is already stored for {row.test_code} of "
                f"{patient.subject_id} with different content"
                + (" (voided)" if known.is_voided else "")
                + "; correct the stored result with a reason instead.",
                field="accession",
            )
        return known
    return prepare_lab_result(
        patient=patient,
        collected_at=row.collected_at,
        reported=ReportedValue(
            row.test_code, row.value, row.unit, row.lln, row.uln, row.laboratory
        ),
        visit=visit,
        source_accession=row.accession,
        find_range=ranges.find,
    )


def _stored_series(new: list[LabResult]) -> dict[tuple[int, str], list[LabResult]]:
    """The stored, valid results of every (patient, test) the import extends (one query per
    chunk of patients)."""
    series: dict[tuple[int, str], list[LabResult]] = {}
    codes = {r.test_code for r in new}
    patients = {r.patient_id: r.patient for r in new}
    for chunk in _chunks(sorted(patients)):
        stored = LabResult.objects.filter(
            patient_id__in=chunk, test_code__in=codes, is_voided=False
        ).order_by("collected_at", "pk")
        for result in stored:
            result.patient = patients[result.patient_id]  # locked and loaded: no query per row
            series.setdefault((result.patient_id, result.test_code), []).append(result)
    return series


def _grade(new: list[LabResult], series: dict) -> list[LabResult]:
    """Grades the new results (oldest first) against their series' final baseline (which may
    be a new result: it gets its id on insert); returns the stored results whose suggestion
    changed."""
    for result in new:
        series.setdefault((result.patient_id, result.test_code), []).append(result)
    regraded = []
    for (_, _), members in series.items():
        # Stored first in (time, id) order, the new ones after in file-time order, as their
        # ids will be: the order `baseline_among` ranks a series in.
        members.sort(key=lambda r: (r.collected_at, r.pk is None, r.pk or 0))
        patient = members[0].patient
        baseline = baseline_among(members, patient.day1)
        for result in members:
            graded_against = (
                baseline
                if baseline is not None
                and baseline is not result
                and baseline.collected_at < result.collected_at
                else None
            )
            before = None if result.pk is None else suggestion_fields(result)
            apply_suggestion(result, graded_against)
            if result.pk is not None and suggestion_fields(result) != before:
                regraded.append(result)
    return regraded


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
    outcomes = [RowOutcome(line=row.line, index=index) for index, row in enumerate(rows)]
    valid = _parse_all(rows, outcomes)
    directory = _PatientDirectory(actor, study, {row.subject_id for _, row in valid})
    candidates = [p for p in directory.cache.values() if isinstance(p, Patient)]
    directory.lock(candidates)
    patients = [p for p in directory.cache.values() if isinstance(p, Patient)]
    visits = _visits(patients, {row.visit_code for _, row in valid if row.visit_code})
    stored = _stored_accessions(valid, directory)
    ranges = _RangeTable({p.site_id for p in patients}, {row.test_code for _, row in valid})
    # Oldest first, as a series grows (file order among equal times).
    new: list[tuple[RowOutcome, LabResult]] = []
    for outcome, parsed in sorted(valid, key=lambda pair: pair[1].collected_at):
        try:
            result = _prepare(parsed, directory, visits, stored, ranges)
            if result.pk is not None:
                outcome.status, outcome.result_id = "skipped", result.pk
                continue
            validate_for_save(result, unique_checked=True)  # accessions checked above
        except (ServiceError, DomainError, DjangoValidationError) as error:
            outcome.status = "error"
            _record_failure(outcome, error)
            continue
        outcome.status = "created"  # its id once stored, below
        new.append((outcome, result))
    report = ImportReport(source=source, partial=partial, rows=outcomes)
    if report.failed and not partial:
        raise ImportRejected(
            f"{report.failed} of {len(outcomes)} rows have errors; nothing was imported.",
            errors=report.errors,
        )
    if not outcomes:
        raise InvalidInput("There are no rows to import.", field="rows")
    results = [result for _, result in new]
    if results:
        regraded = _grade(results, _stored_series(results))
        store_results(results, actor=actor, reason=reason)
        # The bulk-written rows, and any stored result graded again against a new baseline,
        # set off what depends on them (the endpoint assessment) once per touched patient.
        with deferred_after_writes(actor=actor, reason=reason):
            records_written(results, actor=actor, reason=reason)
            for result in regraded:  # a new baseline: stored results graded again, audited
                result.version += 1
                save_audited(result, actor=actor, reason=REGRADE_REASON)
        for outcome, result in new:
            outcome.result_id = result.pk
    return report
