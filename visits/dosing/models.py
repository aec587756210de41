"""Doses: what the protocol plans for a patient, what was given, and why it changed.

A plan is never overwritten: re-planning (a new weight, a new protocol version) adds a plan row
with the next `plan_version`, and the earlier rows stay as the record of what was planned then.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecrf.display import plain_number
from ecrf.models import AuditedModel, ClinicalRecord

MG = {"max_digits": 12, "decimal_places": 4}


class DosePlan(ClinicalRecord):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="dose_plans"
    )
    regimen = models.ForeignKey("trials.Regimen", on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=100)
    plan_version = models.PositiveIntegerField()
    # The protocol's rule as it was applied (copied so the plan reads on its own).
    dose_basis = models.CharField(max_length=20)
    dose_amount = models.DecimalField(max_digits=10, decimal_places=4)
    dose_period = models.CharField(max_length=20)
    frequency = models.CharField(max_length=20)
    rounding_step_mg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    # The patient's measurements the dose was computed from.
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_source = models.CharField(max_length=200, blank=True)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    bsa_m2 = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    bsa_formula = models.CharField(max_length=20, blank=True)
    # The result, in the protocol's dose period (per day or per administration).
    computed_mg = models.DecimalField(**MG)
    rounded_mg = models.DecimalField(**MG)
    per_administration_mg = models.DecimalField(**MG)
    daily_mg = models.DecimalField(
        **MG, null=True, blank=True, help_text="Empty for weekly administrations."
    )
    rule = models.TextField(help_text="The arithmetic, as shown to the investigator.")
    reason = models.TextField(help_text="Why this plan version was made.")

    class Meta:
        ordering = ["patient", "drug", "plan_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "drug", "plan_version"], name="dose_plan_version_unique"
            )
        ]

    def __str__(self) -> str:
        dose = plain_number(self.rounded_mg)
        return f"{self.patient} {self.drug} plan v{self.plan_version}: {dose} mg"


class TaperWeek(AuditedModel):
    """One week of a plan's generated taper: the daily dose planned for that week."""

    plan = models.ForeignKey(DosePlan, on_delete=models.PROTECT, related_name="taper_weeks")
    week = models.PositiveSmallIntegerField()
    daily_mg = models.DecimalField(max_digits=8, decimal_places=3)

    class Meta:
        ordering = ["plan", "week"]
        constraints = [models.UniqueConstraint(fields=["plan", "week"], name="taper_week_unique")]

    def __str__(self) -> str:
        return f"week {self.week}: {plain_number(self.daily_mg)} mg/day"


class DoseFrequency(models.TextChoices):
    QD = "qd", "once daily"
    BID = "bid", "twice daily"
    TID = "tid", "three times daily"
    QID = "qid", "four times daily"
    ONCE = "once", "single administration (e.g. one weekly infusion)"


class DoseRecord(ClinicalRecord):
    """A period of one constant dose of one drug; `given=False` records a hold."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="dose_records"
    )
    regimen = models.ForeignKey("trials.Regimen", on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Inclusive; empty = ongoing.")
    dose_mg = models.DecimalField(max_digits=10, decimal_places=3, help_text="Per administration.")
    frequency = models.CharField(max_length=10, choices=DoseFrequency.choices)
    daily_mg = models.DecimalField(max_digits=10, decimal_places=3, editable=False)
    given = models.BooleanField(default=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["patient", "drug", "start_date", "pk"]
        indexes = [models.Index(fields=["patient", "drug", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="dose_record_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(dose_mg__gte=0), name="dose_record_dose_ge_0"
            ),
        ]

    def __str__(self) -> str:
        until = self.end_date or "ongoing"
        daily = plain_number(self.daily_mg)
        return f"{self.patient} {self.drug} {daily} mg/day {self.start_date}–{until}"


class AdjustmentReason(models.TextChoices):
    TROUGH_OUT_OF_RANGE = "trough_out_of_range", "Trough out of range"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    WEIGHT_CHANGE = "weight_change", "Weight change"
    TAPER_STEP = "taper_step", "Taper step"
    INVESTIGATOR_DECISION = "investigator_decision", "Investigator decision"
    OTHER = "other", "Other"


class DoseAdjustment(ClinicalRecord):
    """A change of a drug's daily dose: the dose record it closed and the one it opened."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="dose_adjustments"
    )
    regimen = models.ForeignKey("trials.Regimen", on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=100)
    effective_date = models.DateField()
    previous_daily_mg = models.DecimalField(max_digits=10, decimal_places=3)
    new_daily_mg = models.DecimalField(max_digits=10, decimal_places=3)
    reason_code = models.CharField(max_length=30, choices=AdjustmentReason.choices)
    comment = models.TextField(blank=True)
    trough_result = models.ForeignKey(
        "labs.LabResult", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adverse_event = models.ForeignKey(
        "safety.AdverseEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_record = models.ForeignKey(
        DoseRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_record = models.ForeignKey(
        DoseRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "drug", "effective_date", "pk"]

    def __str__(self) -> str:
        return (
            f"{self.patient} {self.drug} {plain_number(self.previous_daily_mg)} → "
            f"{plain_number(self.new_daily_mg)} mg/day "
            f"from {self.effective_date}"
        )


class TitrationChoice(models.TextChoices):
    ACCEPT = "accept", "Accept the proposal"
    MODIFY = "modify", "Give another dose"
    REJECT = "reject", "Keep the current dose"


class TitrationDecision(ClinicalRecord):
    """A trough-guided proposal exactly as shown, and what the investigator decided."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="titration_decisions"
    )
    regimen = models.ForeignKey("trials.Regimen", on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=100)
    trough_result = models.ForeignKey("labs.LabResult", on_delete=models.PROTECT, related_name="+")
    trough_ng_ml = models.DecimalField(max_digits=14, decimal_places=4)
    trough_collected_at = models.DateTimeField()
    target_low = models.DecimalField(max_digits=8, decimal_places=2)
    target_high = models.DecimalField(max_digits=8, decimal_places=2)
    current_dose_record = models.ForeignKey(DoseRecord, on_delete=models.PROTECT, related_name="+")
    current_daily_mg = models.DecimalField(max_digits=10, decimal_places=3)
    action = models.CharField(max_length=10, help_text="increase, decrease or maintain")
    computed_daily_mg = models.DecimalField(max_digits=12, decimal_places=4)
    proposed_daily_mg = models.DecimalField(max_digits=10, decimal_places=3)
    arithmetic = models.TextField()
    decision = models.CharField(max_length=10, choices=TitrationChoice.choices)
    decided_daily_mg = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    adjustment = models.OneToOneField(
        DoseAdjustment, null=True, blank=True, on_delete=models.PROTECT, related_name="decision"
    )

    class Meta:
        ordering = ["patient", "decided_at", "pk"]

    def __str__(self) -> str:
        return f"{self.patient} {self.drug}: {self.decision} ({self.arithmetic})"
