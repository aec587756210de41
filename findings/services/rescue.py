"""Rescue and concomitant therapies.

Endpoint assessment depends on rescue therapy: every write goes through exactly one of the
three functions below, so a recomputation can be hooked in one place each.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ecrf.audit import save_audited, update_audited
from ecrf.exceptions import InvalidInput
from endpoints.services import refreshes_endpoints
from findings.models import RescueTherapy, TherapyKind
from findings.recording import (
    check_not_future,
    check_patient_entry,
    locked_for_change,
    merged,
    void_patient_record,
)
from patients.models import Patient

EDITABLE = ("started_at", "stopped_at", "therapy", "itp_directed", "kind", "indication")


def _validated(values: dict) -> dict:
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


@refreshes_endpoints("rescue therapy entered")
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
    check_patient_entry(actor, patient)
    values = _validated(
        {
            "started_at": started_at,
            "stopped_at": stopped_at,
            "therapy": therapy,
            "itp_directed": itp_directed,
            "kind": kind,
            "indication": indication,
        }
    )
    record = RescueTherapy(patient=patient, **values)
    return save_audited(record, actor=actor, reason=f"{record.get_kind_display()} entered")


@refreshes_endpoints("rescue therapy corrected")
@transaction.atomic
def rescue_therapy_update(
    *,
    actor,
    therapy: RescueTherapy,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> RescueTherapy:
    check_patient_entry(actor, therapy.patient)
    locked = locked_for_change(therapy, reason=reason, expected_version=expected_version)
    values = _validated(merged(locked, changes, EDITABLE))
    return update_audited(
        locked, changes=values, actor=actor, reason=reason, expected_version=expected_version
    )


@refreshes_endpoints("rescue therapy voided")
@transaction.atomic
def rescue_therapy_void(
    *, actor, therapy: RescueTherapy, reason: str | None, expected_version: int | None
) -> RescueTherapy:
    return void_patient_record(
        therapy, actor=actor, reason=reason, expected_version=expected_version
    )
