"""Edit checks run on every write: queries raised by the system, closed when corrected.

The protocol version's `edit_checks` (parsed and validated by `ecrf.domain.edit_checks`) are
evaluated over the written patient's data after each audited write of a record they read —
registered with `ecrf.after_write` in this app's `AppConfig.ready()`, so the API, the admin, the
bulk import and the commands all run them. A finding without an unresolved query raises one
(`raised_by` empty: the system; `edit_check` names the check); an unresolved system query whose
finding is gone is closed with the correcting write's reason. A query a person closed (the value
was confirmed) is not raised again for the same record and field.

Cost per write: one statement reads the patient, its protocol version's id and hash, the facts
the checks set off by the written kind have needed so far in the process (each a JSON array),
and the patient's system queries; only when a query must be closed or raised are the check's
queries locked and re-read (a lab POST that changes no query: 1 statement).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Hashable
from decimal import Decimal

from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection, models
from django.db.models import JSONField, OuterRef, Subquery
from django.db.models.functions import JSONArray

from ecrf.audit import save_audited
from ecrf.domain.edit_checks import (
    DatedFact,
    Finding,
    LabFact,
    PatientFacts,
    VisitFact,
    evaluate_edit_checks,
    reads_of,
)
from patients.models import Consent, Patient
from trials.models import ProtocolVersion
from visits.dosing.models import DoseRecord
from visits.labs.models import LabResult
from visits.models import Visit, VisitStatus
from visits.review.models import Query, QueryStatus
from visits.review.queries import close_query
from visits.safety.models import AdverseEvent

# The facts each written model can change (the kinds `ecrf.domain.edit_checks.reads_of` names).
CHECKED_MODELS: dict[type[models.Model], str] = {
    Patient: "patient",
    Consent: "consents",
    Visit: "visits",
    LabResult: "labs",
    DoseRecord: "doses",
    AdverseEvent: "adverse_events",
}


def subject_of(record: models.Model) -> Hashable | None:
    """(patient id, kind of fact written)."""
    patient_id = record.pk if isinstance(record, Patient) else getattr(record, "patient_id", None)
    if patient_id is None:
        return None
    return patient_id, CHECKED_MODELS[type(record)]


def run_edit_checks(subjects, *, actor, reason: str) -> None:
    written: dict[int, set[str]] = defaultdict(set)
    for patient_id, kind in subjects:
        written[patient_id].add(kind)
    for patient_id, kinds in sorted(written.items()):
        check_patient(patient_id, kinds, reason=reason)


# Per kind of fact: its model, the columns read (each current row as a JSON array) and how a
# row becomes the fact the domain evaluates.
class _DecimalJSON(json.JSONDecoder):
    """Numbers of the JSON arrays read back exactly (a lab value is a Decimal)."""

    def __init__(self, **options) -> None:
        super().__init__(parse_float=Decimal, **options)


def _lab_fact(row) -> LabFact:
    return LabFact(row[0], row[1], None if row[2] is None else Decimal(row[2]), *row[3:])


def _visit_fact(row) -> VisitFact:
    return VisitFact(
        row[0], row[1], row[2] == VisitStatus.COMPLETED, _date(row[3]), _date(row[4]), _date(row[5])
    )


def _dated_fact(row) -> DatedFact:
    return DatedFact(row[0], _date(row[1]))


def _date(value) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


FACT_SOURCES = {
    "labs": (LabResult, ("id", "test_code", "value_std", "unit_std", "visit_id"), _lab_fact),
    "visits": (
        Visit,
        ("id", "code", "status", "actual_date", "window_start", "window_end"),
        _visit_fact,
    ),
    "adverse_events": (AdverseEvent, ("id", "onset_date"), _dated_fact),
    "doses": (DoseRecord, ("id", "start_date"), _dated_fact),
}
_QUERY_COLUMNS = ("id", "edit_check", "resource", "record_id", "field", "status", "closed_by_id")

# Which kinds of facts the checks set off by a written kind have needed so far in this process
# (over every protocol version met): the next write's one statement reads those along.
_needed_by_written: dict[frozenset[str], set[str]] = defaultdict(set)
# A protocol version's edit checks, parsed once per version and content (`content_hash`).
_checks_by_version: dict[tuple[int, str], list[dict]] = {}


def _ordering(model: type[models.Model]) -> list[str]:
    """The model's own order within one patient."""
    return [f for f in model._meta.ordering if f.lstrip("-") != "patient"] + ["pk"]


def _rows_of(model: type[models.Model], columns: tuple[str, ...], **filters) -> Subquery:
    """The patient's current rows of `model` as one JSON array (the model's own order;
    PostgreSQL)."""
    ordering = _ordering(model)
    aggregated = (
        model._default_manager.filter(patient_id=OuterRef("pk"), **filters)
        .order_by()
        .values("patient_id")
        .annotate(rows=JSONBAgg(JSONArray(*columns), order_by=ordering))
        .values("rows")
    )
    return Subquery(aggregated, output_field=JSONField(decoder=_DecimalJSON))


