"""Allocation of a patient: randomize (from the study's list) or enrol (single-arm study).

Allocation is one transaction: the patient row is locked, the readiness rules are checked
(consent, eligibility, dates), a slot is claimed (`patients.allocation`), the patient gets arm,
day 1 and status, and the visit calendar is created (by the steps the apps above register in
`patients.hooks`).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ecrf.access import Action, can
from ecrf.after_write import deferred_after_writes
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from patients.allocation import claim_next_slot
from patients.hooks import after_allocation_hooks
from patients.models import Patient, PatientStatus
from patients.selectors import latest_consent
from patients.services import (
    check_move_date,
    check_patient_access,
    lock_patient,
    patient_move_status,
)
from patients.status_machine import Via
from trials.randomization.models import AllocationList, AllocationSlot
from trials.randomization.scheme import scheme_for

# --- Allocation -------------------------------------------------------------------------------


def _check_back_entry(actor, patient: Patient, field: str) -> None:
    if not can(actor, Action.BACK_ENTER, study_id=patient.study_id, site_id=patient.site_id):
        raise PermissionRefused(
            "Only a data manager entering historical data may set the allocation date.",
            field=field,
        )


def _readiness_problems(patient: Patient, day1: dt.date, date_field: str) -> list[dict]:
    """Why the patient cannot be allocated on `day1` (empty when they can)."""
    problems = []
    consent = latest_consent(patient)
    if consent is None:
        problems.append(
            {
                "field": "consent",
                "message": "No informed consent is recorded for the patient.",
                "code": "no_consent",
            }
        )
    elif consent.consented_at > day1:
        problems.append(
            {
                "field": date_field,
                "message": f"Must not be before the consent date ({consent.consented_at}).",
                "code": "before_consent",
            }
        )
    if patient.status != PatientStatus.ELIGIBLE:
        grounds = patient.status_reason or "eligibility has not been evaluated"
        problems.append(
            {
                "field": "eligibility",
                "message": f"The patient is not eligible (status '{patient.status}'): {grounds}.",
                "code": "not_eligible",
            }
        )
    return problems


def _lock_unallocated(actor, patient: Patient, requested: dt.date | None, date_field: str):
    """Locks the patient and checks everything that does not depend on the study's design."""
    check_patient_access(actor, patient, Action.RANDOMIZE)
    if requested is not None:
        _check_back_entry(actor, patient, date_field)
    patient = lock_patient(patient)
    if patient.is_voided:
        raise Conflict("The patient record is voided.", field=None)
    if patient.arm_id is not None:
        verb = "randomized" if patient.study.is_randomized else "enrolled"
        raise Conflict(f"The patient is already {verb} (day 1 {patient.day1}).", field=None)
    return patient


def _check_ready(patient: Patient, day1: dt.date, date_field: str) -> None:
    check_move_date(patient, day1, field=date_field)
    problems = _readiness_problems(patient, day1, date_field)
    if problems:
        raise InvalidInput("; ".join(p["message"] for p in problems), errors=problems)


def _dated(requested: dt.date | None) -> tuple[dt.date, bool]:
    return (requested, True) if requested is not None else (timezone.localdate(), False)


@transaction.atomic
def patient_randomize(
    *,
    actor,
    patient: Patient,
    randomized_at: dt.date | None = None,
    factors: dict[str, str] | None = None,
    reason: str | None = None,
) -> AllocationSlot:
    """Randomizes a consented, eligible patient to the next free slot of their stratum.

    `randomized_at` (data managers only) back-enters a trial's historical randomization: the
    slot still comes from the list, and the allocation is marked and audited as back-entered.
    """
    patient = _lock_unallocated(actor, patient, randomized_at, "randomized_at")
    study = patient.study
    if not study.is_randomized:
        raise InvalidInput(
            f"{study.registry_id} is a single-arm study: enrol the patient instead "
            f"(POST /api/patients/{patient.pk}/enrol/).",
            field=None,
        )
    day1, back_entered = _dated(randomized_at)
    _check_ready(patient, day1, "randomized_at")
    stratum = scheme_for(study).stratum_of(patient.site.code, factors or {})
    allocation_list = AllocationList.objects.filter(study=study, active=True).first()
    if allocation_list is None:
        raise Conflict(
            f"{study.registry_id} has no randomization list yet; a data manager must generate "
            "or import one before randomization can start.",
            field="study",
        )
    slot = claim_next_slot(
        allocation_list=allocation_list,
        stratum=stratum,
        patient=patient,
        actor=actor,
        randomized_on=day1,
        back_entered=back_entered,
    )
    _allocate(
        actor,
        patient,
        to_status=PatientStatus.RANDOMIZED,
        arm=slot.arm,
        day1=day1,
        back_entered=back_entered,
        reason=reason,
        summary=f"Randomized: number {slot.number}, stratum {stratum}",
    )
    return slot


@transaction.atomic
def patient_enrol(
    *, actor, patient: Patient, enrolled_at: dt.date | None = None, reason: str | None = None
) -> Patient:
    """Enrols a consented, eligible patient of a single-arm study (no list involved)."""
    patient = _lock_unallocated(actor, patient, enrolled_at, "enrolled_at")
    study = patient.study
    if study.is_randomized:
        raise InvalidInput(
            f"{study.registry_id} is randomized: randomize the patient instead "
            f"(POST /api/patients/{patient.pk}/randomize/).",
            field=None,
        )
    day1, back_entered = _dated(enrolled_at)
    _check_ready(patient, day1, "enrolled_at")
    return _allocate(
        actor,
        patient,
        to_status=PatientStatus.ENROLLED,
        arm=study.arms.get(),
        day1=day1,
        back_entered=back_entered,
        reason=reason,
        summary="Enrolled",
    )


def _allocate(actor, patient, *, to_status, arm, day1, back_entered, reason, summary) -> Patient:
    text = summary
    if back_entered:
        text += f"; back-entered historical data dated {day1}"
    if reason:
        text += f"; {reason.strip()}"
    # The status move, the calendar and the regrade write many audited rows: what follows those
    # writes (e.g. the endpoint assessment) runs once for the patient, at the end.
    with deferred_after_writes(actor=actor, reason=text):
        patient = patient_move_status(
            actor=actor,
            patient=patient,
            to_status=to_status,
            on=day1,
            reason=text,
            via=Via.ALLOCATION,
            changes={"arm": arm, "day1": day1},
            history_note=("Back-entered: " if back_entered else "") + summary,
        )
        protocol = patient.study.current_protocol()
        # The visit calendar, then the lab grade suggestions (day 1 defines the baseline):
        # registered by the apps above (`patients.hooks`), in their declared order.
        for step in after_allocation_hooks():
            step.run(
                actor=actor, patient=patient, day1=day1, protocol_version=protocol, reason=text
            )
    return patient
