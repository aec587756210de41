"""Vital signs, with plausibility ranges (values outside them are typing errors)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.records import PatientRecordRules, patient_record_void
from patients.services import check_body_size, check_not_future
from visits.findings.models import VitalSigns
from visits.findings.scales import (
    DIASTOLIC_RANGE_MMHG,
    HEART_RATE_RANGE_BPM,
    SYSTOLIC_RANGE_MMHG,
    TEMPERATURE_RANGE_C,
)
from visits.models import Visit
from visits.services import check_visit_of_patient

MEASUREMENTS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "temperature_c",
    "weight_kg",
    "height_cm",
)
VITAL_SIGNS_FIELDS = ("visit", "measured_on", *MEASUREMENTS)
RANGES = {
    "systolic_mmhg": (SYSTOLIC_RANGE_MMHG, "mmHg"),
    "diastolic_mmhg": (DIASTOLIC_RANGE_MMHG, "mmHg"),
    "heart_rate_bpm": (HEART_RATE_RANGE_BPM, "/min"),
    "temperature_c": (TEMPERATURE_RANGE_C, "°C"),
}


def _validated(patient: Patient, values: dict) -> dict:
    check_visit_of_patient(values["visit"], patient)
    check_not_future(values["measured_on"], "measured_on")
    if all(values[name] is None for name in MEASUREMENTS):
        raise InvalidInput(
            "Enter at least one measurement (blood pressure, heart rate, temperature, weight "
            "or height).",
            field="systolic_mmhg",
        )
    for name, ((low, high), unit) in RANGES.items():
        value = values[name]
        if value is not None and not low <= value <= high:
            raise InvalidInput(f"Must be between {low} and {high} {unit}.", field=name)
    systolic, diastolic = values["systolic_mmhg"], values["diastolic_mmhg"]
    if (systolic is None) != (diastolic is None):
        missing = "systolic_mmhg" if systolic is None else "diastolic_mmhg"
        raise InvalidInput("Blood pressure needs both systolic and diastolic.", field=missing)
    if systolic is not None and diastolic >= systolic:
        raise InvalidInput("Must be below the systolic pressure.", field="diastolic_mmhg")
    check_body_size(height_cm=values["height_cm"], weight_kg=values["weight_kg"])
    return values


VITAL_SIGNS_RULES = PatientRecordRules(VitalSigns, VITAL_SIGNS_FIELDS, _validated)


@transaction.atomic
def vital_signs_create(
    *,
    actor,
    patient: Patient,
    measured_on: dt.date,
    systolic_mmhg: int | None = None,
    diastolic_mmhg: int | None = None,
    heart_rate_bpm: int | None = None,
    temperature_c: Decimal | None = None,
    weight_kg: Decimal | None = None,
    height_cm: Decimal | None = None,
    visit: Visit | None = None,
) -> VitalSigns:
    values = {
        "visit": visit,
        "measured_on": measured_on,
        "systolic_mmhg": systolic_mmhg,
        "diastolic_mmhg": diastolic_mmhg,
        "heart_rate_bpm": heart_rate_bpm,
        "temperature_c": temperature_c,
        "weight_kg": weight_kg,
        "height_cm": height_cm,
    }
    return VITAL_SIGNS_RULES.create(
        actor=actor, patient=patient, values=values, reason="Vital signs entered"
    )


@transaction.atomic
def vital_signs_update(
    *, actor, vitals: VitalSigns, changes: dict, reason: str | None, expected_version: int | None
) -> VitalSigns:
    return VITAL_SIGNS_RULES.update(
        vitals, actor=actor, changes=changes, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def vital_signs_void(
    *, actor, vitals: VitalSigns, reason: str | None, expected_version: int | None
) -> VitalSigns:
    return patient_record_void(
        vitals, actor=actor, reason=reason, expected_version=expected_version
    )


VITAL_SIGNS_WRITES = RecordWrites(
    create=vital_signs_create, update=vital_signs_update, void=vital_signs_void, record="vitals"
)
