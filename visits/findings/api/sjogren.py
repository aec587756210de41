"""Sjögren's syndrome scores: ESSDAI (twelve domain levels) and ESSPRI (three items)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ecrf.api import (
    AUDIT_FIELDS,
    record_schema,
)
from ecrf.domain.scores import ESSDAI_DOMAINS, esspri_acceptable
from visits.findings.models import EssdaiAssessment, EsspriAssessment
from visits.findings.services.scores import (
    ESSDAI_ASSESSMENT_FIELDS,
    ESSDAI_ASSESSMENT_WRITES,
    ESSPRI_ASSESSMENT_FIELDS,
    ESSPRI_ASSESSMENT_WRITES,
)
from visits.record_api import (
    PatientRecordSerializer,
    PatientRecordViewSet,
    RecordAtVisitCreateSerializer,
    RecordAtVisitUpdateSerializer,
)


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
        fields = [
            "id",
            "patient",
            "subject_id",
            *ESSDAI_ASSESSMENT_FIELDS,
            "total",
            "activity",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields


class EssdaiAssessmentCreateSerializer(EssdaiLevelsAsIntegers, RecordAtVisitCreateSerializer):
    class Meta:
        model = EssdaiAssessment
        fields = ["patient", *ESSDAI_ASSESSMENT_FIELDS]


class EssdaiAssessmentUpdateSerializer(EssdaiLevelsAsIntegers, RecordAtVisitUpdateSerializer):
    class Meta:
        model = EssdaiAssessment
        fields = [*ESSDAI_ASSESSMENT_FIELDS, "reason", "version"]


@record_schema
class EssdaiAssessmentViewSet(PatientRecordViewSet):
    """ESSDAI: the activity level of each of the 12 domains; total (0–123) and class computed."""

    queryset = EssdaiAssessment.objects.select_related("patient")
    output_serializer_class = EssdaiAssessmentSerializer
    create_serializer_class = EssdaiAssessmentCreateSerializer
    update_serializer_class = EssdaiAssessmentUpdateSerializer
    writes = ESSDAI_ASSESSMENT_WRITES
    ordering_fields = ["assessed_on", "created_at"]
    date_range_field = "assessed_on"
    ordering = ["patient", "assessed_on", "id"]


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
            *ESSPRI_ASSESSMENT_FIELDS,
            "score",
            "acceptable",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_acceptable(self, record: EsspriAssessment) -> bool:
        return esspri_acceptable(record.score)


class EsspriAssessmentCreateSerializer(RecordAtVisitCreateSerializer):
    class Meta:
        model = EsspriAssessment
        fields = ["patient", *ESSPRI_ASSESSMENT_FIELDS]


class EsspriAssessmentUpdateSerializer(RecordAtVisitUpdateSerializer):
    class Meta:
        model = EsspriAssessment
        fields = [*ESSPRI_ASSESSMENT_FIELDS, "reason", "version"]


@record_schema
class EsspriAssessmentViewSet(PatientRecordViewSet):
    """ESSPRI: dryness, fatigue and pain (0–10 each); the score (their mean) computed."""

    queryset = EsspriAssessment.objects.select_related("patient")
    output_serializer_class = EsspriAssessmentSerializer
    create_serializer_class = EsspriAssessmentCreateSerializer
    update_serializer_class = EsspriAssessmentUpdateSerializer
    writes = ESSPRI_ASSESSMENT_WRITES
    ordering_fields = ["assessed_on", "created_at"]
    date_range_field = "assessed_on"
    ordering = ["patient", "assessed_on", "id"]
