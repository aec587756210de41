from django.contrib import admin

from ecrf.admin_base import AuditedRecordAdmin
from visits.models import Visit


@admin.register(Visit)
class VisitAdmin(AuditedRecordAdmin):
    study_field = "patient__study"
    site_field = "patient__site"
    list_display = [
        "patient",
        "code",
        "target_date",
        "window_start",
        "window_end",
        "actual_date",
        "status",
        "out_of_window",
    ]
    list_filter = ["patient__study", "patient__site", "status", "out_of_window"]
    search_fields = ["patient__subject_id", "code"]
    list_select_related = ["patient"]
    readonly_fields = ["is_voided", "voided_at", "voided_by", "void_reason", "version"]
