"""ECOG performance status."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.records import PatientRecordRules, patient_record_void
from patients.services import check_not_future
from visits.findings.models import EcogAssessment
from visits.findings.scales import ECOG_MAX
from visits.models import Visit
from visits.services import check_visit_of_patient

ECOG_ASSESSMENT_FIELDS = ("visit", "assessed_on", "score")


def _validated(patient: Patient, values: dict) -> dict:
    check_visit_of_patient(values["visit"], patient)
    check_not_future(values["assessed_on"], "assessed_on")
    if not 0 <= values["score"] <= ECOG_MAX:
        raise InvalidInput(f"ECOG performance status is 0 to {ECOG_MAX}.", field="score")
    return values


ECOG_RULES = PatientRecordRules(EcogAssessment, ECOG_ASSESSMENT_FIELDS, _validated)


@transaction.atomic
def ecog_assessment_create(
    *, actor, patient: Patient, assessed_on: dt.date, score: int, visit: Visit | None = None
) -> EcogAssessment:
    values = {"visit": visit, "assessed_on": assessed_on, "score": score}
    return ECOG_RULES.create(
        actor=actor, patient=patient, values=values, reason="ECOG performance status entered"
    )


@transaction.atomic
def ecog_assessment_update(
    *,
    actor,
    assessment: EcogAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> EcogAssessment:
    return ECOG_RULES.update(
        assessment, actor=actor, changes=changes, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def ecog_assessment_void(
    *, actor, assessment: EcogAssessment, reason: str | None, expected_version: int | None
) -> EcogAssessment:
    return patient_record_void(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )


ECOG_ASSESSMENT_WRITES = RecordWrites(
    create=ecog_assessment_create,
    update=ecog_assessment_update,
    void=ecog_assessment_void,
    record="assessment",
)
