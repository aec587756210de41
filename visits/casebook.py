"""A patient's casebook: everything recorded about one patient, read in a fixed number of queries.

The admin's casebook page (`PatientAdmin.casebook_view`) renders this; the endpoint assessment
and the platelet chart are read separately (they have their own selectors).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models

from ecrf.display import plain_number
from patients.checklist import criterion_in_words, eligibility_checklist
from patients.models import Consent, EligibilityAssessment, Patient
from visits.dosing.models import DoseAdjustment, DoseRecord
from visits.findings.models import BleedingAssessment, RescueTherapy
from visits.labs.models import LabResult
from visits.models import Visit
from visits.safety.models import AdverseEvent
from visits.selectors import visit_display_status

__all__ = ["criterion_in_words", "eligibility_checklist", "patient_casebook", "plain_number"]

# Record kinds of the combined audit trail: label, model, filter to the patient's rows.
AUDITED_KINDS: tuple[tuple[str, type[models.Model], str], ...] = (
    ("patient", Patient, "id"),
    ("consent", Consent, "patient_id"),
    ("visit", Visit, "patient_id"),
    ("lab result", LabResult, "patient_id"),
    ("adverse event", AdverseEvent, "patient_id"),
    ("dose record", DoseRecord, "patient_id"),
    ("dose adjustment", DoseAdjustment, "patient_id"),
    ("bleeding assessment", BleedingAssessment, "patient_id"),
    ("rescue therapy", RescueTherapy, "patient_id"),
)
# Bookkeeping that changes on every save: not shown as a change.
UNSHOWN_FIELDS = frozenset({"id", "created_at", "updated_at", "version"})


@dataclass(frozen=True)
class AuditEntry:
    changed_at: dt.datetime
    user: str
    kind: str
    record_id: int
    action: str  # created / changed / voided
    reason: str
    changes: list[tuple[str, str, str]]  # field, old, new (as displayed)


@dataclass
class VisitLabs:
    visit: Visit | None
    results: list[LabResult] = field(default_factory=list)


@dataclass
class Casebook:
    patient: Patient
    consents: list[Consent]
    eligibility: EligibilityAssessment | None
    visits: list[Visit]
    labs_by_visit: list[VisitLabs]
    adverse_events: list[AdverseEvent]
    dose_records: list[DoseRecord]
    dose_adjustments: list[DoseAdjustment]
    bleeding: list[BleedingAssessment]
    rescue: list[RescueTherapy]
    audit_trail: list[AuditEntry]


def patient_casebook(patient: Patient) -> Casebook:
    """All of the patient's records and their combined audit trail (newest first).

    Queries: one per record kind plus one history query per audited kind — independent of how
    many records the patient has (tests/test_casebook.py pins the number).
    """
    visits = list(
        Visit.objects.filter(patient=patient).order_by("target_date", "actual_date", "id")
    )
    for visit in visits:
        visit.display_status = visit_display_status(visit).value  # due / overdue / ...
    labs = list(
        LabResult.objects.filter(patient=patient).order_by("collected_at", "test_code", "id")
    )
    return Casebook(
        patient=patient,
        consents=list(Consent.objects.filter(patient=patient).order_by("consented_at", "id")),
        eligibility=EligibilityAssessment.objects.filter(patient=patient)
        .select_related("evaluated_by")
        .order_by("-id")
        .first(),
        visits=visits,
        labs_by_visit=_labs_by_visit(visits, labs),
        adverse_events=list(
            AdverseEvent.objects.filter(patient=patient)
            .select_related("term", "visit")
            .order_by("onset_date", "id")
        ),
        dose_records=list(DoseRecord.objects.filter(patient=patient).order_by("start_date", "id")),
        dose_adjustments=list(
            DoseAdjustment.objects.filter(patient=patient).order_by("effective_date", "id")
        ),
        bleeding=list(
            BleedingAssessment.objects.filter(patient=patient)
            .select_related("visit")
            .order_by("assessed_at", "id")
        ),
        rescue=list(RescueTherapy.objects.filter(patient=patient).order_by("started_at", "id")),
        audit_trail=patient_audit_trail(patient),
    )


def _labs_by_visit(visits: list[Visit], labs: list[LabResult]) -> list[VisitLabs]:
    """Results grouped under their visit in calendar order; results of no visit come last."""
    groups = {visit.pk: VisitLabs(visit) for visit in visits}
    loose = VisitLabs(None)
    for result in labs:
        group = groups.get(result.visit_id, loose)
        group.results.append(result)
        if result.visit_id in groups:
            result.visit = group.visit  # already loaded: no query per result
    shown = [group for group in groups.values() if group.results]
    return shown + ([loose] if loose.results else [])


def patient_audit_trail(patient: Patient) -> list[AuditEntry]:
    """Every history row of the patient's records, newest first, with the fields each changed."""
    entries: list[AuditEntry] = []
    for kind, model, key in AUDITED_KINDS:
        rows = (
            model.history.filter(**{key: patient.pk})
            .select_related("history_user")
            .order_by("id", "history_date", "history_id")
        )
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in UNSHOWN_FIELDS]
        previous = None
        for row in rows:
            if previous is not None and previous.id != row.id:
                previous = None
            entries.append(_entry(kind, row, previous, names))
            previous = row
    entries.sort(key=lambda e: (e.changed_at, e.kind, e.record_id), reverse=True)
    return entries


def _entry(kind: str, row, previous, names: list[str]) -> AuditEntry:
    if previous is None:
        action = "created" if row.history_type == "+" else "changed"
        changes = [
            (name, "", display_value(getattr(row, name)))
            for name in names
            if getattr(row, name) not in (None, "", [], {}) and row.history_type == "+"
        ]
    else:
        voided = getattr(row, "is_voided", False) and not getattr(previous, "is_voided", False)
        action = "voided" if voided else "changed"
        changes = [
            (name, display_value(getattr(previous, name)), display_value(getattr(row, name)))
            for name in names
            if getattr(previous, name) != getattr(row, name)
        ]
    user = row.history_user
    return AuditEntry(
        changed_at=row.history_date,
        user=user.get_username() if user is not None else "system",
        kind=kind,
        record_id=row.id,
        action=action,
        reason=row.history_change_reason or "",
        changes=changes,
    )


def display_value(value) -> str:
    """Values as a person reads them: 25 not 25.0000, yes/no, dates in ISO form."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
