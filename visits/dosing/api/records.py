"""Dose records and dose adjustments as audited, versioned resources."""

from __future__ import annotations

from rest_framework import serializers

from ecrf.api import (
    AUDIT_FIELDS,
    ChangeFieldsMixin,
    record_schema,
)
from visits.dosing.models import AdjustmentReason, DoseAdjustment, DoseFrequency, DoseRecord
from visits.dosing.services.adjustments import DOSE_ADJUSTMENT_WRITES
from visits.dosing.services.records import DOSE_RECORD_FIELDS, DOSE_RECORD_WRITES
from visits.labs.models import LabResult
from visits.record_api import (
    PatientRecordSerializer,
    PatientRecordViewSet,
    patient_field,
)
from visits.safety.models import AdverseEvent


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
            *DOSE_RECORD_FIELDS,
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
        fields = ["patient", "drug", *DOSE_RECORD_FIELDS]


class DoseRecordUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    frequency = serializers.ChoiceField(choices=DoseFrequency.choices, required=False)

    class Meta:
        model = DoseRecord
        fields = [*DOSE_RECORD_FIELDS, "reason", "version"]


@record_schema
class DoseRecordViewSet(PatientRecordViewSet):
    """Doses given (or held) per drug and period; no two records of a drug overlap."""

    queryset = DoseRecord.objects.select_related("patient", "regimen")
    output_serializer_class = DoseRecordSerializer
    create_serializer_class = DoseRecordCreateSerializer
    update_serializer_class = DoseRecordUpdateSerializer
    writes = DOSE_RECORD_WRITES
    filterset_fields = ["patient", "drug", "is_voided", "given"]
    ordering_fields = ["start_date", "created_at"]
    date_range_field = "start_date"
    ordering = ["patient", "drug", "start_date", "id"]


ADJUSTMENT_WHY = ["reason_code", "comment", "trough_result", "adverse_event_id"]
# An enum in the create request only; elsewhere a plain string, so the schema needs no
# project-wide enum name for "reason_code" (other resources use that name).
REASON_CODE_HELP = ", ".join(AdjustmentReason.values) + "."
ADVERSE_EVENT_HELP = "Id of an adverse event of this patient behind it."


class DoseAdjustmentSerializer(PatientRecordSerializer):
    reason_code = serializers.CharField(read_only=True, help_text=REASON_CODE_HELP)
    adverse_event_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=ADVERSE_EVENT_HELP
    )

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


def adverse_event_field() -> serializers.IntegerField:
    """`adverse_event_id` in the body; the service gets the event (`adverse_event`)."""
    return serializers.IntegerField(
        source="adverse_event",
        required=False,
        allow_null=True,
        min_value=1,
        help_text=ADVERSE_EVENT_HELP,
    )


class DoseAdjustmentCreateSerializer(serializers.Serializer):
    patient = patient_field()
    drug = serializers.CharField(help_text="A drug of the patient's arm, e.g. tacrolimus.")
    effective_date = serializers.DateField(required=False, help_text="Defaults to today.")
    new_daily_mg = serializers.DecimalField(max_digits=10, decimal_places=3)
    reason_code = serializers.ChoiceField(choices=AdjustmentReason.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    trough_result = trough_result_field()
    adverse_event_id = adverse_event_field()


class DoseAdjustmentUpdateSerializer(ChangeFieldsMixin, serializers.Serializer):
    reason_code = serializers.CharField(required=False, help_text=REASON_CODE_HELP)
    comment = serializers.CharField(required=False, allow_blank=True)
    trough_result = trough_result_field()
    adverse_event_id = adverse_event_field()


@record_schema
class DoseAdjustmentViewSet(PatientRecordViewSet):
    """A new daily dose from a date, with its reason; ends the ongoing record, opens a new one."""

    queryset = DoseAdjustment.objects.select_related("patient")
    output_serializer_class = DoseAdjustmentSerializer
    create_serializer_class = DoseAdjustmentCreateSerializer
    update_serializer_class = DoseAdjustmentUpdateSerializer
    writes = DOSE_ADJUSTMENT_WRITES
    references = {"trough_result": LabResult, "adverse_event": AdverseEvent}
    filterset_fields = ["patient", "drug", "is_voided", "reason_code"]
    ordering_fields = ["effective_date", "created_at"]
    date_range_field = "effective_date"
    ordering = ["patient", "drug", "effective_date", "id"]
