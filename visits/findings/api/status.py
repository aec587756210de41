"""ECOG performance status and vital signs."""

from __future__ import annotations

from ecrf.api import (
    AUDIT_FIELDS,
    record_schema,
)
from visits.findings.models import EcogAssessment, VitalSigns
from visits.findings.services.ecog import ECOG_ASSESSMENT_FIELDS, ECOG_ASSESSMENT_WRITES
from visits.findings.services.vitals import VITAL_SIGNS_FIELDS, VITAL_SIGNS_WRITES
from visits.record_api import (
    PatientRecordSerializer,
    PatientRecordViewSet,
    RecordAtVisitCreateSerializer,
    RecordAtVisitUpdateSerializer,
)


class EcogAssessmentSerializer(PatientRecordSerializer):
    class Meta:
        model = EcogAssessment
        fields = ["id", "patient", "subject_id", *ECOG_ASSESSMENT_FIELDS, *AUDIT_FIELDS]
        read_only_fields = fields


class EcogAssessmentCreateSerializer(RecordAtVisitCreateSerializer):
    class Meta:
        model = EcogAssessment
        fields = ["patient", *ECOG_ASSESSMENT_FIELDS]


class EcogAssessmentUpdateSerializer(RecordAtVisitUpdateSerializer):
    class Meta:
        model = EcogAssessment
        fields = [*ECOG_ASSESSMENT_FIELDS, "reason", "version"]


@record_schema
class EcogAssessmentViewSet(PatientRecordViewSet):
    """ECOG performance status (0–5)."""

    queryset = EcogAssessment.objects.select_related("patient")
    output_serializer_class = EcogAssessmentSerializer
    create_serializer_class = EcogAssessmentCreateSerializer
    update_serializer_class = EcogAssessmentUpdateSerializer
    writes = ECOG_ASSESSMENT_WRITES
    ordering_fields = ["assessed_on", "created_at"]
    date_range_field = "assessed_on"
    ordering = ["patient", "assessed_on", "id"]


class VitalSignsSerializer(PatientRecordSerializer):
    class Meta:
        model = VitalSigns
        fields = ["id", "patient", "subject_id", *VITAL_SIGNS_FIELDS, *AUDIT_FIELDS]
        read_only_fields = fields


class VitalSignsCreateSerializer(RecordAtVisitCreateSerializer):
    class Meta:
        model = VitalSigns
        fields = ["patient", *VITAL_SIGNS_FIELDS]


class VitalSignsUpdateSerializer(RecordAtVisitUpdateSerializer):
    class Meta:
        model = VitalSigns
        fields = [*VITAL_SIGNS_FIELDS, "reason", "version"]


@record_schema
class VitalSignsViewSet(PatientRecordViewSet):
    """Blood pressure, heart rate, temperature, weight and height, with plausibility ranges."""

    queryset = VitalSigns.objects.select_related("patient")
    output_serializer_class = VitalSignsSerializer
    create_serializer_class = VitalSignsCreateSerializer
    update_serializer_class = VitalSignsUpdateSerializer
    writes = VITAL_SIGNS_WRITES
    ordering_fields = ["measured_on", "created_at"]
    date_range_field = "measured_on"
    ordering = ["patient", "measured_on", "id"]
