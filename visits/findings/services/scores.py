"""Sjögren's scores: the items are entered, the totals are computed here (ecrf.domain.scores)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from ecrf.domain.errors import DomainError
from ecrf.domain.scores import ESSDAI_DOMAINS, essdai_total, esspri_score
from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.records import PatientRecordRules, patient_record_void
from patients.services import check_not_future
from visits.findings.models import EssdaiAssessment, EsspriAssessment
from visits.models import Visit
from visits.services import check_visit_of_patient

ESSDAI_ASSESSMENT_FIELDS = ("visit", "assessed_on", *ESSDAI_DOMAINS)
ESSPRI_ITEMS = ("dryness", "fatigue", "pain")
ESSPRI_ASSESSMENT_FIELDS = ("visit", "assessed_on", *ESSPRI_ITEMS)
_DOMAIN_PATH = "domains"


def _essdai_validated(patient: Patient, values: dict) -> dict:
    check_visit_of_patient(values["visit"], patient)
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
    check_visit_of_patient(values["visit"], patient)
    check_not_future(values["assessed_on"], "assessed_on")
    try:
        score = esspri_score(*(values[item] for item in ESSPRI_ITEMS))
    except DomainError as error:
        raise InvalidInput(f"ESSPRI item {error.message}.", field=error.field) from error
    return {**values, "score": score}


ESSDAI_RULES = PatientRecordRules(EssdaiAssessment, ESSDAI_ASSESSMENT_FIELDS, _essdai_validated)
ESSPRI_RULES = PatientRecordRules(EsspriAssessment, ESSPRI_ASSESSMENT_FIELDS, _esspri_validated)


@transaction.atomic
def essdai_assessment_create(
    *,
    actor,
    patient: Patient,
    assessed_on: dt.date,
    visit: Visit | None = None,
    **levels: int | None,
) -> EssdaiAssessment:
    """`levels`: the activity level of each domain assessed, by domain name (e.g. `renal=0`)."""
    unknown = sorted(set(levels) - set(ESSDAI_DOMAINS))
    if unknown:
        raise TypeError(f"Not ESSDAI domains: {', '.join(unknown)}")
    values = {"visit": visit, "assessed_on": assessed_on} | {
        name: levels.get(name) for name in ESSDAI_DOMAINS
    }
    return ESSDAI_RULES.create(actor=actor, patient=patient, values=values, reason="ESSDAI entered")


@transaction.atomic
def essdai_assessment_update(
    *,
    actor,
    assessment: EssdaiAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> EssdaiAssessment:
    return ESSDAI_RULES.update(
        assessment, actor=actor, changes=changes, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def essdai_assessment_void(
    *, actor, assessment: EssdaiAssessment, reason: str | None, expected_version: int | None
) -> EssdaiAssessment:
    return patient_record_void(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )


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
    values = {
        "visit": visit,
        "assessed_on": assessed_on,
        "dryness": dryness,
        "fatigue": fatigue,
        "pain": pain,
    }
    return ESSPRI_RULES.create(actor=actor, patient=patient, values=values, reason="ESSPRI entered")


@transaction.atomic
def esspri_assessment_update(
    *,
    actor,
    assessment: EsspriAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> EsspriAssessment:
    return ESSPRI_RULES.update(
        assessment, actor=actor, changes=changes, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def esspri_assessment_void(
    *, actor, assessment: EsspriAssessment, reason: str | None, expected_version: int | None
) -> EsspriAssessment:
    return patient_record_void(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )


ESSDAI_ASSESSMENT_WRITES = RecordWrites(
    create=essdai_assessment_create,
    update=essdai_assessment_update,
    void=essdai_assessment_void,
    record="assessment",
)
ESSPRI_ASSESSMENT_WRITES = RecordWrites(
    create=esspri_assessment_create,
    update=esspri_assessment_update,
    void=esspri_assessment_void,
    record="assessment",
)
