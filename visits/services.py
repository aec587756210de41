"""Writes on visit calendars: scheduling at allocation, recording, corrections, unscheduled
visits. A visit outside its window is accepted and flagged (a protocol deviation)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from ecrf.access import Action
from ecrf.after_write import deferred_after_writes
from ecrf.audit import save_audited, save_many_audited, update_audited, void_audited
from ecrf.exceptions import Conflict, InvalidInput
from patients.models import Patient
from patients.services import (
    check_not_future,
    check_patient_access,
    lock_patient,
)
from trials.models import ProtocolVersion
from visits.models import Visit, VisitStatus
from visits.selectors import is_out_of_window

UNSCHEDULED_PREFIX = "U"


def check_visit_of_patient(visit: Visit | None, patient: Patient) -> None:
    """A visit must be one of the patient's own, not voided (else a 400 naming `visit`)."""
    if visit is None:
        return
    if visit.patient_id != patient.pk or visit.is_voided:
        raise InvalidInput("Unknown visit for this patient.", field="visit")


@transaction.atomic
def visit_calendar_create(
    *, actor, patient: Patient, day1: dt.date, protocol_version: ProtocolVersion, reason: str
) -> list[Visit]:
    """One visit per visit definition, dated from day 1 (day_offset 0 is day 1 itself).

    Called inside the allocation transaction, so a patient is never allocated without a
    calendar.
    """
    definitions = list(protocol_version.visit_definitions.order_by("day_offset", "order"))
    taken = set(
        Visit.objects.filter(
            Q(definition__isnull=False) | Q(code__in=[d.code for d in definitions]),
            patient=patient,
        ).values_list("code", flat=True)
    )
    if taken:
        raise Conflict(
            f"The patient already has a visit calendar (visits {', '.join(sorted(taken))}).",
            field=None,
        )
    visits = []
    for definition in definitions:
        target = day1 + dt.timedelta(days=definition.day_offset)
        visits.append(
            Visit(
                patient=patient,
                definition=definition,
                code=definition.code,
                name=definition.name,
                target_date=target,
                window_start=target - dt.timedelta(days=definition.window_before),
                window_end=target + dt.timedelta(days=definition.window_after),
            )
        )
    # Written together (one INSERT and one for the history rows, not four statements a visit:
    # issue 12). No visit of the patient has these codes (just read, in the allocation's
    # transaction, under the patient's lock) and the definitions were just read, so the unique
    # constraint and the references are left to the database.
    with deferred_after_writes(actor=actor, reason=reason):
        return save_many_audited(
            Visit,
            created=visits,
            updated=[],
            update_fields=[],
            actor=actor,
            reason=reason,
            references_checked=True,
        )


def visit_calendar_after_allocation(
    *, actor, patient: Patient, day1: dt.date, protocol_version: ProtocolVersion, **_allocation
) -> None:
    """The allocation step (`patients.hooks`, registered in `VisitsConfig.ready`); the calendar's
    history says which protocol version it comes from."""
    visit_calendar_create(
        actor=actor,
        patient=patient,
        day1=day1,
        protocol_version=protocol_version,
        reason=f"Visit calendar from protocol version {protocol_version.number}",
    )


def _check_actual_date(patient: Patient, actual_date: dt.date | None, field: str) -> None:
    if actual_date is None:
        raise InvalidInput("The date of a completed visit is required.", field=field)
    check_not_future(actual_date, field)
    if patient.day1 and actual_date < patient.day1:
        raise InvalidInput(f"Must not be before day 1 ({patient.day1}).", field=field)


def _check_outcome(
    patient: Patient, status: str, actual_date: dt.date | None, visit: Visit | None = None
) -> None:
    if status == VisitStatus.COMPLETED:
        _check_actual_date(patient, actual_date, "actual_date")
    elif status == VisitStatus.MISSED:
        if actual_date is not None:
            raise InvalidInput("A missed visit has no date.", field="actual_date")
        # Until the window has closed the visit can still happen: it is due, not missed.
        if visit is not None and visit.window_end and timezone.localdate() <= visit.window_end:
            raise InvalidInput(
                "A visit can be marked missed only after its window has closed "
                f"(the window ends {visit.window_end.isoformat()}).",
                field="status",
            )
    else:
        raise InvalidInput("Record a visit as completed or missed.", field="status")


@transaction.atomic
def visit_record(
    *, actor, visit: Visit, status: str, actual_date: dt.date | None = None, notes: str = ""
) -> Visit:
    """Records what happened at a scheduled visit (first entry; corrections use visit_correct)."""
    check_patient_access(actor, visit.patient, Action.ENTER_DATA)
    patient = lock_patient(visit.patient)
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if visit.is_voided:
        raise Conflict("The visit is voided.", field=None)
    if visit.status != VisitStatus.SCHEDULED:
        raise Conflict(
            f"The visit is already recorded as {visit.status}; correct it with a reason "
            "(PATCH /api/visits/{id}/).",
            field="status",
        )
    _check_outcome(patient, status, actual_date, visit)
    visit.status = status
    visit.actual_date = actual_date
    visit.out_of_window = is_out_of_window(visit, actual_date)
    visit.notes = notes or visit.notes
    visit.recorded_by = actor
    visit.recorded_at = timezone.now()
    visit.version += 1
    note = "outside its window (protocol deviation)" if visit.out_of_window else ""
    return save_audited(visit, actor=actor, reason=f"Visit recorded {status} {note}".strip())


def visit_correct(
    *, actor, visit: Visit, changes: dict, reason: str | None, expected_version
) -> Visit:
    """An audited correction of a recorded visit (reason and the version read are required)."""
    check_patient_access(actor, visit.patient, Action.ENTER_DATA)
    if visit.is_voided:
        raise Conflict("The visit is voided.", field=None)
    status = changes.get("status", visit.status)
    if visit.is_unscheduled and status != VisitStatus.COMPLETED:
        raise InvalidInput("An unscheduled visit is always a completed visit.", field="status")
    actual_date = changes.get("actual_date", visit.actual_date)
    if status == VisitStatus.MISSED and "actual_date" not in changes:
        actual_date = None
    if status == VisitStatus.SCHEDULED and visit.status != VisitStatus.SCHEDULED:
        raise InvalidInput("A recorded visit can be corrected, not unrecorded.", field="status")
    if status != VisitStatus.SCHEDULED:
        _check_outcome(visit.patient, status, actual_date, visit)
    full = {
        **changes,
        "status": status,
        "actual_date": actual_date,
        "out_of_window": is_out_of_window(visit, actual_date),
    }
    if visit.recorded_by_id is None:
        full |= {"recorded_by": actor, "recorded_at": timezone.now()}
    return update_audited(
        visit, changes=full, actor=actor, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def unscheduled_visit_create(
    *, actor, patient: Patient, actual_date: dt.date, notes: str = ""
) -> Visit:
    """An unscheduled visit, numbered U1, U2 … per patient (numbers are never reused)."""
    check_patient_access(actor, patient, Action.ENTER_DATA)
    # The patient lock makes concurrent unscheduled visits of one patient take turns, so the
    # next number is read and used without a race (the unique constraint is the backstop).
    patient = lock_patient(patient)
    if patient.is_voided:
        raise Conflict("The patient record is voided.", field=None)
    if patient.day1 is None:
        raise Conflict(
            "The patient has no visit calendar yet (randomize or enrol first).", field=None
        )
    _check_actual_date(patient, actual_date, "actual_date")
    last = Visit.objects.filter(patient=patient).aggregate(last=Max("unscheduled_number"))["last"]
    number = (last or 0) + 1
    visit = Visit(
        patient=patient,
        code=f"{UNSCHEDULED_PREFIX}{number}",
        name=f"Unscheduled visit {number}",
        unscheduled_number=number,
        actual_date=actual_date,
        status=VisitStatus.COMPLETED,
        recorded_by=actor,
        recorded_at=timezone.now(),
        notes=notes,
    )
    return save_audited(visit, actor=actor, reason=f"Unscheduled visit U{number} recorded")


@transaction.atomic
def visit_void(*, actor, visit: Visit, reason: str | None, expected_version) -> Visit:
    """Voids an unscheduled visit entered in error; a scheduled visit is recorded missed."""
    check_patient_access(actor, visit.patient, Action.VOID)
    if not visit.is_unscheduled:
        raise Conflict(
            "A scheduled visit stays on the calendar; record it as missed instead.", field=None
        )
    return void_audited(visit, actor=actor, reason=reason, expected_version=expected_version)