def _read_patient(patient_id: int, written: frozenset[str]) -> dict:
    """One statement: the patient, its protocol version's id and hash, the facts the checks of
    `written` needed so far, and its system queries (unlocked: locked later only to change).

    Elsewhere than on PostgreSQL (SQLite, the laptop) there is no JSON aggregate: the patient
    row, then its system queries; `_facts` reads each needed kind of fact on its own."""
    on_postgresql = connection.vendor == "postgresql"
    annotations = {}
    if on_postgresql:
        annotations = {
            f"facts_{kind}": _rows_of(FACT_SOURCES[kind][0], FACT_SOURCES[kind][1], is_voided=False)
            for kind in sorted(_needed_by_written[written] & FACT_SOURCES.keys())
        }
        if "consents" in _needed_by_written[written]:
            annotations["facts_consents"] = Subquery(
                Consent.objects.filter(patient_id=OuterRef("pk"), is_voided=False)
                .order_by("consented_at")
                .values("consented_at")[:1]
            )
        annotations["system_queries"] = _rows_of(Query, _QUERY_COLUMNS, edit_check__gt="")
    row = (
        Patient.objects.filter(pk=patient_id)
        .values(
            "id",
            "study_id",
            "site_id",
            "day1",
            "protocol_version_id",
            "protocol_version__content_hash",
        )
        .annotate(**annotations)
        .get()
    )
    if not on_postgresql:
        queries = Query.objects.filter(patient_id=patient_id, edit_check__gt="")
        row["system_queries"] = [
            _jsonable(query)
            for query in queries.order_by(*_ordering(Query)).values_list(*_QUERY_COLUMNS)
        ]
    return row


def _checks_of(row: dict) -> list[dict]:
    key = (row["protocol_version_id"], row["protocol_version__content_hash"])
    if key not in _checks_by_version:
        content = ProtocolVersion.objects.values_list("content", flat=True).get(pk=key[0])
        _checks_by_version[key] = list(content.get("edit_checks", []))
    return _checks_by_version[key]


def _facts(row: dict, needed: set[str]) -> PatientFacts:
    """The facts the checks need: from the one statement's row, or (a kind no earlier write of
    this process needed) read now."""
    patient_id = row["id"]
    facts = PatientFacts(patient_id=patient_id, day1=row["day1"])
    if "consents" in needed:
        if "facts_consents" in row:
            facts.consent = row["facts_consents"]
        else:
            facts.consent = (
                Consent.objects.filter(patient_id=patient_id, is_voided=False)
                .order_by("consented_at")
                .values_list("consented_at", flat=True)
                .first()
            )
    for kind, (model, columns, to_fact) in FACT_SOURCES.items():
        if kind not in needed:
            continue
        if f"facts_{kind}" in row:
            rows = row[f"facts_{kind}"] or ()
        else:
            current = model._default_manager.filter(patient_id=patient_id, is_voided=False)
            rows = [_jsonable(r) for r in current.values_list(*columns)]
        setattr(facts, kind, [to_fact(r) for r in rows])
    return facts


def _jsonable(row: tuple) -> tuple:
    """A row read as Python values, shaped like its JSON form (dates as ISO text)."""
    return tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row)


def _key(item) -> tuple[str, str, int, str]:
    if isinstance(item, Finding):
        return item.check, item.resource, item.record_id, item.field
    if isinstance(item, dict):
        return item["edit_check"], item["resource"], item["record_id"], item["field"]
    return item.edit_check, item.resource, item.record_id, item.field


def _changes_needed(findings: list[Finding], queries: list[dict]) -> bool:
    """Whether a query must be closed (its finding is gone) or raised (a finding not covered),
    judged on the queries as read; the decision is taken again on the locked rows."""
    found = {_key(finding) for finding in findings}
    if any(q["status"] != QueryStatus.CLOSED and _key(q) not in found for q in queries):
        return True
    covered = {_key(q) for q in queries if q["status"] != QueryStatus.CLOSED or q["closed_by_id"]}
    return any(_key(finding) not in covered for finding in findings)


def check_patient(patient_id: int, written: set[str], *, reason: str) -> list[Finding]:
    """Re-evaluates the checks that read what was written; raises and closes their queries."""
    written = frozenset(written)
    row = _read_patient(patient_id, written)
    checks = [check for check in _checks_of(row) if reads_of(check) & written]
    if not checks:
        return []
    needed = set().union(*(reads_of(check) for check in checks))
    _needed_by_written[written] |= needed
    findings = evaluate_edit_checks(checks, _facts(row, needed))
    codes = {check["code"] for check in checks}
    seen = [
        dict(zip(_QUERY_COLUMNS, query, strict=True))
        for query in row["system_queries"] or ()
        if query[1] in codes
    ]
    if not _changes_needed(findings, seen):
        return []
    # Something to close or raise: lock the check's queries and decide again on what they hold.
    existing = list(
        Query.objects.select_for_update()
        .filter(patient_id=patient_id, edit_check__in=sorted(codes))
        .order_by("id")
    )
    found = {_key(finding) for finding in findings}
    for query in existing:
        if query.status != QueryStatus.CLOSED and _key(query) not in found:
            close_query(query, actor=None, reason=f"Corrected: {reason}")
    # A person's closing stands (the value was confirmed); a system closing does not.
    covered = {
        _key(query)
        for query in existing
        if query.status != QueryStatus.CLOSED or query.closed_by_id is not None
    }
    raised = []
    for finding in findings:
        if _key(finding) in covered:
            continue
        covered.add(_key(finding))
        query = Query(
            study_id=row["study_id"],
            site_id=row["site_id"],
            patient_id=patient_id,
            resource=finding.resource,
            record_id=finding.record_id,
            field=finding.field,
            text=finding.text,
            raised_by=None,
            edit_check=finding.check,
        )
        save_audited(query, actor=None, reason=f"Raised by edit check {finding.check}")
        raised.append(finding)
    return raised
