"""Reads of a patient's dosing: plans, records, adjustments, cumulative dose and deviation.

A fixed number of queries whatever the number of records (one per table, plus the taper
weeks prefetched with the plans).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ecrf.domain import dosing as rules
from patients.models import Patient
from visits.dosing.frequencies import DAYS_PER_WEEK
from visits.dosing.models import DoseAdjustment, DosePlan, DoseRecord, TitrationDecision


@dataclass(frozen=True)
class DrugSummary:
    drug: str
    cumulative_mg: Decimal
    cumulative_until: dt.date
    plan: DosePlan | None
    deviation: rules.DoseDeviation | None
    deviation_until: dt.date | None


@dataclass(frozen=True)
class DosingOverview:
    patient: Patient
    plans: list[DosePlan]
    records: list[DoseRecord]
    adjustments: list[DoseAdjustment]
    decisions: list[TitrationDecision]
    drugs: list[DrugSummary]


def _as_rule_records(records: list[DoseRecord]) -> list[rules.DoseRecord]:
    return [
        rules.DoseRecord(record.start_date, record.end_date, record.daily_mg, record.given)
        for record in records
    ]


def _planned_weeks(plan: DosePlan) -> list[rules.TaperWeek] | Decimal:
    """The plan as daily doses week by week (what `dose_deviation` compares against)."""
    tapered = list(plan.taper_weeks.all())
    if tapered:
        return [rules.TaperWeek(week.week, week.daily_mg) for week in tapered]
    # A weekly administration counts as its dose spread over the seven days of its week.
    daily = plan.daily_mg if plan.daily_mg is not None else plan.per_administration_mg / 7
    duration = plan.regimen.duration_days
    if duration is None:
        return daily
    weeks = math.ceil(duration / DAYS_PER_WEEK)
    return [rules.TaperWeek(week, daily) for week in range(1, weeks + 1)]


def _deviation_until(plan: DosePlan, day1: dt.date, today: dt.date) -> dt.date | None:
    """Compared up to today, and never past the end of the planned treatment."""
    until = today
    if plan.regimen.duration_days is not None:
        until = min(until, day1 + dt.timedelta(days=plan.regimen.duration_days - 1))
    return until if until >= day1 else None


def _summary(
    drug: str, plan: DosePlan | None, records: list[DoseRecord], day1, today
) -> DrugSummary:
    given = _as_rule_records(records)
    deviation = until = None
    if plan is not None and day1 is not None:
        until = _deviation_until(plan, day1, today)
        if until is not None:
            deviation = rules.dose_deviation(_planned_weeks(plan), given, day1=day1, until=until)
    return DrugSummary(
        drug=drug,
        cumulative_mg=rules.cumulative_dose(given, until=today),
        cumulative_until=today,
        plan=plan,
        deviation=deviation,
        deviation_until=until,
    )


def dosing_overview(patient: Patient) -> DosingOverview:
    today = timezone.localdate()
    plans = list(
        DosePlan.objects.filter(patient=patient)
        .select_related("regimen")
        .prefetch_related("taper_weeks")
        .order_by("drug", "plan_version")
    )
    records = list(
        DoseRecord.objects.filter(patient=patient)
        .select_related("patient", "regimen")
        .order_by("drug", "start_date", "pk")
    )
    adjustments = list(
        DoseAdjustment.objects.filter(patient=patient)
        .select_related("patient")
        .order_by("drug", "effective_date", "pk")
    )
    decisions = list(
        TitrationDecision.objects.filter(patient=patient)
        .select_related("regimen", "decided_by")
        .order_by("decided_at", "pk")
    )
    current_plans = {plan.drug: plan for plan in plans if not plan.is_voided}
    live_records: dict[str, list[DoseRecord]] = {}
    for record in records:
        if not record.is_voided:
            live_records.setdefault(record.drug, []).append(record)
    drugs = sorted(set(current_plans) | set(live_records))
    summaries = [
        _summary(drug, current_plans.get(drug), live_records.get(drug, []), patient.day1, today)
        for drug in drugs
    ]
    return DosingOverview(patient, plans, records, adjustments, decisions, summaries)
