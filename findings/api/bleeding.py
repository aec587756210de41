"""Bleeding assessments and rescue/concomitant therapies."""

from __future__ import annotations

from rest_framework import serializers

from findings.api.base import (
    AUDIT_FIELDS,
    ChangeFieldsMixin,
    PatientRecordSerializer,
    PatientRecordViewSet,
    patient_field,
    record_schema,
    visit_field,
)
from findings.models import BleedingAssessment, RescueTherapy
from findings.services.bleeding import (
    bleeding_assessment_create,
    bleeding_assessment_update,
    bleeding_assessment_void,
)
from findings.services.rescue import (
    rescue_therapy_create,
    rescue_therapy_update,
    rescue_therapy_void,
)

BLEEDING_INPUT = [
    "visit",
    "assessed_at",
    "who_grade",
    "itp_bat_skin",
    "itp_bat_mucosal",
    "itp_bat_organ",
    "notes",
]


class BleedingAssessmentSerializer(PatientRecordSerializer):
    class Meta:
        model = BleedingAssessment
        fields = ["id", "patient", "subject_id", *BLEEDING_INPUT, "smog", *AUDIT_FIELDS]
        read_only_fields = fields


class BleedingAssessmentCreateSerializer(serializers.ModelSerializer):
    patient = patient_field()
    visit = visit_field()

    class Meta:
        model = BleedingAssessment
        fields = ["patient", *BLEEDING_INPUT]


class BleedingAssessmentUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    visit = visit_field()

    class Meta:
        model = BleedingAssessment
        fields = [*BLEEDING_INPUT, "reason", "version"]


@record_schema(
    output=BleedingAssessmentSerializer,
    create=BleedingAssessmentCreateSerializer,
    update=BleedingAssessmentUpdateSerializer,
)
class BleedingAssessmentViewSet(PatientRecordViewSet):
    """WHO bleeding grade (0–4) with optional ITP-BAT domain grades; SMOG code derived."""

    queryset = BleedingAssessment.objects.select_related("patient")
    output_serializer_class = BleedingAssessmentSerializer
    create_serializer_class = BleedingAssessmentCreateSerializer
    update_serializer_class = BleedingAssessmentUpdateSerializer
    filterset_fields = ["patient", "is_voided", "who_grade"]
    ordering_fields = ["assessed_at", "created_at"]
    ordering = ["patient", "assessed_at", "id"]

    def create_for(self, patient, data):
        return bleeding_assessment_create(actor=self.request.user, patient=patient, **data)

    def update_with(self, instance, changes, *, reason, version):
        return bleeding_assessment_update(
            actor=self.request.user,
            assessment=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return bleeding_assessment_void(
            actor=self.request.user, assessment=instance, reason=reason, expected_version=version
        )


RESCUE_INPUT = ["started_at", "stopped_at", "therapy", "itp_directed", "kind", "indication"]


# The kind's choices are an enum in the create request only; elsewhere a plain string, so the
# schema does not need a project-wide enum name for "kind" (other resources use that name).
KIND_HELP = "rescue or concomitant."


class RescueTherapySerializer(PatientRecordSerializer):
    kind = serializers.CharField(read_only=True, help_text=KIND_HELP)

    class Meta:
        model = RescueTherapy
        fields = ["id", "patient", "subject_id", *RESCUE_INPUT, *AUDIT_FIELDS]
        read_only_fields = fields


class RescueTherapyCreateSerializer(serializers.ModelSerializer):
    patient = patient_field()

    class Meta:
        model = RescueTherapy
        fields = ["patient", *RESCUE_INPUT]


class RescueTherapyUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    kind = serializers.CharField(required=False, help_text=KIND_HELP)

    class Meta:
        model = RescueTherapy
        fields = [*RESCUE_INPUT, "reason", "version"]


@record_schema(
    output=RescueTherapySerializer,
    create=RescueTherapyCreateSerializer,
    update=RescueTherapyUpdateSerializer,
)
class RescueTherapyViewSet(PatientRecordViewSet):
    """Rescue and concomitant therapies; `itp_directed` ones count against a response."""

    queryset = RescueTherapy.objects.select_related("patient")
    output_serializer_class = RescueTherapySerializer
    create_serializer_class = RescueTherapyCreateSerializer
    update_serializer_class = RescueTherapyUpdateSerializer
    filterset_fields = ["patient", "is_voided", "kind", "itp_directed"]
    ordering_fields = ["started_at", "created_at"]
    ordering = ["patient", "started_at", "id"]

    def create_for(self, patient, data):
        return rescue_therapy_create(actor=self.request.user, patient=patient, **data)

    def update_with(self, instance, changes, *, reason, version):
        return rescue_therapy_update(
            actor=self.request.user,
            therapy=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return rescue_therapy_void(
            actor=self.request.user, therapy=instance, reason=reason, expected_version=version
        )
