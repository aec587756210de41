"""Eligibility evaluation of a patient against the study's current protocol version.

The facts come from what is recorded for the patient (age at the evaluation date, the latest
ECOG assessment and the latest lab result per test on or before that date — read by the apps
that record them, through `patients.hooks`); the rules are evaluated by
`ecrf.domain.eligibility`. Each evaluation is stored as a new EligibilityAssessment and moves
the patient to eligible, screen failed, or back to screening when something is still open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from ecrf.access import Action, can
from ecrf.audit import save_audited
from ecrf.domain.dates import age_in_years
from ecrf.domain.eligibility import (
    Criterion,
    EligibilityStatus,
    PatientFacts,
    evaluate_eligibility,
)
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from patients.hooks import read_eligibility_input
from patients.models import EligibilityAssessment, Patient, PatientStatus
from patients.services import (
    check_move_date,
    check_patient_access,
    lock_patient,
    patient_move_status,
)
from patients.status_machine import PRE_ALLOCATION, Via
from trials.models import EligibilityCriterion, ProtocolVersion

STATUS_AFTER: dict[str, str] = {
    EligibilityStatus.ELIGIBLE: PatientStatus.ELIGIBLE,
    EligibilityStatus.INELIGIBLE: PatientStatus.SCREEN_FAILED,
    EligibilityStatus.INCOMPLETE: PatientStatus.SCREENING,
}


def _test_codes(rule: Any) -> Iterator[str]:
    if isinstance(rule, Mapping):
        if "test_code" in rule:
            yield str(rule["test_code"]).upper()
        for key in ("any", "all"):
            for part in rule.get(key, []):
                yield from _test_codes(part)


def eligibility_facts(
    patient: Patient, on: dt.date, test_codes: set[str] | None = None
) -> PatientFacts:
    """The patient's recorded values as of the end of `on` (voided records ignored): the latest
    ECOG score and the latest result per lab test, read by the apps that record them
    (`patients.hooks.register_eligibility_input`)."""
    return PatientFacts(
        age_years=age_in_years(patient.birth_date, on),
        sex=patient.sex,
        ecog=read_eligibility_input("ecog", patient, on, test_codes),
        labs=read_eligibility_input("labs", patient, on, test_codes),
    )


def _merged_answers(
    criteria: list[EligibilityCriterion],
    previous: EligibilityAssessment | None,
    answers: Mapping[str, bool | None],
    actor,
) -> tuple[dict[str, bool], dict[str, str]]:
    """The answers in force: those of the previous evaluation under the same protocol version,
    overridden by the new ones (null withdraws an answer), with who gave each."""
    merged = dict(previous.answers) if previous else {}
    answered_by = dict(previous.answered_by) if previous else {}
    investigator_codes = {c.code for c in criteria if not c.rule}
    for code, value in answers.items():
        if value is None:
            if code not in investigator_codes:
                raise InvalidInput(
                    "No investigator-confirmed criterion of the protocol has this code.",
                    field=f"answers.{code}",
                )
            merged.pop(code, None)
            answered_by.pop(code, None)
        else:
            merged[code] = value
            answered_by[code] = actor.get_username()
    return merged, answered_by


def _status_reason(assessment: EligibilityAssessment) -> str:
    if assessment.status == EligibilityStatus.INELIGIBLE:
        return "Eligibility evaluation: criteria failed: " + ", ".join(assessment.failed_codes)
    if assessment.status == EligibilityStatus.INCOMPLETE:
        return "Eligibility evaluation: criteria still open: " + ", ".join(assessment.open_codes)
    return "Eligibility evaluation: all criteria met"


@transaction.atomic
def eligibility_evaluate(
    *,
    actor,
    patient: Patient,
    answers: Mapping[str, bool | None] | None = None,
    evaluated_on: dt.date | None = None,
) -> EligibilityAssessment:
    """Evaluates every criterion of the study's current protocol version and stores the result.

    Anyone who may enter data can run an evaluation; answering investigator-confirmed criteria
    needs the right to confirm eligibility (investigator, data manager).
    """
    answers = dict(answers or {})
    check_patient_access(actor, patient, Action.ENTER_DATA)
    if answers and not can(
        actor, Action.CONFIRM_ELIGIBILITY, study_id=patient.study_id, site_id=patient.site_id
    ):
        raise PermissionRefused(
            "Only an investigator may answer investigator-confirmed criteria; "
            "evaluate without answers to check the automatic criteria.",
            field="answers",
        )
    patient = lock_patient(patient)
    if patient.is_voided:
        raise Conflict("The patient record is voided.", field=None)
    if patient.status not in PRE_ALLOCATION:
        raise Conflict(
            f"Eligibility is settled once a patient is allocated (status '{patient.status}').",
            field=None,
        )
    evaluated_on = evaluated_on or timezone.localdate()
    check_move_date(patient, evaluated_on, field="evaluated_on")
    protocol: ProtocolVersion | None = patient.study.current_protocol()
    if protocol is None:
        raise Conflict("The study has no protocol version loaded.", field="study")
    criteria = list(protocol.eligibility_criteria.order_by("order", "id"))
    previous = (
        EligibilityAssessment.objects.filter(patient=patient, protocol_version=protocol)
        .order_by("-id")
        .first()
    )
    merged, answered_by = _merged_answers(criteria, previous, answers, actor)
    codes = {code for c in criteria for code in _test_codes(c.rule)}
    facts = eligibility_facts(patient, evaluated_on, codes)
    outcome = evaluate_eligibility(
        [Criterion(c.code, c.kind, c.text, c.rule or None) for c in criteria], facts, merged
    )
    texts = {c.code: c.text for c in criteria}
    assessment = save_audited(
        EligibilityAssessment(
            patient=patient,
            protocol_version=protocol,
            evaluated_on=evaluated_on,
            evaluated_by=actor,
            status=outcome.status.value,
            eligible=outcome.eligible,
            answers=merged,
            answered_by=answered_by,
            criteria=[
                {
                    "code": r.code,
                    "kind": r.kind.value,
                    "text": texts[r.code],
                    "met": r.met,
                    "source": r.source.value,
                    "detail": r.detail,
                    "answered_by": answered_by.get(r.code),
                }
                for r in outcome.results
            ],
        ),
        actor=actor,
        reason=f"Eligibility evaluated: {outcome.status.value}",
    )
    _apply_outcome(actor, patient, assessment)
    return assessment


def _apply_outcome(actor, patient: Patient, assessment: EligibilityAssessment) -> None:
    target = STATUS_AFTER[assessment.status]
    reason = _status_reason(assessment)
    codes = assessment.failed_codes if target == PatientStatus.SCREEN_FAILED else []
    if target != patient.status:
        patient_move_status(
            actor=actor,
            patient=patient,
            to_status=target,
            on=assessment.evaluated_on,
            reason=reason,
            reason_codes=codes,
            via=Via.ELIGIBILITY,
        )
    elif (patient.status_reason, patient.status_reason_codes) != (reason, codes):
        # Same status, other grounds (e.g. a different criterion now fails): keep them current.
        patient.status_reason = reason
        patient.status_reason_codes = codes
        patient.version += 1
        save_audited(patient, actor=actor, reason=reason)
