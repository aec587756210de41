from django.contrib import admin

from ecrf.admin_base import PatientRecordAdmin, ReadOnlyInline, ScopedAdmin
from patients.models import Patient
from trials.models import Regimen
from visits.dosing.models import DoseAdjustment, DosePlan, DoseRecord, TaperWeek, TitrationDecision
from visits.dosing.services.adjustments import DOSE_ADJUSTMENT_WRITES
from visits.dosing.services.records import DOSE_RECORD_FIELDS, DOSE_RECORD_WRITES


class TaperWeekInline(ReadOnlyInline):
    model = TaperWeek
    fields = ["week", "daily_mg"]
    readonly_fields = fields


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


def arm_drugs(patient_id: int | None) -> list[str]:
    """The drugs of the patient's arm in the patient's protocol version, in protocol order."""
    patient = Patient.objects.filter(pk=patient_id).only("arm", "protocol_version").first()
    if patient is None or patient.arm_id is None:
        return []
    regimens = Regimen.objects.filter(
        protocol_version_id=patient.protocol_version_id, arm_id=patient.arm_id
    ).order_by("order")
    return list(dict.fromkeys(regimens.values_list("drug", flat=True)))


class ArmDrugAdmin(PatientRecordAdmin):
    """A dose's drug is chosen among the patient's arm's drugs."""

    def drug_choices(self, form):
        return arm_drugs(self.patient_id_of(form))


@admin.register(DoseRecord)
class DoseRecordAdmin(ArmDrugAdmin):
    list_display = ["patient", "drug", "start_date", "end_date", "dose_mg", "frequency", "given"]
    list_filter = ["drug", "given", "frequency", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id", "drug"]
    exclude = ["regimen"]
    writes = DOSE_RECORD_WRITES
    service_fields = ("patient", "drug", *DOSE_RECORD_FIELDS)
    derived_readonly = ("daily_mg",)
    fixed_after_creation = ("patient", "drug")


@admin.register(DoseAdjustment)
class DoseAdjustmentAdmin(ArmDrugAdmin):
    list_display = ["patient", "drug", "effective_date", "previous_daily_mg", "new_daily_mg"]
    list_filter = ["drug", "reason_code", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id", "drug"]
    exclude = ["regimen", "closed_record", "opened_record", "previous_daily_mg"]
    writes = DOSE_ADJUSTMENT_WRITES
    service_fields = (
        "patient",
        "drug",
        "effective_date",
        "new_daily_mg",
        "reason_code",
        "comment",
        "trough_result",
        "adverse_event",
    )
    field_aliases = {"adverse_event_id": "adverse_event"}
    raw_id_fields = ["adverse_event"]  # an id, as the API takes it
    fixed_after_creation = ("patient", "drug", "effective_date", "new_daily_mg")


@admin.register(TitrationDecision)
class TitrationDecisionAdmin(ScopedAdmin):
    """Read-only: decisions are taken on the proposal (POST .../dosing/tacrolimus/decisions/)."""

    study_field = "patient__study"
    site_field = "patient__site"
    list_display = ["patient", "decided_at", "trough_ng_ml", "proposed_daily_mg", "decision"]
    list_filter = ["decision", "action", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id"]
    list_select_related = ["patient", "decided_by"]
