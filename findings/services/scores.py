"""Sjögren's scores: the items are entered, the totals are computed here (domain.scores)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from domain.errors import DomainError
from domain.scores import ESSDAI_DOMAINS, essdai_total, esspri_score
from ecrf.audit import save_audited, update_audited
from ecrf.exceptions import InvalidInput
from endpoints.services import refreshes_endpoints
from findings.models import EssdaiAssessment, EsspriAssessment
from findings.recording import (
    check_not_future,
    check_patient_entry,
    check_visit,
    locked_for_change,
    merged,
    void_patient_record,
)
from patients.models import Patient
from visits.models import Visit

ESSDAI_EDITABLE = ("visit", "assessed_on", *ESSDAI_DOMAINS)
ESSPRI_ITEMS = ("dryness", "fatigue", "pain")
ESSPRI_EDITABLE = ("visit", "assessed_on", *ESSPRI_ITEMS)
_DOMAIN_PATH = "domains"


def _essdai_validated(patient: Patient, values: dict) -> dict:
    check_visit(patient, values["visit"])
    check_not_future(values["assessed_on"], "assessed_on")
    levels = {name: values[name] for name in ESSDAI_DOMAINS if values[name] is not None}
    try:
        result = essdai_total(levels, path=_DOMAIN_PATH)
    except DomainError as error:
        # The API takes each domain as a top-level field: name that field.
        field = error.field.removeprefix(f"{_DOMAIN_PATH}.")
        raise InvalidInput(f"ESSDAI {error.message}.", field=field) from error
    return {**values, "total": result.total, "activity": result.activity}


def _esspri_validated(patient: Patient, values: dict) -> dict:
    check_visit(patient, values["visit"])
    check_not_future(values["assessed_on"], "assessed_on")
    try:
        score = esspri_score(*(values[item] for item in ESSPRI_ITEMS))
    except DomainError as error:
        raise InvalidInput(f"ESSPRI item {error.message}.", field=error.field) from error
    return {**values, "score": score}


@refreshes_endpoints("ESSDAI entered")
@transaction.atomic
def essdai_assessment_create(
    *,
    actor,
    patient: Patient,
    assessed_on: dt.date,
    levels: dict[str, int],
    visit: Visit | None = None,
) -> EssdaiAssessment:
    check_patient_entry(actor, patient)
    values = _essdai_validated(
        patient,
        {"visit": visit, "assessed_on": assessed_on}
        | {name: levels.get(name) for name in ESSDAI_DOMAINS},
    )
    record = EssdaiAssessment(patient=patient, **values)
    return save_audited(record, actor=actor, reason="ESSDAI entered")


@refreshes_endpoints("ESSDAI corrected")
@transaction.atomic
def essdai_assessment_update(
    *,
    actor,
    assessment: EssdaiAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> EssdaiAssessment:
    check_patient_entry(actor, assessment.patient)
    locked = locked_for_change(assessment, reason=reason, expected_version=expected_version)
    values = _essdai_validated(locked.patient, merged(locked, changes, ESSDAI_EDITABLE))
    return update_audited(
        locked, changes=values, actor=actor, reason=reason, expected_version=expected_version
    )


@refreshes_endpoints("ESSDAI voided")
@transaction.atomic
def essdai_assessment_void(
    *, actor, assessment: EssdaiAssessment, reason: str | None, expected_version: int | None
) -> EssdaiAssessment:
    return void_patient_record(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )


@refreshes_endpoints("ESSPRI entered")
@transaction.atomic
def esspri_assessment_create(
    *,
    actor,
    patient: Patient,
    assessed_on: dt.date,
    dryness: Decimal,
    fatigue: Decimal,
    pain: Decimal,
    visit: Visit | None = None,
) -> EsspriAssessment:
    check_patient_entry(actor, patient)
    values = _esspri_validated(
        patient,
        {
            "visit": visit,
            "assessed_on": assessed_on,
            "dryness": dryness,
            "fatigue": fatigue,
            "pain": pain,
        },
    )
    record = EsspriAssessment(patient=patient, **values)
    return save_audited(record, actor=actor, reason="ESSPRI entered")


@refreshes_endpoints("ESSPRI corrected")
@transaction.atomic
def esspri_assessment_update(
    *,
    actor,
    assessment: EsspriAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> EsspriAssessment:
    check_patient_entry(actor, assessment.patient)
    locked = locked_for_change(assessment, reason=reason, expected_version=expected_version)
    values = _esspri_validated(locked.patient, merged(locked, changes, ESSPRI_EDITABLE))
    return update_audited(
        locked, changes=values, actor=actor, reason=reason, expected_version=expected_version
    )


@refreshes_endpoints("ESSPRI voided")
@transaction.atomic
def esspri_assessment_void(
    *, actor, assessment: EsspriAssessment, reason: str | None, expected_version: int | None
) -> EsspriAssessment:
    return void_patient_record(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )
