"""Bleeding assessments and rescue/concomitant therapies."""

from __future__ import annotations

from rest_framework import serializers

from ecrf.api import (
    AUDIT_FIELDS,
    ChangeFieldsMixin,
    record_schema,
)
from visits.findings.models import BleedingAssessment, RescueTherapy
from visits.findings.services.bleeding import BLEEDING_ASSESSMENT_FIELDS, BLEEDING_ASSESSMENT_WRITES
from visits.findings.services.rescue import RESCUE_THERAPY_FIELDS, RESCUE_THERAPY_WRITES
from visits.record_api import (
    PatientRecordSerializer,
    PatientRecordViewSet,
    RecordAtVisitCreateSerializer,
    RecordAtVisitUpdateSerializer,
    patient_field,
)


class BleedingAssessmentSerializer(PatientRecordSerializer):
    class Meta:
        model = BleedingAssessment
        fields = ["id", "patient", "subject_id", *BLEEDING_ASSESSMENT_FIELDS, "smog", *AUDIT_FIELDS]
        read_only_fields = fields


class BleedingAssessmentCreateSerializer(RecordAtVisitCreateSerializer):
    class Meta:
        model = BleedingAssessment
        fields = ["patient", *BLEEDING_ASSESSMENT_FIELDS]


class BleedingAssessmentUpdateSerializer(RecordAtVisitUpdateSerializer):
    class Meta:
        model = BleedingAssessment
        fields = [*BLEEDING_ASSESSMENT_FIELDS, "reason", "version"]


@record_schema
class BleedingAssessmentViewSet(PatientRecordViewSet):
    """WHO bleeding grade (0–4) with optional ITP-BAT domain grades; SMOG code derived."""

    queryset = BleedingAssessment.objects.select_related("patient")
    output_serializer_class = BleedingAssessmentSerializer
    create_serializer_class = BleedingAssessmentCreateSerializer
    update_serializer_class = BleedingAssessmentUpdateSerializer
    writes = BLEEDING_ASSESSMENT_WRITES
    filterset_fields = ["patient", "is_voided", "who_grade"]
    ordering_fields = ["assessed_at", "created_at"]
    date_range_field = "assessed_at"
    ordering = ["patient", "assessed_at", "id"]


# The kind's choices are an enum in the create request only; elsewhere a plain string, so the
# schema does not need a project-wide enum name for "kind" (other resources use that name).
KIND_HELP = "rescue or concomitant."


class RescueTherapySerializer(PatientRecordSerializer):
    kind = serializers.CharField(read_only=True, help_text=KIND_HELP)

    class Meta:
        model = RescueTherapy
        fields = ["id", "patient", "subject_id", *RESCUE_THERAPY_FIELDS, *AUDIT_FIELDS]
        read_only_fields = fields


class RescueTherapyCreateSerializer(serializers.ModelSerializer):
    patient = patient_field()

    class Meta:
        model = RescueTherapy
        fields = ["patient", *RESCUE_THERAPY_FIELDS]


class RescueTherapyUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    kind = serializers.CharField(required=False, help_text=KIND_HELP)

    class Meta:
        model = RescueTherapy
        fields = [*RESCUE_THERAPY_FIELDS, "reason", "version"]


@record_schema
class RescueTherapyViewSet(PatientRecordViewSet):
    """Rescue and concomitant therapies; `itp_directed` ones count against a response."""

    queryset = RescueTherapy.objects.select_related("patient")
    output_serializer_class = RescueTherapySerializer
    create_serializer_class = RescueTherapyCreateSerializer
    update_serializer_class = RescueTherapyUpdateSerializer
    writes = RESCUE_THERAPY_WRITES
    filterset_fields = ["patient", "is_voided", "kind", "itp_directed"]
    ordering_fields = ["started_at", "created_at"]
    date_range_field = "started_at"
    ordering = ["patient", "started_at", "id"]
