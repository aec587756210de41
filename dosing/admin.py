from django.contrib import admin

from dosing.models import DoseAdjustment, DosePlan, DoseRecord, TaperWeek, TitrationDecision
from dosing.services.adjustments import dose_adjustment_create, dose_adjustment_update
from dosing.services.records import dose_record_create, dose_record_update
from ecrf.admin_base import ScopedAdmin
from findings.admin_support import ServiceBackedAdmin


class TaperWeekInline(admin.TabularInline):
    model = TaperWeek
    fields = ["week", "daily_mg"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DosePlan)
class DosePlanAdmin(ScopedAdmin):
    """Read-only: plans are made from the protocol (POST /api/patients/{id}/dosing/plan/)."""

    study_field = "patient__study"
    site_field = "patient__site"
    list_display = ["patient", "drug", "plan_version", "rounded_mg", "daily_mg", "is_voided"]
    list_filter = ["drug", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id", "drug"]
    list_select_related = ["patient"]
    inlines = [TaperWeekInline]


@admin.register(DoseRecord)
class DoseRecordAdmin(ServiceBackedAdmin):
    list_display = ["patient", "drug", "start_date", "end_date", "dose_mg", "frequency", "given"]
    list_filter = ["drug", "given", "frequency", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id", "drug"]
    exclude = ["regimen"]
    service_fields = (
        "patient",
        "drug",
        "start_date",
        "end_date",
        "dose_mg",
        "frequency",
        "given",
        "note",
    )
    derived_readonly = ("daily_mg",)
    fixed_after_creation = ("patient", "drug")

    def create_record(self, actor, values):
        return dose_record_create(actor=actor, **values)

    def update_record(self, actor, record, changes, *, reason, version):
        return dose_record_update(
            actor=actor, record=record, changes=changes, reason=reason, expected_version=version
        )


@admin.register(DoseAdjustment)
class DoseAdjustmentAdmin(ServiceBackedAdmin):
    list_display = ["patient", "drug", "effective_date", "previous_daily_mg", "new_daily_mg"]
    list_filter = ["drug", "reason_code", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id", "drug"]
    exclude = ["regimen", "closed_record", "opened_record", "previous_daily_mg"]
    service_fields = (
        "patient",
        "drug",
        "effective_date",
        "new_daily_mg",
        "reason_code",
        "comment",
        "trough_result",
        "adverse_event_id",
    )
    fixed_after_creation = ("patient", "drug", "effective_date", "new_daily_mg")

    def create_record(self, actor, values):
        return dose_adjustment_create(actor=actor, **values)

    def update_record(self, actor, record, changes, *, reason, version):
        return dose_adjustment_update(
            actor=actor, adjustment=record, changes=changes, reason=reason, expected_version=version
        )


@admin.register(TitrationDecision)
class TitrationDecisionAdmin(ScopedAdmin):
    """Read-only: decisions are taken on the proposal (POST .../dosing/tacrolimus/decisions/)."""

    study_field = "patient__study"
    site_field = "patient__site"
    list_display = ["patient", "decided_at", "trough_ng_ml", "proposed_daily_mg", "decision"]
    list_filter = ["decision", "action", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id"]
    list_select_related = ["patient", "decided_by"]
