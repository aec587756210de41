"""ECOG performance status."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ecrf.audit import save_audited, update_audited
from ecrf.exceptions import InvalidInput
from findings.models import EcogAssessment
from findings.recording import (
    check_not_future,
    check_patient_entry,
    check_visit,
    locked_for_change,
    merged,
    void_patient_record,
)
from findings.scales import ECOG_MAX
from patients.models import Patient
from visits.models import Visit

EDITABLE = ("visit", "assessed_on", "score")


def _validated(patient: Patient, values: dict) -> dict:
    check_visit(patient, values["visit"])
    check_not_future(values["assessed_on"], "assessed_on")
    if not 0 <= values["score"] <= ECOG_MAX:
        raise InvalidInput(f"ECOG performance status is 0 to {ECOG_MAX}.", field="score")
    return values


@transaction.atomic
def ecog_assessment_create(
    *, actor, patient: Patient, assessed_on: dt.date, score: int, visit: Visit | None = None
) -> EcogAssessment:
    check_patient_entry(actor, patient)
    values = _validated(patient, {"visit": visit, "assessed_on": assessed_on, "score": score})
    record = EcogAssessment(patient=patient, **values)
    return save_audited(record, actor=actor, reason="ECOG performance status entered")


@transaction.atomic
def ecog_assessment_update(
    *,
    actor,
    assessment: EcogAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> EcogAssessment:
    check_patient_entry(actor, assessment.patient)
    locked = locked_for_change(assessment, reason=reason, expected_version=expected_version)
    values = _validated(locked.patient, merged(locked, changes, EDITABLE))
    return update_audited(
        locked, changes=values, actor=actor, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def ecog_assessment_void(
    *, actor, assessment: EcogAssessment, reason: str | None, expected_version: int | None
) -> EcogAssessment:
    return void_patient_record(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )
