"""Dose records: periods of one constant dose of one drug, given or held.

Endpoint assessment depends on doses given: every write of a dose record goes through exactly
one of the three public functions below (adjustments call them too), so a recomputation can
be hooked in one place each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from ecrf.audit import save_audited, update_audited
from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.records import locked_for_change, merged, patient_record_void
from patients.services import check_not_before, check_not_future, check_patient_entry
from visits.dosing.arm import check_randomized, regimen_for_drug
from visits.dosing.frequencies import ONCE, daily_dose
from visits.dosing.models import DoseFrequency, DoseRecord

DOSE_RECORD_FIELDS = ("start_date", "end_date", "dose_mg", "frequency", "given", "note")


def lock_patient(patient: Patient) -> Patient:
    """Dose writes of one patient queue here, so overlap checks cannot race each other."""
    return Patient.objects.select_for_update().get(pk=patient.pk)


def _check_dates(patient: Patient, values: dict) -> dict:
    start, end = values["start_date"], values["end_date"]
    check_not_future(start, "start_date")
    check_not_future(end, "end_date")
    check_not_before(start, patient.day1, "start_date", "day 1")
    if values["frequency"] == ONCE:
        if end is not None and end != start:
            raise InvalidInput("A single administration ends on its start date.", field="end_date")
        return {**values, "end_date": start}
    if end is not None and end < start:
        raise InvalidInput(f"Must not be before the start ({start.isoformat()}).", field="end_date")
    return values


def _check_dose(values: dict) -> None:
    dose: Decimal = values["dose_mg"]
    if dose < 0:
        raise InvalidInput("A dose must not be negative.", field="dose_mg")
    if values["given"] and dose == 0:
        raise InvalidInput(
            "A given dose must be above 0 mg; record a hold with given=false.", field="dose_mg"
        )
    if values["frequency"] not in DoseFrequency.values:
        raise InvalidInput(f"One of {', '.join(DoseFrequency.values)}.", field="frequency")


def _check_no_overlap(patient: Patient, drug: str, values: dict, own_pk: int | None) -> None:
    start, end = values["start_date"], values["end_date"]
    others = DoseRecord.objects.filter(patient=patient, drug=drug, is_voided=False)
    overlapping = others.exclude(pk=own_pk).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start)
    )
    if end is not None:
        overlapping = overlapping.filter(start_date__lte=end)
    clash = overlapping.order_by("start_date").first()
    if clash is not None:
        until = clash.end_date.isoformat() if clash.end_date else "ongoing"
        raise InvalidInput(
            f"Overlaps the {drug} record {clash.start_date.isoformat()} – {until} "
            f"(id {clash.pk}); one record per drug and day: close or correct that one first.",
            field="start_date",
        )


def _validated(patient: Patient, drug: str, values: dict, own_pk: int | None = None) -> dict:
    _check_dose(values)
    values = _check_dates(patient, values)
    _check_no_overlap(patient, drug, values, own_pk)
    daily = daily_dose(values["dose_mg"], values["frequency"])
    return {**values, "daily_mg": daily}


@transaction.atomic
def dose_record_create(
    *,
    actor,
    patient: Patient,
    drug: str,
    start_date: dt.date,
    dose_mg: Decimal,
    frequency: str,
    end_date: dt.date | None = None,
    given: bool = True,
    note: str = "",
    reason: str = "Dose record entered",
) -> DoseRecord:
    check_patient_entry(actor, patient)
    patient = lock_patient(patient)
    check_randomized(patient)
    regimen = regimen_for_drug(patient, drug)
    values = _validated(
        patient,
        regimen.drug,
        {
            "start_date": start_date,
            "end_date": end_date,
            "dose_mg": dose_mg,
            "frequency": frequency,
            "given": given,
            "note": note,
        },
    )
    record = DoseRecord(patient=patient, regimen=regimen, drug=regimen.drug, **values)
    return save_audited(record, actor=actor, reason=reason)


@transaction.atomic
def dose_record_update(
    *,
    actor,
    record: DoseRecord,
    changes: dict,
    reason: str | None,
    expected_version: int | None,
) -> DoseRecord:
    check_patient_entry(actor, record.patient)
    patient = lock_patient(record.patient)
    locked = locked_for_change(record, reason=reason, expected_version=expected_version)
    values = _validated(
        patient, locked.drug, merged(locked, changes, DOSE_RECORD_FIELDS), own_pk=locked.pk
    )
    return update_audited(
        locked, changes=values, actor=actor, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def dose_record_void(
    *, actor, record: DoseRecord, reason: str | None, expected_version: int | None
) -> DoseRecord:
    return patient_record_void(
        record, actor=actor, reason=reason, expected_version=expected_version
    )


DOSE_RECORD_WRITES = RecordWrites(
    create=dose_record_create, update=dose_record_update, void=dose_record_void, record="record"
)
