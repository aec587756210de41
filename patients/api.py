from __future__ import annotations

from rest_framework import serializers

from ecrf.api import AuditedRecordViewSet
from patients.models import Patient
from patients.services import check_body_size, check_not_future, patient_create
from trials.models import Site
from trials.selectors import visible_study


class PatientSerializer(serializers.ModelSerializer):
    study = serializers.SlugRelatedField(slug_field="registry_id", read_only=True)
    study_id = serializers.IntegerField(read_only=True)
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    site_id = serializers.IntegerField(read_only=True)
    arm = serializers.SlugRelatedField(slug_field="code", read_only=True)
    protocol_version = serializers.IntegerField(source="protocol_version.number", read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "subject_id",
            "study",
            "study_id",
            "site",
            "site_id",
            "sex",
            "birth_date",
            "height_cm",
            "weight_kg",
            "status",
            "screened_on",
            "protocol_version",
            "arm",
            "day1",
            "status_reason",
            "status_changed_on",
            "version",
            "is_voided",
            "void_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PatientCreateSerializer(serializers.Serializer):
    study = serializers.IntegerField(help_text="Study id (see GET /api/studies/).")
    site = serializers.IntegerField(help_text="Site id within the study.")
    sex = serializers.ChoiceField(choices=Patient._meta.get_field("sex").choices)
    birth_date = serializers.DateField()
    height_cm = serializers.DecimalField(max_digits=5, decimal_places=1)
    weight_kg = serializers.DecimalField(max_digits=5, decimal_places=1)
    screened_on = serializers.DateField(required=False, help_text="Defaults to today.")


class PatientUpdateSerializer(serializers.ModelSerializer):
    """Corrections of demographics; status moves go through their own actions."""

    reason = serializers.CharField(write_only=True, help_text="Why the value changes (audited).")
    version = serializers.IntegerField(
        write_only=True, required=False, help_text="The version you read (or send If-Match)."
    )

    class Meta:
        model = Patient
        fields = ["sex", "birth_date", "height_cm", "weight_kg", "reason", "version"]

    def validate_birth_date(self, value):
        check_not_future(value, "birth_date")
        return value

    def validate(self, attrs):
        check_body_size(height_cm=attrs.get("height_cm"), weight_kg=attrs.get("weight_kg"))
        return attrs


class PatientViewSet(AuditedRecordViewSet):
    """Patients of the studies and sites you have access to."""

    queryset = Patient.objects.select_related("study", "site", "arm", "protocol_version")
    output_serializer_class = PatientSerializer
    filterset_fields = ["study", "site", "status", "sex", "arm", "is_voided"]
    ordering_fields = ["subject_id", "screened_on", "created_at"]
    ordering = ["subject_id"]

    def get_serializer_class(self):
        if self.action == "create":
            return PatientCreateSerializer
        if self.action in ("update", "partial_update"):
            return PatientUpdateSerializer
        return PatientSerializer

    def create_record(self, serializer):
        data = dict(serializer.validated_data)
        data["study"] = visible_study(self.request.user, data["study"])
        data["site"] = Site.objects.filter(pk=data["site"]).first() or Site(pk=0, study_id=0)
        return patient_create(actor=self.request.user, **data)
