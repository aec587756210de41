"""Dose adjustments: a new daily dose of a drug from a date, with the reason for it.

An adjustment ends the ongoing dose record the day before it takes effect and opens a record at
the new dose, in one transaction, through the dose-record services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ecrf.audit import save_audited
from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.records import PatientRecordRules, patient_record_void
from patients.services import check_not_before, check_not_future, check_patient_entry
from trials.models import Regimen
from visits.dosing.arm import check_randomized, regimen_for_drug
from visits.dosing.frequencies import administrations_per_day
from visits.dosing.models import AdjustmentReason, DoseAdjustment, DoseRecord
from visits.dosing.services.records import dose_record_create, dose_record_update, lock_patient
from visits.labs.models import LabResult
from visits.safety.models import AdverseEvent

TROUGH_TEST_CODE = "TACRO"
ADJUSTMENT_REASON_FIELDS = ("reason_code", "comment", "trough_result", "adverse_event")
DOSE_PLACES = Decimal("0.001")


def ongoing_record(patient: Patient, drug: str) -> DoseRecord | None:
    """The open-ended record of `drug`: the dose being given now (or held)."""
    return (
        DoseRecord.objects.filter(patient=patient, drug=drug, is_voided=False, end_date=None)
        .order_by("-start_date")
        .first()
    )


def _check_reason(values: dict) -> None:
    if values["reason_code"] not in AdjustmentReason.values:
        raise InvalidInput(f"One of {', '.join(AdjustmentReason.values)}.", field="reason_code")
    if values["reason_code"] == AdjustmentReason.OTHER and not values["comment"].strip():
        raise InvalidInput("Explain an adjustment for 'other' reasons.", field="comment")


def _check_trough(patient: Patient, trough: LabResult | None) -> None:
    if trough is None:
        return
    if trough.patient_id != patient.pk or trough.is_voided or trough.test_code != TROUGH_TEST_CODE:
        raise InvalidInput(
            f"Unknown {TROUGH_TEST_CODE} result for this patient.", field="trough_result"
        )


def _check_adverse_event(patient: Patient, event: AdverseEvent | None) -> None:
    if event is None:
        return
    if event.patient_id != patient.pk or event.is_voided:
        raise InvalidInput("Unknown adverse event for this patient.", field="adverse_event_id")


def _validated_why(patient: Patient, values: dict) -> dict:
    """The why of an adjustment: its reason code (explained if 'other') and what it cites."""
    _check_reason(values)
    _check_trough(patient, values["trough_result"])
    _check_adverse_event(patient, values["adverse_event"])
    return values


ADJUSTMENT_RULES = PatientRecordRules(DoseAdjustment, ADJUSTMENT_REASON_FIELDS, _validated_why)


def _split(new_daily_mg: Decimal, record: DoseRecord) -> Decimal:
    """The dose per administration giving `new_daily_mg` on the record's schedule."""
    per_day = administrations_per_day(record.frequency) or 1
    per_administration = (new_daily_mg / per_day).quantize(DOSE_PLACES)
    if per_administration * per_day != new_daily_mg:
        raise InvalidInput(
            f"{new_daily_mg} mg/day does not split into {per_day} equal administrations.",
            field="new_daily_mg",
        )
    return per_administration


def adjust_dose(
    *,
    actor,
    patient: Patient,
    regimen: Regimen,
    effective_date: dt.date,
    new_daily_mg: Decimal,
    reason_code: str,
    comment: str = "",
    trough_result: LabResult | None = None,
    adverse_event: AdverseEvent | None = None,
) -> DoseAdjustment:
    """Closes the ongoing record and opens one at the new dose. Caller holds the patient lock."""
    why = {
        "reason_code": reason_code,
        "comment": comment,
        "trough_result": trough_result,
        "adverse_event": adverse_event,
    }
    _validated_why(patient, why)
    check_not_future(effective_date, "effective_date")
    check_not_before(effective_date, patient.day1, "effective_date", "day 1")
    if new_daily_mg <= 0:
        raise InvalidInput(
            "The new daily dose must be above 0 mg; record a hold or close the record instead.",
            field="new_daily_mg",
        )
    current = ongoing_record(patient, regimen.drug)
    if current is None:
        raise InvalidInput(
            f"No ongoing {regimen.drug} dose record to adjust; enter the current dose first.",
            field="drug",
        )
    if effective_date <= current.start_date:
        raise InvalidInput(
            f"Must be after the start of the ongoing record ({current.start_date.isoformat()}).",
            field="effective_date",
        )
    previous_daily = current.daily_mg if current.given else Decimal(0)
    if current.given and new_daily_mg == previous_daily:
        raise InvalidInput(
            f"{new_daily_mg} mg/day is the current dose: nothing to adjust.", field="new_daily_mg"
        )
    per_administration = _split(new_daily_mg, current)
    label = AdjustmentReason(reason_code).label
    closed = dose_record_update(
        actor=actor,
        record=current,
        changes={"end_date": effective_date - dt.timedelta(days=1)},
        reason=f"Ended by a dose adjustment ({label})",
        expected_version=current.version,
    )
    opened = dose_record_create(
        actor=actor,
        patient=patient,
        drug=regimen.drug,
        start_date=effective_date,
        dose_mg=per_administration,
        frequency=current.frequency,
        note=f"Dose adjustment: {label}",
        reason=f"Opened by a dose adjustment ({label})",
    )
    adjustment = DoseAdjustment(
        patient=patient,
        regimen=regimen,
        drug=regimen.drug,
        effective_date=effective_date,
        previous_daily_mg=previous_daily,
        new_daily_mg=new_daily_mg,
        **why,
        closed_record=closed,
        opened_record=opened,
    )
    return save_audited(adjustment, actor=actor, reason=f"Dose adjusted: {label}")


@transaction.atomic
def dose_adjustment_create(
    *,
    actor,
    patient: Patient,
    drug: str,
    new_daily_mg: Decimal,
    reason_code: str,
    effective_date: dt.date | None = None,
    comment: str = "",
    trough_result: LabResult | None = None,
    adverse_event: AdverseEvent | None = None,
) -> DoseAdjustment:
    check_patient_entry(actor, patient)
    patient = lock_patient(patient)
    check_randomized(patient)
    return adjust_dose(
        actor=actor,
        patient=patient,
        regimen=regimen_for_drug(patient, drug),
        effective_date=effective_date or timezone.localdate(),
        new_daily_mg=new_daily_mg,
        reason_code=reason_code,
        comment=comment,
        trough_result=trough_result,
        adverse_event=adverse_event,
    )


@transaction.atomic
def dose_adjustment_update(
    *,
    actor,
    adjustment: DoseAdjustment,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> DoseAdjustment:
    """Corrects the why (reason code, comment, linked trough or adverse event), not the doses:
    those live in the dose records, corrected there."""
    return ADJUSTMENT_RULES.update(
        adjustment, actor=actor, changes=changes, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def dose_adjustment_void(
    *, actor, adjustment: DoseAdjustment, reason: str | None, expected_version: int | None
) -> DoseAdjustment:
    """Voids the adjustment entry; the dose records it closed and opened stay as they are."""
    return patient_record_void(
        adjustment, actor=actor, reason=reason, expected_version=expected_version
    )


DOSE_ADJUSTMENT_WRITES = RecordWrites(
    create=dose_adjustment_create,
    update=dose_adjustment_update,
    void=dose_adjustment_void,
    record="adjustment",
)
