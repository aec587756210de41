"""Writes on patients. Each service runs in one transaction and records who and why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ecrf.access import Action, can
from ecrf.audit import require_reason, save_audited, update_audited, void_audited
from ecrf.domain.diagnoses import diagnosis_problem
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from ecrf.locking import take_turns
from ecrf.record_writes import RecordWrites
from patients.models import Consent, ExitReason, Patient
from patients.selectors import UNKNOWN_PATIENT
from patients.status_machine import CODED_REASON_TARGETS, Via, move_allowed, next_statuses
from trials.models import ProtocolVersion, Site, Study

# Plausibility limits for adults' body size; values outside are typing errors, not patients.
HEIGHT_RANGE_CM = (Decimal("100"), Decimal("250"))
WEIGHT_RANGE_KG = (Decimal("25"), Decimal("300"))


def check_body_size(*, height_cm: Decimal | None, weight_kg: Decimal | None) -> None:
    if height_cm is not None and not HEIGHT_RANGE_CM[0] <= height_cm <= HEIGHT_RANGE_CM[1]:
        raise InvalidInput(
            f"Height must be between {HEIGHT_RANGE_CM[0]} and {HEIGHT_RANGE_CM[1]} cm.",
            field="height_cm",
        )
    if weight_kg is not None and not WEIGHT_RANGE_KG[0] <= weight_kg <= WEIGHT_RANGE_KG[1]:
        raise InvalidInput(
            f"Weight must be between {WEIGHT_RANGE_KG[0]} and {WEIGHT_RANGE_KG[1]} kg.",
            field="weight_kg",
        )


def check_diagnosis(protocol_version: ProtocolVersion, code: str | None) -> None:
    """Required and one of the declared codes when the protocol declares diagnoses; empty
    otherwise (400 naming `diagnosis`)."""
    problem = diagnosis_problem(protocol_version.diagnoses, code)
    if problem is not None:
        raise InvalidInput(problem, field="diagnosis")


def check_not_future(value: dt.date | None, field: str) -> None:
    if value is not None and value > timezone.localdate():
        raise InvalidInput("Must not be in the future.", field=field)


def check_not_before(value: dt.date | None, earliest: dt.date, field: str, what: str) -> None:
    if value is not None and value < earliest:
        raise InvalidInput(f"Must not be before {what} ({earliest.isoformat()}).", field=field)


def check_patient_access(actor, patient: Patient, action: Action) -> None:
    """403 unless the actor's role allows `action` for this patient."""
    if not can(actor, action, study_id=patient.study_id, site_id=patient.site_id):
        raise PermissionRefused(f"Your role does not allow '{action.value}' for this patient.")


def check_patient_entry(actor, patient: Patient, action: Action = Action.ENTER_DATA) -> None:
    """A voided patient, or one the actor may not see, is a 400 naming `patient` (the two look
    the same); then 403 unless the role allows `action` (entering data by default)."""
    if patient.is_voided or not can(
        actor, Action.VIEW, study_id=patient.study_id, site_id=patient.site_id
    ):
        raise InvalidInput(UNKNOWN_PATIENT, field="patient")
    check_patient_access(actor, patient, action)


def check_patient_open(patient: Patient) -> None:
    if patient.is_voided:
        raise InvalidInput("The patient record is voided.", field="patient")


def lock_patient(patient: Patient) -> Patient:
    """The patient row, locked until the end of the transaction: moves of one patient queue.

    Only the patient's own row (`of=("self",)`): the study and site are read along, not locked,
    so writes for other patients of the study never wait for this one."""
    return (
        Patient.objects.select_for_update(of=("self",))
        .select_related("study", "site")
        .get(pk=patient.pk)
    )


def check_site_access(actor, study: Study, site: Site, action: Action) -> None:
    """Unknown and foreign sites look the same to the caller (no confirmation of existence)."""
    if site.study_id != study.pk or not can(actor, Action.VIEW, study_id=study.pk, site_id=site.pk):
        raise InvalidInput("Unknown site for this study.", field="site")
    if not can(actor, action, study_id=study.pk, site_id=site.pk):
        raise PermissionRefused(f"Your role does not allow '{action.value}' at this site.")


@transaction.atomic
def patient_create(
    *,
    actor,
    study: Study,
    site: Site,
    sex: str,
    birth_date: dt.date,
    height_cm: Decimal,
    weight_kg: Decimal,
    screened_on: dt.date | None = None,
    diagnosis: str = "",
) -> Patient:
    check_site_access(actor, study, site, Action.ENTER_DATA)
    if not site.is_active:
        raise InvalidInput("The site is closed for screening.", field="site")
    check_not_future(birth_date, "birth_date")
    screened_on = screened_on or timezone.localdate()
    check_not_future(screened_on, "screened_on")
    if birth_date >= screened_on:
        raise InvalidInput("Must be before the screening date.", field="birth_date")
    check_body_size(height_cm=height_cm, weight_kg=weight_kg)
    protocol = study.current_protocol()
    if protocol is None:
        raise InvalidInput("The study has no protocol version loaded.", field="study")
    check_diagnosis(protocol, diagnosis)

    # Concurrent screenings at one site take turns here, so subject numbers are handed out one
    # at a time (the unique constraint on site_sequence is the backstop). No row lock on the
    # site: that would also hold up every other write referencing it.
    take_turns("subject-number", site.pk)
    last = Patient.objects.filter(site=site).aggregate(last=Max("site_sequence"))["last"] or 0
    sequence = last + 1
    patient = Patient(
        study=study,
        site=site,
        site_sequence=sequence,
        subject_id=f"{site.code}-{sequence:04d}",
        sex=sex,
        birth_date=birth_date,
        height_cm=height_cm,
        weight_kg=weight_kg,
        diagnosis=diagnosis or "",
        screened_on=screened_on,
        protocol_version=protocol,
    )
    return save_audited(patient, actor=actor, reason="Patient screened")


