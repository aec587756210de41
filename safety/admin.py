from django.contrib import admin

from ecrf.access import Action, grants_for, is_unrestricted, scope_queryset
from ecrf.admin_base import AuditedRecordAdmin, ScopedAdmin
from labs.admin_forms import RequestFormAdminMixin, ServiceCheckedAdminForm
from labs.models import LabResult
from labs.services import check_can_enter_data
from patients.models import Patient
from safety import services
from safety.models import (
    SERIOUSNESS_FIELDS,
    AdverseEvent,
    AdverseEventDrugAssessment,
    CtcaeTerm,
)
from visits.models import Visit


@admin.register(CtcaeTerm)
class CtcaeTermAdmin(ScopedAdmin):
    """The dictionary is read-only here: it changes through `manage.py import_ctcae`."""

    list_display = ["term", "meddra_code", "soc", "ctcae_version", "source"]
    list_filter = ["ctcae_version", "source", "soc"]
    search_fields = ["term", "meddra_code", "soc"]

    def get_queryset(self, request):
        # Not site data: anyone with a role in some study may read the whole dictionary.
        queryset = CtcaeTerm.objects.all()
        if is_unrestricted(request.user) or grants_for(request.user):
            return queryset
        return queryset.none()


AE_FIELDS = [
    "patient",
    "visit",
    "term",
    "verbatim",
    "onset_date",
    "resolution_date",
    "grade",
    "outcome",
    "is_serious",
    *SERIOUSNESS_FIELDS,
    "site_aware_at",
    "lab_result",
]


class AdverseEventAdminForm(ServiceCheckedAdminForm):
    field_aliases = {"seriousness_criteria": "is_serious"}

    class Meta:
        model = AdverseEvent
        fields = AE_FIELDS

    def check(self, cleaned_data: dict) -> None:
        draft = AdverseEvent(pk=self.instance.pk)
        for name in AE_FIELDS:
            value = cleaned_data.get(name, getattr(self.instance, name, None))
            setattr(draft, name, value)
        if self.instance.pk:
            draft.patient = self.instance.patient
        check_can_enter_data(self.request.user, draft.patient)
        services.check_adverse_event(draft)


class DrugAssessmentInline(admin.TabularInline):
    """Shown with the event; assessments are added and changed on their own admin page."""

    model = AdverseEventDrugAssessment
    fields = ["drug", "causality", "action_taken", "is_voided", "version"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _entry_queryset(request, queryset, prefix: str = ""):
    return scope_queryset(
        queryset,
        request.user,
        Action.ENTER_DATA,
        study_field=f"{prefix}study",
        site_field=f"{prefix}site",
    )


@admin.register(AdverseEvent)
class AdverseEventAdmin(RequestFormAdminMixin, AuditedRecordAdmin):
    form = AdverseEventAdminForm
    study_field = "patient__study"
    site_field = "patient__site"
    inlines = [DrugAssessmentInline]
    list_display = [
        "patient",
        "term",
        "grade",
        "onset_date",
        "resolution_date",
        "outcome",
        "is_serious",
        "site_aware_at",
        "reporting_deadline",
        "is_voided",
    ]
    list_filter = ["patient__study", "patient__site", "grade", "is_serious", "outcome"]
    search_fields = ["patient__subject_id", "term__term", "term__meddra_code", "verbatim"]
    list_select_related = ["patient", "term"]
    autocomplete_fields = ["term"]
    readonly_fields = ["is_voided", "voided_at", "voided_by", "void_reason", "version"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "patient"] if obj is not None else fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "patient":
            kwargs["queryset"] = _entry_queryset(request, Patient.objects.all())
        elif db_field.name == "visit":
            kwargs["queryset"] = _entry_queryset(request, Visit.objects.all(), "patient__")
        elif db_field.name == "lab_result":
            kwargs["queryset"] = _entry_queryset(request, LabResult.objects.all(), "patient__")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {name: data[name] for name in form.changed_data if name in AE_FIELDS}
            saved = services.adverse_event_update(
                actor=request.user,
                event=AdverseEvent.objects.select_related("patient").get(pk=obj.pk),
                changes=changes,
                reason=data.get("reason_for_change"),
                expected_version=data.get("expected_version"),
            )
        else:
            criteria = [name for field, name in SERIOUSNESS_FIELDS.items() if data.get(field)]
            saved = services.adverse_event_create(
                actor=request.user,
                patient=data["patient"],
                term=data["term"],
                verbatim=data["verbatim"],
                onset_date=data["onset_date"],
                grade=data["grade"],
                outcome=data["outcome"],
                resolution_date=data.get("resolution_date"),
                is_serious=data.get("is_serious", False),
                seriousness_criteria=criteria,
                site_aware_at=data.get("site_aware_at"),
                visit=data.get("visit"),
                lab_result=data.get("lab_result"),
            )
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})


class DrugAssessmentAdminForm(ServiceCheckedAdminForm):
    class Meta:
        model = AdverseEventDrugAssessment
        fields = ["adverse_event", "drug", "causality", "action_taken"]

    def check(self, cleaned_data: dict) -> None:
        event = cleaned_data.get("adverse_event") or self.instance.adverse_event
        check_can_enter_data(self.request.user, event.patient)
        if not self.instance.pk:
            services.study_drug(event.patient, cleaned_data["drug"])


@admin.register(AdverseEventDrugAssessment)
class DrugAssessmentAdmin(RequestFormAdminMixin, AuditedRecordAdmin):
    form = DrugAssessmentAdminForm
    study_field = "adverse_event__patient__study"
    site_field = "adverse_event__patient__site"
    list_display = ["adverse_event", "drug", "causality", "action_taken", "is_voided"]
    list_filter = ["adverse_event__patient__study", "causality", "action_taken"]
    search_fields = ["adverse_event__patient__subject_id", "drug"]
    list_select_related = ["adverse_event__patient", "adverse_event__term"]
    readonly_fields = ["is_voided", "voided_at", "voided_by", "void_reason", "version"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "adverse_event", "drug"] if obj is not None else fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "adverse_event":
            kwargs["queryset"] = _entry_queryset(
                request, AdverseEvent.objects.select_related("patient", "term"), "patient__"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)  # causality/action only
        data = form.cleaned_data
        saved = services.drug_assessment_create(
            actor=request.user,
            event=data["adverse_event"],
            assessment=services.DrugAssessmentInput(
                data["drug"], data["causality"], data["action_taken"]
            ),
        )
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})
