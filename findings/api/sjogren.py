"""Sjögren's syndrome scores: ESSDAI (twelve domain levels) and ESSPRI (three items)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from domain.scores import ESSDAI_DOMAINS, esspri_acceptable
from findings.api.base import (
    AUDIT_FIELDS,
    ChangeFieldsMixin,
    PatientRecordSerializer,
    PatientRecordViewSet,
    patient_field,
    record_schema,
    visit_field,
)
from findings.models import EssdaiAssessment, EsspriAssessment
from findings.services.scores import (
    ESSPRI_ITEMS,
    essdai_assessment_create,
    essdai_assessment_update,
    essdai_assessment_void,
    esspri_assessment_create,
    esspri_assessment_update,
    esspri_assessment_void,
)

ESSDAI_INPUT = ["visit", "assessed_on", *ESSDAI_DOMAINS]


class EssdaiLevelsAsIntegers:
    """Domain levels as integers (0–3, allowed levels in the help text), not as enums: several
    domains share a level set, and one enum per domain would name the same set many times."""

    def build_standard_field(self, field_name, model_field):
        if field_name in ESSDAI_DOMAINS:
            domain = ESSDAI_DOMAINS[field_name]
            allowed = ", ".join(str(level) for level in domain.levels)
            return serializers.IntegerField, {
                "min_value": 0,
                "max_value": max(domain.levels),
                "help_text": f"Activity level, one of {allowed} (weight {domain.weight}).",
            }
        return super().build_standard_field(field_name, model_field)


class EssdaiAssessmentSerializer(EssdaiLevelsAsIntegers, PatientRecordSerializer):
    class Meta:
        model = EssdaiAssessment
        fields = ["id", "patient", "subject_id", *ESSDAI_INPUT, "total", "activity", *AUDIT_FIELDS]
        read_only_fields = fields


class EssdaiAssessmentCreateSerializer(EssdaiLevelsAsIntegers, serializers.ModelSerializer):
    patient = patient_field()
    visit = visit_field()

    class Meta:
        model = EssdaiAssessment
        fields = ["patient", *ESSDAI_INPUT]


class EssdaiAssessmentUpdateSerializer(
    EssdaiLevelsAsIntegers, ChangeFieldsMixin, serializers.ModelSerializer
):
    visit = visit_field()

    class Meta:
        model = EssdaiAssessment
        fields = [*ESSDAI_INPUT, "reason", "version"]


@record_schema(
    output=EssdaiAssessmentSerializer,
    create=EssdaiAssessmentCreateSerializer,
    update=EssdaiAssessmentUpdateSerializer,
)
class EssdaiAssessmentViewSet(PatientRecordViewSet):
    """ESSDAI: the activity level of each of the 12 domains; total (0–123) and class computed."""

    queryset = EssdaiAssessment.objects.select_related("patient")
    output_serializer_class = EssdaiAssessmentSerializer
    create_serializer_class = EssdaiAssessmentCreateSerializer
    update_serializer_class = EssdaiAssessmentUpdateSerializer
    ordering_fields = ["assessed_on", "created_at"]
    ordering = ["patient", "assessed_on", "id"]

    def create_for(self, patient, data):
        visit, assessed_on = data.pop("visit", None), data.pop("assessed_on")
        return essdai_assessment_create(
            actor=self.request.user,
            patient=patient,
            assessed_on=assessed_on,
            levels=data,
            visit=visit,
        )

    def update_with(self, instance, changes, *, reason, version):
        return essdai_assessment_update(
            actor=self.request.user,
            assessment=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return essdai_assessment_void(
            actor=self.request.user, assessment=instance, reason=reason, expected_version=version
        )


ESSPRI_INPUT = ["visit", "assessed_on", *ESSPRI_ITEMS]


class EsspriAssessmentSerializer(PatientRecordSerializer):
    acceptable = serializers.SerializerMethodField(
        help_text="Patient-acceptable symptom state: score below 5."
    )

    class Meta:
        model = EsspriAssessment
        fields = [
            "id",
            "patient",
            "subject_id",
            *ESSPRI_INPUT,
            "score",
            "acceptable",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_acceptable(self, record: EsspriAssessment) -> bool:
        return esspri_acceptable(record.score)


class EsspriAssessmentCreateSerializer(serializers.ModelSerializer):
    patient = patient_field()
    visit = visit_field()

    class Meta:
        model = EsspriAssessment
        fields = ["patient", *ESSPRI_INPUT]


class EsspriAssessmentUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    visit = visit_field()

    class Meta:
        model = EsspriAssessment
        fields = [*ESSPRI_INPUT, "reason", "version"]


@record_schema(
    output=EsspriAssessmentSerializer,
    create=EsspriAssessmentCreateSerializer,
    update=EsspriAssessmentUpdateSerializer,
)
class EsspriAssessmentViewSet(PatientRecordViewSet):
    """ESSPRI: dryness, fatigue and pain (0–10 each); the score (their mean) computed."""

    queryset = EsspriAssessment.objects.select_related("patient")
    output_serializer_class = EsspriAssessmentSerializer
    create_serializer_class = EsspriAssessmentCreateSerializer
    update_serializer_class = EsspriAssessmentUpdateSerializer
    ordering_fields = ["assessed_on", "created_at"]
    ordering = ["patient", "assessed_on", "id"]

    def create_for(self, patient, data):
        return esspri_assessment_create(actor=self.request.user, patient=patient, **data)

    def update_with(self, instance, changes, *, reason, version):
        return esspri_assessment_update(
            actor=self.request.user,
            assessment=instance,
            changes=changes,
            reason=reason,
            expected_version=version,
        )

    def void_with(self, instance, *, reason, version):
        return esspri_assessment_void(
            actor=self.request.user, assessment=instance, reason=reason, expected_version=version
        )
