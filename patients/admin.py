from django.contrib import admin

from ecrf.admin_base import AuditedRecordAdmin
from patients.models import Patient
from patients.services import patient_create


@admin.register(Patient)
class PatientAdmin(AuditedRecordAdmin):
    list_display = ["subject_id", "study", "site", "sex", "birth_date", "status", "arm", "day1"]
    list_filter = ["study", "site", "status", "sex", "arm", "is_voided"]
    search_fields = ["subject_id"]
    list_select_related = ["study", "site", "arm"]
    readonly_fields = [
        "subject_id",
        "status",
        "protocol_version",
        "arm",
        "day1",
        "status_reason",
        "status_changed_on",
        "is_voided",
        "voided_at",
        "voided_by",
        "void_reason",
        "version",
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["study", "site", "screened_on"]  # fixed once the subject id is issued
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # New patients go through the service: subject id, protocol version, checks.
        created = patient_create(
            actor=request.user,
            study=obj.study,
            site=obj.site,
            sex=obj.sex,
            birth_date=obj.birth_date,
            height_cm=obj.height_cm,
            weight_kg=obj.weight_kg,
            screened_on=obj.screened_on,
        )
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})
