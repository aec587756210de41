"""Dose records and dose adjustments as audited, versioned resources."""

from __future__ import annotations

from rest_framework import serializers

from dosing.models import AdjustmentReason, DoseAdjustment, DoseFrequency, DoseRecord
from dosing.services.adjustments import (
    dose_adjustment_create,
    dose_adjustment_update,
    dose_adjustment_void,
)
from dosing.services.records import dose_record_create, dose_record_update, dose_record_void
from findings.api.base import (
    AUDIT_FIELDS,
    ChangeFieldsMixin,
    PatientRecordSerializer,
    PatientRecordViewSet,
    patient_field,
    record_schema,
)
from labs.models import LabResult

RECORD_INPUT = ["start_date", "end_date", "dose_mg", "frequency", "given", "note"]


class DoseRecordSerializer(PatientRecordSerializer):
    regimen = serializers.CharField(source="regimen.code", read_only=True)

    class Meta:
        model = DoseRecord
        fields = [
            "id",
            "patient",
            "subject_id",
            "drug",
            "regimen",
            *RECORD_INPUT,
            "daily_mg",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields


class DoseRecordCreateSerializer(serializers.ModelSerializer):
    patient = patient_field()
    drug = serializers.CharField(help_text="A drug of the patient's arm, e.g. tacrolimus.")
    frequency = serializers.ChoiceField(choices=DoseFrequency.choices)

    class Meta:
        model = DoseRecord
        fields = ["patient", "drug", *RECORD_INPUT]


class DoseRecordUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    frequency = serializers.ChoiceField(choices=DoseFrequency.choices, required=False)

    class Meta:
        model = DoseRecord
        fields = [*RECORD_INPUT, "reason", "version"]


@record_schema(
    output=DoseRecordSerializer,
    create=DoseRecordCreateSerializer,
    update=DoseRecordUpdateSerializer,
)
class DoseRecordViewSet(PatientRecordViewSet):
    """Doses given (or held) per drug and period; no two records of a drug overlap."""

    queryset = DoseRecord.objects.select_related("patient", "regimen")
    output_serializer_class = DoseRecordSerializer
    create_serializer_class = DoseRecordCreateSerializer
    update_serializer_class = DoseRecordUpdateSerializer
    filterset_fields = ["patient", "drug", "is_voided", "given"]
    ordering_fields = ["start_date", "created_at"]
    ordering = ["patient", "drug", "start_date", "id"]

    def create_for(self, patient, data):
        return dose_record_create(actor=self.request.user, patient=patient, **data)

    def update_with(self, instance, changes, *, reason, version):
        return dose_record_update(
            actor=self.request.user,
            record=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return dose_record_void(
            actor=self.request.user, record=instance, reason=reason, expected_version=version
        )


def lab_result_by_id(result_id: int | None) -> LabResult | None:
    """The result with this id, or a placeholder the service refuses (no existence leak)."""
    if result_id is None:
        return None
    return LabResult.objects.filter(pk=result_id).first() or LabResult(pk=0, patient_id=0)


ADJUSTMENT_WHY = ["reason_code", "comment", "trough_result", "adverse_event_id"]
# An enum in the create request only; elsewhere a plain string, so the schema needs no
# project-wide enum name for "reason_code" (other resources use that name).
REASON_CODE_HELP = ", ".join(AdjustmentReason.values) + "."


class DoseAdjustmentSerializer(PatientRecordSerializer):
    reason_code = serializers.CharField(read_only=True, help_text=REASON_CODE_HELP)

    class Meta:
        model = DoseAdjustment
        fields = [
            "id",
            "patient",
            "subject_id",
            "drug",
            "effective_date",
            "previous_daily_mg",
            "new_daily_mg",
            *ADJUSTMENT_WHY,
            "closed_record",
            "opened_record",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields


def trough_result_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of the trough lab result behind it."
    )


class DoseAdjustmentCreateSerializer(serializers.Serializer):
    patient = patient_field()
    drug = serializers.CharField(help_text="A drug of the patient's arm, e.g. tacrolimus.")
    effective_date = serializers.DateField(required=False, help_text="Defaults to today.")
    new_daily_mg = serializers.DecimalField(max_digits=10, decimal_places=3)
    reason_code = serializers.ChoiceField(choices=AdjustmentReason.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    trough_result = trough_result_field()
    adverse_event_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class DoseAdjustmentUpdateSerializer(ChangeFieldsMixin, serializers.Serializer):
    reason_code = serializers.CharField(required=False, help_text=REASON_CODE_HELP)
    comment = serializers.CharField(required=False, allow_blank=True)
    trough_result = trough_result_field()
    adverse_event_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


@record_schema(
    output=DoseAdjustmentSerializer,
    create=DoseAdjustmentCreateSerializer,
    update=DoseAdjustmentUpdateSerializer,
)
class DoseAdjustmentViewSet(PatientRecordViewSet):
    """A new daily dose from a date, with its reason; ends the ongoing record, opens a new one."""

    queryset = DoseAdjustment.objects.select_related("patient")
    output_serializer_class = DoseAdjustmentSerializer
    create_serializer_class = DoseAdjustmentCreateSerializer
    update_serializer_class = DoseAdjustmentUpdateSerializer
    filterset_fields = ["patient", "drug", "is_voided", "reason_code"]
    ordering_fields = ["effective_date", "created_at"]
    ordering = ["patient", "drug", "effective_date", "id"]

    def create_for(self, patient, data):
        data["trough_result"] = lab_result_by_id(data.pop("trough_result", None))
        return dose_adjustment_create(actor=self.request.user, patient=patient, **data)

    def update_with(self, instance, changes, *, reason, version):
        if "trough_result" in changes:
            changes["trough_result"] = lab_result_by_id(changes["trough_result"])
        return dose_adjustment_update(
            actor=self.request.user,
            adjustment=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return dose_adjustment_void(
            actor=self.request.user, adjustment=instance, reason=reason, expected_version=version
        )
