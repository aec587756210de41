"""Bleeding assessments: WHO grade, optional ITP-BAT domain grades and their SMOG code.

Endpoint assessment depends on bleeding: every write of a bleeding assessment goes through
exactly one of the three functions below, so a recomputation can be hooked in one place each.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.records import PatientRecordRules, patient_record_void
from patients.services import check_not_future
from visits.findings.models import BleedingAssessment
from visits.findings.scales import SMOG_MAXIMA, WHO_BLEEDING_MAX, smog_code
from visits.models import Visit
from visits.services import check_visit_of_patient

BLEEDING_ASSESSMENT_FIELDS = ("visit", "assessed_at", "who_grade", *SMOG_MAXIMA, "notes")


def _validated(patient: Patient, values: dict) -> dict:
    check_visit_of_patient(values["visit"], patient)
    check_not_future(values["assessed_at"], "assessed_at")
    if not 0 <= values["who_grade"] <= WHO_BLEEDING_MAX:
        raise InvalidInput(f"WHO bleeding grade is 0 to {WHO_BLEEDING_MAX}.", field="who_grade")
    domains = {name: values[name] for name in SMOG_MAXIMA}
    given = [name for name, grade in domains.items() if grade is not None]
    if given and len(given) < len(domains):
        missing = next(name for name in domains if name not in given)
        raise InvalidInput(
            "Grade all three ITP-BAT domains (skin, mucosal, organ) or none.", field=missing
        )
    for name, maximum in SMOG_MAXIMA.items():
        grade = domains[name]
        if grade is not None and not 0 <= grade <= maximum:
            raise InvalidInput(f"ITP-BAT grade for this domain is 0 to {maximum}.", field=name)
    return {**values, "smog": smog_code(*domains.values())}


BLEEDING_RULES = PatientRecordRules(BleedingAssessment, BLEEDING_ASSESSMENT_FIELDS, _validated)


@transaction.atomic
def bleeding_assessment_create(
    *,
    actor,
    patient: Patient,
    assessed_at: dt.date,
    who_grade: int,
    itp_bat_skin: int | None = None,
    itp_bat_mucosal: int | None = None,
    itp_bat_organ: int | None = None,
    visit: Visit | None = None,
    notes: str = "",
) -> BleedingAssessment:
    values = {
        "visit": visit,
        "assessed_at": assessed_at,
        "who_grade": who_grade,
        "itp_bat_skin": itp_bat_skin,
        "itp_bat_mucosal": itp_bat_mucosal,
        "itp_bat_organ": itp_bat_organ,
        "notes": notes,
    }
    return BLEEDING_RULES.create(
        actor=actor, patient=patient, values=values, reason="Bleeding assessment entered"
    )


@transaction.atomic
def bleeding_assessment_update(
    *,
    actor,
    assessment: BleedingAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> BleedingAssessment:
    return BLEEDING_RULES.update(
        assessment, actor=actor, changes=changes, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def bleeding_assessment_void(
    *, actor, assessment: BleedingAssessment, reason: str | None, expected_version: int | None
) -> BleedingAssessment:
    return patient_record_void(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )


BLEEDING_ASSESSMENT_WRITES = RecordWrites(
    create=bleeding_assessment_create,
    update=bleeding_assessment_update,
    void=bleeding_assessment_void,
    record="assessment",
)
