"""Planned doses from the protocol's regimens, and the taper schedules derived from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Max

from ecrf.audit import save_audited
from ecrf.domain import dosing as rules
from ecrf.domain.units import round_half_up
from ecrf.exceptions import InvalidInput
from patients.models import Patient
from patients.services import check_patient_entry
from trials.models import Regimen
from visits.dosing.arm import arm_regimens
from visits.dosing.body_size import BASELINE, measurement
from visits.dosing.frequencies import administrations_per_day
from visits.dosing.models import DosePlan, TaperWeek

MG_PLACES = 4


@dataclass
class PlanDraft:
    """A plan computed from the current inputs, not yet stored."""

    regimen: Regimen
    values: dict
    taper: list[rules.TaperWeek] = field(default_factory=list)

    def same_as(self, plan: DosePlan | None) -> bool:
        if plan is None or plan.regimen_id != self.regimen.pk:
            return False
        stored_taper = [(week.week, week.daily_mg) for week in plan.taper_weeks.all()]
        return plan.rule == self.values["rule"] and stored_taper == [
            (week.week, week.daily_mg) for week in self.taper
        ]


def _body_size(patient: Patient, regimen: Regimen) -> dict:
    basis = regimen.dose_basis
    if basis == Regimen.DoseBasis.FIXED:
        return {"weight_kg": None, "height_cm": None, "weight_source": ""}
    weight_basis = regimen.weight_basis or BASELINE
    weight = measurement(patient, "weight_kg", weight_basis)
    height = (
        measurement(patient, "height_cm", weight_basis).value
        if basis == Regimen.DoseBasis.MG_PER_M2
        else None
    )
    source = f"{weight_basis} weight: {weight.source}"
    return {"weight_kg": weight.value, "height_cm": height, "weight_source": source}


def _per_period(
    regimen: Regimen, planned: rules.PlannedDose
) -> tuple[Decimal, Decimal | None, str]:
    """(mg per administration, mg per day or None for weekly, how they were derived)."""
    rounded = planned.rounded_mg
    per_day = administrations_per_day(regimen.frequency, field="regimen.frequency")
    if regimen.dose_period == Regimen.DosePeriod.DAY:
        if per_day is None:
            raise InvalidInput(
                f"A per-day dose needs a daily frequency, not {regimen.frequency!r}.",
                field="regimen.frequency",
            )
        # Rounded per administration by the rule when split; else the whole day is one.
        per_administration = round_half_up(planned.per_administration_mg or rounded, MG_PLACES)
        shown = f"{per_administration} mg {regimen.frequency}"
        return per_administration, rounded, shown if per_day == 1 else f"{shown} = {rounded} mg/day"
    daily = None if per_day is None else rounded * per_day
    shown = f"{rounded} mg {regimen.frequency}" + ("" if daily is None else f" = {daily} mg/day")
    return rounded, daily, shown


def _taper(regimen: Regimen, start_daily_mg: Decimal) -> tuple[list[rules.TaperWeek], str]:
    taper = regimen.taper
    # The protocol file must give the decrements (the loader requires `step_table`).
    steps = taper["step_table"]
    weeks = rules.generate_taper(
        start_daily_mg,
        taper["target_daily_mg"],
        full_dose_weeks=taper["full_dose_weeks"],
        taper_weeks=taper["taper_weeks"],
        step_table=steps,
        rounding_mg=taper["rounding_mg"],
    )
    table = "protocol step table"
    rule = (
        f"taper: {taper['full_dose_weeks']} weeks at {weeks[0].daily_mg} mg/day, then to "
        f"{taper['target_daily_mg']} mg/day over {taper['taper_weeks']} weeks ({table}): "
        + ", ".join(str(week.daily_mg) for week in weeks[taper["full_dose_weeks"] :])
    )
    return weeks, rule


def draft_plan(patient: Patient, regimen: Regimen) -> PlanDraft:
    """The dose the protocol gives this patient today, with its arithmetic."""
    body = _body_size(patient, regimen)
    formula = regimen.bsa_formula or rules.BsaFormula.MOSTELLER.value
    step = regimen.rounding_step_mg
    planned = rules.plan_dose(
        regimen.dose_basis,
        # Without the database's trailing zeros, so the rule reads "20 mg/m²", not "20.0000".
        round_half_up(regimen.dose_amount, MG_PLACES),
        weight_kg=body["weight_kg"],
        height_cm=body["height_cm"],
        bsa_formula=formula,
        rounding_step_mg=None if step is None else round_half_up(step, MG_PLACES),
        administrations_per_day=(
            administrations_per_day(regimen.frequency, field="regimen.frequency")
            if regimen.dose_period == Regimen.DosePeriod.DAY
            else None
        ),
    )
    per_administration, daily, schedule = _per_period(regimen, planned)
    rule = f"{planned.rule}; {regimen.get_dose_period_display()}: {schedule}"
    taper: list[rules.TaperWeek] = []
    if regimen.taper:
        if daily is None:
            raise InvalidInput("A taper needs a daily dose.", field="regimen.taper")
        taper, taper_rule = _taper(regimen, daily)
        rule = f"{rule}; {taper_rule}"
    values = {
        "regimen": regimen,
        "drug": regimen.drug,
        "dose_basis": regimen.dose_basis,
        "dose_amount": regimen.dose_amount,
        "dose_period": regimen.dose_period,
        "frequency": regimen.frequency,
        "rounding_step_mg": regimen.rounding_step_mg,
        **body,
        "bsa_m2": planned.bsa_m2,
        "bsa_formula": formula if regimen.dose_basis == Regimen.DoseBasis.MG_PER_M2 else "",
        "computed_mg": planned.computed_mg,
        "rounded_mg": planned.rounded_mg,
        "per_administration_mg": per_administration,
        "daily_mg": daily,
        "rule": rule,
    }
    return PlanDraft(regimen, values, taper)


def current_plans(patient: Patient) -> dict[str, DosePlan]:
    """The latest non-voided plan of each drug."""
    plans = (
        DosePlan.objects.filter(patient=patient, is_voided=False)
        .prefetch_related("taper_weeks")
        .order_by("drug", "plan_version")
    )
    return {plan.drug: plan for plan in plans}


def _why_replanned(previous: DosePlan | None, draft: PlanDraft) -> str:
    if previous is None:
        return "Initial plan from the protocol"
    changes = []
    for name, unit in (("weight_kg", "kg"), ("height_cm", "cm"), ("bsa_m2", "m²")):
        old, new = getattr(previous, name), draft.values[name]
        if old != new:
            changes.append(f"{name} {old} → {new} {unit}")
    if previous.regimen_id != draft.regimen.pk:
        changes.append("protocol regimen changed")
    if previous.rounded_mg != draft.values["rounded_mg"]:
        changes.append(f"dose {previous.rounded_mg} → {draft.values['rounded_mg']} mg")
    return "Re-planned: " + ("; ".join(changes) or "rule changed")


def _store(actor, patient: Patient, draft: PlanDraft, previous: DosePlan | None) -> DosePlan:
    reason = _why_replanned(previous, draft)
    # Voided plans keep their numbers: the next version follows the highest ever used.
    used = DosePlan.objects.filter(patient=patient, drug=draft.regimen.drug)
    last_version = used.aggregate(last=Max("plan_version"))["last"] or 0
    plan = DosePlan(
        patient=patient,
        plan_version=last_version + 1,
        reason=reason,
        **draft.values,
    )
    save_audited(plan, actor=actor, reason=reason)
    for week in draft.taper:
        save_audited(
            TaperWeek(plan=plan, week=week.week, daily_mg=week.daily_mg),
            actor=actor,
            reason="Taper generated with the plan",
        )
    return plan


@transaction.atomic
def dose_plans_create(*, actor, patient: Patient) -> list[DosePlan]:
    """Plans every regimen of the patient's arm; returns the plans it added.

    Idempotent: a regimen whose plan would come out the same as its current plan gets no new
    row. When an input changed (a new weight, another protocol version), the new plan is the
    next `plan_version` and the earlier one stays as it was.
    """
    check_patient_entry(actor, patient)
    # One planner at a time per patient, so two requests cannot both add version n + 1.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    current = current_plans(patient)
    created = []
    for regimen in arm_regimens(patient):
        draft = draft_plan(patient, regimen)
        previous = current.get(regimen.drug)
        if not draft.same_as(previous):
            created.append(_store(actor, patient, draft, previous))
    return created
