"""Rescue and concomitant therapies.

Endpoint assessment depends on rescue therapy: every write goes through exactly one of the
three functions below, so a recomputation can be hooked in one place each.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.records import PatientRecordRules, patient_record_void
from patients.services import check_not_future
from visits.findings.models import RescueTherapy, TherapyKind

RESCUE_THERAPY_FIELDS = (
    "started_at",
    "stopped_at",
    "therapy",
    "itp_directed",
    "kind",
    "indication",
)


def _validated(_patient: Patient, values: dict) -> dict:
    check_not_future(values["started_at"], "started_at")
    check_not_future(values["stopped_at"], "stopped_at")
    if values["stopped_at"] is not None and values["stopped_at"] < values["started_at"]:
        raise InvalidInput(
            f"Must not be before the start ({values['started_at'].isoformat()}).",
            field="stopped_at",
        )
    therapy = (values["therapy"] or "").strip()
    if not therapy:
        raise InvalidInput("Name the therapy.", field="therapy")
    if values["kind"] not in TherapyKind.values:
        raise InvalidInput(f"One of {', '.join(TherapyKind.values)}.", field="kind")
    return {**values, "therapy": therapy}


RESCUE_RULES = PatientRecordRules(RescueTherapy, RESCUE_THERAPY_FIELDS, _validated)


@transaction.atomic
def rescue_therapy_create(
    *,
    actor,
    patient: Patient,
    started_at: dt.date,
    therapy: str,
    itp_directed: bool,
    stopped_at: dt.date | None = None,
    kind: str = TherapyKind.RESCUE,
    indication: str = "",
) -> RescueTherapy:
    values = {
        "started_at": started_at,
        "stopped_at": stopped_at,
        "therapy": therapy,
        "itp_directed": itp_directed,
        "kind": kind,
        "indication": indication,
    }
    return RESCUE_RULES.create(
        actor=actor,
        patient=patient,
        values=values,
        reason=lambda record: f"{record.get_kind_display()} entered",
    )


@transaction.atomic
def rescue_therapy_update(
    *,
    actor,
    therapy: RescueTherapy,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> RescueTherapy:
    return RESCUE_RULES.update(
        therapy, actor=actor, changes=changes, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def rescue_therapy_void(
    *, actor, therapy: RescueTherapy, reason: str | None, expected_version: int | None
) -> RescueTherapy:
    return patient_record_void(
        therapy, actor=actor, reason=reason, expected_version=expected_version
    )


RESCUE_THERAPY_WRITES = RecordWrites(
    create=rescue_therapy_create,
    update=rescue_therapy_update,
    void=rescue_therapy_void,
    record="therapy",
)
