"""ECOG performance status and vital signs."""

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
from findings.models import EcogAssessment, VitalSigns
from findings.services.ecog import (
    ecog_assessment_create,
    ecog_assessment_update,
    ecog_assessment_void,
)
from findings.services.vitals import (
    MEASUREMENTS,
    vital_signs_create,
    vital_signs_update,
    vital_signs_void,
)

ECOG_INPUT = ["visit", "assessed_on", "score"]


class EcogAssessmentSerializer(PatientRecordSerializer):
    class Meta:
        model = EcogAssessment
        fields = ["id", "patient", "subject_id", *ECOG_INPUT, *AUDIT_FIELDS]
        read_only_fields = fields


class EcogAssessmentCreateSerializer(serializers.ModelSerializer):
    patient = patient_field()
    visit = visit_field()

    class Meta:
        model = EcogAssessment
        fields = ["patient", *ECOG_INPUT]


class EcogAssessmentUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    visit = visit_field()

    class Meta:
        model = EcogAssessment
        fields = [*ECOG_INPUT, "reason", "version"]


@record_schema(
    output=EcogAssessmentSerializer,
    create=EcogAssessmentCreateSerializer,
    update=EcogAssessmentUpdateSerializer,
)
class EcogAssessmentViewSet(PatientRecordViewSet):
    """ECOG performance status (0–5)."""

    queryset = EcogAssessment.objects.select_related("patient")
    output_serializer_class = EcogAssessmentSerializer
    create_serializer_class = EcogAssessmentCreateSerializer
    update_serializer_class = EcogAssessmentUpdateSerializer
    ordering_fields = ["assessed_on", "created_at"]
    ordering = ["patient", "assessed_on", "id"]

    def create_for(self, patient, data):
        return ecog_assessment_create(actor=self.request.user, patient=patient, **data)

    def update_with(self, instance, changes, *, reason, version):
        return ecog_assessment_update(
            actor=self.request.user,
            assessment=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return ecog_assessment_void(
            actor=self.request.user, assessment=instance, reason=reason, expected_version=version
        )


VITALS_INPUT = ["visit", "measured_on", *MEASUREMENTS]


class VitalSignsSerializer(PatientRecordSerializer):
    class Meta:
        model = VitalSigns
        fields = ["id", "patient", "subject_id", *VITALS_INPUT, *AUDIT_FIELDS]
        read_only_fields = fields


class VitalSignsCreateSerializer(serializers.ModelSerializer):
    patient = patient_field()
    visit = visit_field()

    class Meta:
        model = VitalSigns
        fields = ["patient", *VITALS_INPUT]


class VitalSignsUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    visit = visit_field()

    class Meta:
        model = VitalSigns
        fields = [*VITALS_INPUT, "reason", "version"]


@record_schema(
    output=VitalSignsSerializer,
    create=VitalSignsCreateSerializer,
    update=VitalSignsUpdateSerializer,
)
class VitalSignsViewSet(PatientRecordViewSet):
    """Blood pressure, heart rate, temperature, weight and height, with plausibility ranges."""

    queryset = VitalSigns.objects.select_related("patient")
    output_serializer_class = VitalSignsSerializer
    create_serializer_class = VitalSignsCreateSerializer
    update_serializer_class = VitalSignsUpdateSerializer
    ordering_fields = ["measured_on", "created_at"]
    ordering = ["patient", "measured_on", "id"]

    def create_for(self, patient, data):
        return vital_signs_create(actor=self.request.user, patient=patient, **data)

    def update_with(self, instance, changes, *, reason, version):
        return vital_signs_update(
            actor=self.request.user,
            vitals=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return vital_signs_void(
            actor=self.request.user, vitals=instance, reason=reason, expected_version=version
        )
