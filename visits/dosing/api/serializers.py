"""Output shapes of the patient-nested dosing views."""

from __future__ import annotations

from rest_framework import serializers

from visits.dosing.api.records import DoseAdjustmentSerializer, DoseRecordSerializer
from visits.dosing.models import DosePlan, TaperWeek, TitrationChoice, TitrationDecision

MG = {"max_digits": 14, "decimal_places": 4}


class TaperWeekSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaperWeek
        fields = ["week", "daily_mg"]
        read_only_fields = fields


class DosePlanSerializer(serializers.ModelSerializer):
    regimen = serializers.CharField(source="regimen.code", read_only=True)
    taper_weeks = TaperWeekSerializer(many=True, read_only=True)

    class Meta:
        model = DosePlan
        fields = [
            "id",
            "drug",
            "regimen",
            "plan_version",
            "dose_basis",
            "dose_amount",
            "dose_period",
            "frequency",
            "rounding_step_mg",
            "weight_kg",
            "weight_source",
            "height_cm",
            "bsa_m2",
            "bsa_formula",
            "computed_mg",
            "rounded_mg",
            "per_administration_mg",
            "daily_mg",
            "rule",
            "reason",
            "taper_weeks",
            "version",
            "is_voided",
            "created_at",
        ]
        read_only_fields = fields


class DosePlanningResultSerializer(serializers.Serializer):
    created = DosePlanSerializer(many=True, help_text="Plans added by this request.")
    current = DosePlanSerializer(many=True, help_text="The current plan of every drug.")


class WeekDeviationSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    planned_mg = serializers.DecimalField(**MG)
    actual_mg = serializers.DecimalField(**MG)
    deviation_percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class DoseDeviationSerializer(serializers.Serializer):
    planned_mg = serializers.DecimalField(**MG)
    actual_mg = serializers.DecimalField(**MG)
    deviation_percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    weeks = WeekDeviationSerializer(many=True)


class DrugSummarySerializer(serializers.Serializer):
    drug = serializers.CharField()
    plan_version = serializers.IntegerField(source="plan.plan_version", allow_null=True)
    cumulative_mg = serializers.DecimalField(**MG)
    cumulative_until = serializers.DateField()
    deviation = DoseDeviationSerializer(allow_null=True, help_text="Given against planned.")
    deviation_until = serializers.DateField(allow_null=True)


class TitrationDecisionSerializer(serializers.ModelSerializer):
    regimen = serializers.CharField(source="regimen.code", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)

    class Meta:
        model = TitrationDecision
        fields = [
            "id",
            "patient",
            "drug",
            "regimen",
            "trough_result",
            "trough_ng_ml",
            "trough_collected_at",
            "target_low",
            "target_high",
            "current_dose_record",
            "current_daily_mg",
            "action",
            "computed_daily_mg",
            "proposed_daily_mg",
            "arithmetic",
            "decision",
            "decided_daily_mg",
            "comment",
            "decided_by",
            "decided_at",
            "adjustment",
            "version",
            "is_voided",
        ]
        read_only_fields = fields


class DosingOverviewSerializer(serializers.Serializer):
    patient = serializers.IntegerField(source="patient.pk")
    subject_id = serializers.CharField(source="patient.subject_id")
    arm = serializers.CharField(source="patient.arm.code", allow_null=True, default=None)
    day1 = serializers.DateField(source="patient.day1", allow_null=True)
    plans = DosePlanSerializer(many=True, help_text="Every plan version, voided ones too.")
    dose_records = DoseRecordSerializer(source="records", many=True)
    adjustments = DoseAdjustmentSerializer(many=True)
    titration_decisions = TitrationDecisionSerializer(source="decisions", many=True)
    drugs = DrugSummarySerializer(many=True, help_text="Cumulative dose and deviation per drug.")


class TroughProposalSerializer(serializers.Serializer):
    drug = serializers.CharField(source="regimen.drug")
    regimen = serializers.CharField(source="regimen.code")
    trough_result = serializers.IntegerField(source="trough.pk")
    trough_ng_ml = serializers.DecimalField(source="trough.value_std", **MG)
    trough_collected_at = serializers.DateTimeField(source="trough.collected_at")
    target_low = serializers.DecimalField(max_digits=8, decimal_places=2)
    target_high = serializers.DecimalField(max_digits=8, decimal_places=2)
    target_unit = serializers.CharField(source="regimen.target_trough_unit")
    dose_record = serializers.IntegerField(source="current_record.pk")
    current_daily_mg = serializers.DecimalField(source="current_record.daily_mg", **MG)
    action = serializers.CharField(source="result.action.value")
    computed_daily_mg = serializers.DecimalField(source="result.computed_daily_mg", **MG)
    proposed_daily_mg = serializers.DecimalField(source="result.proposed_daily_mg", **MG)
    rounding_mg = serializers.DecimalField(**MG)
    max_daily_mg = serializers.DecimalField(allow_null=True, **MG)
    arithmetic = serializers.CharField(source="result.arithmetic")


class TitrationDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=TitrationChoice.choices)
    trough_result = serializers.IntegerField(help_text="`trough_result` of the proposal shown.")
    dose_record = serializers.IntegerField(help_text="`dose_record` of the proposal shown.")
    decided_daily_mg = serializers.DecimalField(
        max_digits=10,
        decimal_places=3,
        required=False,
        allow_null=True,
        help_text="Only with 'modify': the daily dose decided instead of the proposal.",
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required for modify/reject."
    )
    effective_date = serializers.DateField(
        required=False, help_text="When a changed dose starts; defaults to today."
    )
