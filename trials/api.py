from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from ecrf.api import ScopedReadMixin
from trials.models import (
    Arm,
    EligibilityCriterion,
    EndpointDefinition,
    ProtocolVersion,
    Regimen,
    Site,
    Study,
    VisitDefinition,
)
from trials.selectors import studies_with_design


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "code", "name", "city", "country", "is_active"]


class ArmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Arm
        fields = ["id", "code", "name", "arm_type", "allocation_ratio", "description"]


class VisitDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitDefinition
        fields = ["code", "name", "day_offset", "window_before", "window_after"]


class EligibilityCriterionSerializer(serializers.ModelSerializer):
    source = serializers.CharField(read_only=True)

    class Meta:
        model = EligibilityCriterion
        fields = ["code", "kind", "text", "source", "rule"]


class RegimenSerializer(serializers.ModelSerializer):
    arm = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Regimen
        fields = [
            "code",
            "arm",
            "drug",
            "dose_basis",
            "dose_amount",
            "dose_period",
            "max_dose_amount",
            "frequency",
            "route",
            "duration_days",
            "administrations",
            "weight_basis",
            "bsa_formula",
            "rounding_step_mg",
            "target_trough_low",
            "target_trough_high",
            "target_trough_unit",
            "taper",
            "notes",
        ]


class EndpointDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = EndpointDefinition
        fields = [
            "code",
            "name",
            "kind",
            "is_primary",
            "time_point_day",
            "parameters",
            "description",
        ]


class AssumptionSerializer(serializers.Serializer):
    """A parameter the registry text does not state, what it governs and where it comes from."""

    code = serializers.CharField()
    parameter = serializers.CharField()
    value = serializers.CharField()
    source = serializers.CharField()


class DiagnosisSerializer(serializers.Serializer):
    """A diagnosis the study enrols; patients are screened with one of these codes."""

    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class ProtocolVersionSerializer(serializers.ModelSerializer):
    assumptions = serializers.SerializerMethodField()
    diagnoses = serializers.SerializerMethodField()
    visit_definitions = VisitDefinitionSerializer(many=True, read_only=True)
    eligibility_criteria = EligibilityCriterionSerializer(many=True, read_only=True)
    regimens = RegimenSerializer(many=True, read_only=True)
    endpoint_definitions = EndpointDefinitionSerializer(many=True, read_only=True)

    class Meta:
        model = ProtocolVersion
        fields = [
            "number",
            "label",
            "effective_date",
            "summary_of_changes",
            "content_hash",
            "response_criteria",
            "ctcae_excluded_terms",
            "visit_definitions",
            "eligibility_criteria",
            "regimens",
            "endpoint_definitions",
            "assumptions",
            "diagnoses",
        ]

    @extend_schema_field(AssumptionSerializer(many=True))
    def get_assumptions(self, version) -> list[dict]:
        return AssumptionSerializer(version.assumptions, many=True).data

    @extend_schema_field(DiagnosisSerializer(many=True))
    def get_diagnoses(self, version) -> list[dict]:
        """Empty when the study records no diagnosis; else one is required at screening."""
        return DiagnosisSerializer(version.diagnoses, many=True).data


class ProtocolVersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProtocolVersion
        fields = ["number", "label", "effective_date", "summary_of_changes"]


class StudySerializer(serializers.ModelSerializer):
    sites = SiteSerializer(many=True, read_only=True)
    arms = ArmSerializer(many=True, read_only=True)
    protocol_versions = ProtocolVersionSummarySerializer(many=True, read_only=True)
    current_protocol_version = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = [
            "id",
            "registry_id",
            "title",
            "short_title",
            "phase",
            "design",
            "masking",
            "status",
            "ctcae_version",
            "target_enrollment",
            "conditions",
            "sponsor",
            "start_date",
            "randomization_scheme",
            "sites",
            "arms",
            "protocol_versions",
            "current_protocol_version",
        ]

    @extend_schema_field(ProtocolVersionSerializer(allow_null=True))
    def get_current_protocol_version(self, study) -> dict | None:
        # protocol_versions are prefetched in number order: the last one is current.
        versions = list(study.protocol_versions.all())
        return ProtocolVersionSerializer(versions[-1]).data if versions else None


class StudyViewSet(ScopedReadMixin, viewsets.ReadOnlyModelViewSet):
    """Studies you have a role in, with their design and current protocol version.

    The design changes only through protocol files (`manage.py load_protocol`), which keeps every
    version; it is read-only here.
    """

    serializer_class = StudySerializer
    queryset = Study.objects.all()
    filterset_fields = ["registry_id", "design", "status"]
    site_field = None

    def get_queryset(self):
        return studies_with_design(self.request.user)

    def study_and_site_of(self, instance):
        return instance.pk, None
