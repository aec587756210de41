"""The trough-guided dose proposal: its inputs, read from the record, and its arithmetic.

Decision support only: `ecrf.domain.dosing.propose_trough_titration` does the arithmetic; this
module finds its inputs (the protocol's target range, the dose being given, the latest trough)
and says which one is missing when a proposal cannot be made.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from ecrf.domain import dosing as rules
from ecrf.domain.units import round_half_up
from ecrf.exceptions import InvalidInput
from patients.models import Patient
from trials.models import Regimen
from visits.dosing.arm import regimen_for_drug
from visits.dosing.frequencies import administrations_per_day
from visits.dosing.models import DoseRecord
from visits.labs.models import LabResult

TROUGH_TEST_CODES = {"tacrolimus": "TACRO"}
TROUGH_UNIT = "ng/mL"
DEFAULT_ROUNDING_MG = Decimal("0.5")  # the smallest tacrolimus capsule
PLACES = 4


@dataclass(frozen=True)
class TroughProposal:
    regimen: Regimen
    trough: LabResult
    current_record: DoseRecord
    target_low: Decimal
    target_high: Decimal
    rounding_mg: Decimal
    max_daily_mg: Decimal | None
    result: rules.TitrationProposal


def _regimen_with_target(patient: Patient, drug: str) -> Regimen:
    regimen = regimen_for_drug(patient, drug, field="regimen")
    if regimen.target_trough_low is None or regimen.target_trough_high is None:
        raise InvalidInput(
            f"The protocol sets no trough target for {regimen.drug} in this arm: "
            "no trough-guided proposal.",
            field="regimen",
        )
    return regimen


def current_dose_record(patient: Patient, drug: str) -> DoseRecord:
    today = timezone.localdate()
    record = (
        DoseRecord.objects.filter(
            patient=patient, drug=drug, is_voided=False, given=True, start_date__lte=today
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .order_by("-start_date")
        .first()
    )
    if record is None:
        raise InvalidInput(
            f"No current {drug} dose (a given dose record covering today): "
            "enter the dose being given first.",
            field="current_dose",
        )
    return record


def latest_trough(patient: Patient, drug: str, current: DoseRecord) -> LabResult:
    test_code = TROUGH_TEST_CODES[drug]
    trough = (
        LabResult.objects.filter(patient=patient, test_code=test_code, is_voided=False)
        .order_by("-collected_at", "-pk")
        .first()
    )
    if trough is None:
        raise InvalidInput(f"No {test_code} trough result for this patient.", field="trough")
    if trough.unit_std != TROUGH_UNIT:
        raise InvalidInput(
            f"The latest trough is in {trough.unit_std!r}, not {TROUGH_UNIT}.", field="trough"
        )
    collected_on = timezone.localdate(trough.collected_at)
    # A trough taken before the current dose started reflects the previous dose: proposing
    # from it would adjust twice for the same measurement.
    if collected_on < current.start_date:
        raise InvalidInput(
            f"The latest trough ({collected_on.isoformat()}) predates the current dose "
            f"(from {current.start_date.isoformat()}): measure a trough on the current dose.",
            field="trough",
        )
    return trough


def max_daily_dose(regimen: Regimen) -> Decimal | None:
    if regimen.max_dose_amount is None:
        return None
    if regimen.dose_period == Regimen.DosePeriod.DAY:
        return regimen.max_dose_amount
    per_day = administrations_per_day(regimen.frequency, field="regimen.frequency")
    return None if per_day is None else regimen.max_dose_amount * per_day


def trough_proposal(patient: Patient, drug: str = "tacrolimus") -> TroughProposal:
    """The next dose proposed from the latest trough; 400 naming what is missing."""
    regimen = _regimen_with_target(patient, drug)
    current = current_dose_record(patient, regimen.drug)
    trough = latest_trough(patient, drug, current)
    rounding = regimen.rounding_step_mg or DEFAULT_ROUNDING_MG
    maximum = max_daily_dose(regimen)
    # Without the database's trailing zeros, so the arithmetic reads "÷ 2 ng/mL", not "2.0000".
    result = rules.propose_trough_titration(
        round_half_up(current.daily_mg, PLACES),
        round_half_up(trough.value_std, PLACES),
        round_half_up(regimen.target_trough_low, PLACES),
        round_half_up(regimen.target_trough_high, PLACES),
        rounding_mg=round_half_up(rounding, PLACES),
        max_daily_mg=None if maximum is None else round_half_up(maximum, PLACES),
    )
    return TroughProposal(
        regimen=regimen,
        trough=trough,
        current_record=current,
        target_low=regimen.target_trough_low,
        target_high=regimen.target_trough_high,
        rounding_mg=rounding,
        max_daily_mg=maximum,
        result=result,
    )