@transaction.atomic
def patient_update(
    *,
    actor,
    patient: Patient,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> Patient:
    """Corrects demographics (reason and the version read required); the status moves only
    through `patient_move_status`."""
    check_patient_access(actor, patient, Action.ENTER_DATA)
    check_not_future(changes.get("birth_date"), "birth_date")
    check_body_size(height_cm=changes.get("height_cm"), weight_kg=changes.get("weight_kg"))
    if "diagnosis" in changes:
        check_diagnosis(patient.protocol_version, changes["diagnosis"])
    return update_audited(
        patient, changes=changes, actor=actor, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def patient_move_status(
    *,
    actor,
    patient: Patient,
    to_status: str,
    on: dt.date,
    reason: str,
    reason_codes: list[str] | None = None,
    via: Via = Via.MANUAL,
    changes: dict | None = None,
    history_note: str | None = None,
) -> Patient:
    """The one way a patient's status changes: checked against the status machine, dated,
    with its reason, written as one audited change (with any `changes` that go with it, such as
    the arm and day 1 of an allocation)."""
    patient = lock_patient(patient)
    if patient.is_voided:
        raise Conflict("The patient record is voided.", field=None)
    if not move_allowed(patient.status, to_status, via):
        allowed = ", ".join(next_statuses(patient.status, via)) or "none"
        raise Conflict(
            f"A patient in status '{patient.status}' cannot move to '{to_status}' this way "
            f"(possible: {allowed}).",
            field="status",
        )
    check_move_date(patient, on)
    patient.status = to_status
    patient.status_changed_on = on
    patient.status_reason = reason.strip()
    patient.status_reason_codes = list(reason_codes or [])
    for name, value in (changes or {}).items():
        setattr(patient, name, value)
    patient.version += 1
    note = history_note or f"Status {to_status}: {patient.status_reason}"
    return save_audited(patient, actor=actor, reason=note)


def check_move_date(patient: Patient, on: dt.date, field: str = "on") -> None:
    check_not_future(on, field)
    if on < patient.screened_on:
        raise InvalidInput(
            f"Must not be before the screening date ({patient.screened_on}).", field=field
        )
    if patient.status_changed_on and on < patient.status_changed_on:
        raise InvalidInput(
            f"Must not be before the patient's last status change ({patient.status_changed_on}).",
            field=field,
        )


def patient_change_status(
    *,
    actor,
    patient: Patient,
    to_status: str,
    on: dt.date,
    reason: str,
    reason_code: str | None = None,
) -> Patient:
    """A status move requested by site staff: treatment start, follow-up, completion,
    withdrawal, or the end of a screening for a reason that is not a criterion."""
    check_patient_access(actor, patient, Action.ENTER_DATA)
    reason = require_reason(reason)
    codes: list[str] = []
    if to_status in CODED_REASON_TARGETS:
        if not reason_code:
            raise InvalidInput(
                f"A coded reason is required for '{to_status}' "
                f"(one of {', '.join(ExitReason.values)}).",
                field="reason_code",
            )
        if reason_code not in ExitReason.values:
            raise InvalidInput(
                f"Unknown reason code (one of {', '.join(ExitReason.values)}).",
                field="reason_code",
            )
        codes = [reason_code]
    elif reason_code:
        raise InvalidInput(
            f"A coded reason belongs only to {', '.join(sorted(CODED_REASON_TARGETS))}.",
            field="reason_code",
        )
    return patient_move_status(
        actor=actor,
        patient=patient,
        to_status=to_status,
        on=on,
        reason=reason,
        reason_codes=codes,
        via=Via.MANUAL,
    )


@transaction.atomic
def patient_void(*, actor, patient: Patient, reason: str | None, expected_version) -> Patient:
    """Voids a patient entered in error; an allocated patient stays (intention to treat)."""
    check_patient_access(actor, patient, Action.VOID)
    patient = lock_patient(patient)
    if patient.arm_id is not None:
        raise Conflict(
            "An allocated patient cannot be voided: they stay in the analysis. "
            "Record a withdrawal instead.",
            field=None,
        )
    return void_audited(patient, actor=actor, reason=reason, expected_version=expected_version)


@transaction.atomic
def consent_record(
    *, actor, patient: Patient, consented_at: dt.date, consent_version: str
) -> Consent:
    check_patient_access(actor, patient, Action.ENTER_DATA)
    patient = lock_patient(patient)
    if patient.is_voided:
        raise Conflict("The patient record is voided.", field=None)
    check_not_future(consented_at, "consented_at")
    if consented_at <= patient.birth_date:
        raise InvalidInput("Must be after the birth date.", field="consented_at")
    study_start = patient.study.start_date
    if study_start is not None and consented_at < study_start:
        raise InvalidInput(
            f"Must not be before the study started ({study_start.isoformat()}).",
            field="consented_at",
        )
    consent_version = (consent_version or "").strip()
    if not consent_version:
        raise InvalidInput("Name the version of the consent form signed.", field="consent_version")
    consent = Consent(patient=patient, consented_at=consented_at, consent_version=consent_version)
    return save_audited(consent, actor=actor, reason=f"Consent {consent_version} recorded")


PATIENT_WRITES = RecordWrites(
    create=patient_create, update=patient_update, void=patient_void, record="patient"
)
