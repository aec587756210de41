"""Bleeding assessments: WHO grade, optional ITP-BAT domain grades and their SMOG code.

Endpoint assessment depends on bleeding: every write of a bleeding assessment goes through
exactly one of the three functions below, so a recomputation can be hooked in one place each.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ecrf.audit import save_audited, update_audited
from ecrf.exceptions import InvalidInput
from endpoints.services import refreshes_endpoints
from findings.models import BleedingAssessment
from findings.recording import (
    check_not_future,
    check_patient_entry,
    check_visit,
    locked_for_change,
    merged,
    void_patient_record,
)
from findings.scales import SMOG_MAXIMA, WHO_BLEEDING_MAX, smog_code
from patients.models import Patient
from visits.models import Visit

EDITABLE = ("visit", "assessed_at", "who_grade", *SMOG_MAXIMA, "notes")


def _validated(patient: Patient, values: dict) -> dict:
    check_visit(patient, values["visit"])
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


@refreshes_endpoints("bleeding assessed")
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
    check_patient_entry(actor, patient)
    values = _validated(
        patient,
        {
            "visit": visit,
            "assessed_at": assessed_at,
            "who_grade": who_grade,
            "itp_bat_skin": itp_bat_skin,
            "itp_bat_mucosal": itp_bat_mucosal,
            "itp_bat_organ": itp_bat_organ,
            "notes": notes,
        },
    )
    assessment = BleedingAssessment(patient=patient, **values)
    return save_audited(assessment, actor=actor, reason="Bleeding assessment entered")


@refreshes_endpoints("bleeding assessment corrected")
@transaction.atomic
def bleeding_assessment_update(
    *,
    actor,
    assessment: BleedingAssessment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> BleedingAssessment:
    check_patient_entry(actor, assessment.patient)
    locked = locked_for_change(assessment, reason=reason, expected_version=expected_version)
    values = _validated(locked.patient, merged(locked, changes, EDITABLE))
    return update_audited(
        locked, changes=values, actor=actor, reason=reason, expected_version=expected_version
    )


@refreshes_endpoints("bleeding assessment voided")
@transaction.atomic
def bleeding_assessment_void(
    *, actor, assessment: BleedingAssessment, reason: str | None, expected_version: int | None
) -> BleedingAssessment:
    return void_patient_record(
        assessment, actor=actor, reason=reason, expected_version=expected_version
    )
