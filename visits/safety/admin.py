from django.contrib import admin

from ecrf.access import grants_for, is_unrestricted
from ecrf.admin_base import PatientRecordAdmin, ReadOnlyInline, ScopedAdmin, ServiceBackedAdmin
from visits.safety import services
from visits.safety.models import (
    SERIOUSNESS_FIELDS,
    AdverseEvent,
    AdverseEventDrugAssessment,
    CtcaeTerm,
)


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


class DrugAssessmentInline(ReadOnlyInline):
    """Shown with the event; assessments are added and changed on their own admin page."""

    model = AdverseEventDrugAssessment
    fields = ["drug", "causality", "action_taken", "is_voided", "version"]
    readonly_fields = fields
    show_change_link = True


@admin.register(AdverseEvent)
class AdverseEventAdmin(PatientRecordAdmin):
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
    writes = services.ADVERSE_EVENT_WRITES
    service_fields = ("patient", *services.ADVERSE_EVENT_FIELDS)
    field_aliases = {"seriousness_criteria": "is_serious"}

    def create_record(self, actor, values):
        flags = {name: values.pop(name) for name in SERIOUSNESS_FIELDS}
        criteria = [SERIOUSNESS_FIELDS[name] for name, chosen in flags.items() if chosen]
        return services.adverse_event_create(actor=actor, seriousness_criteria=criteria, **values)


@admin.register(AdverseEventDrugAssessment)
class DrugAssessmentAdmin(ServiceBackedAdmin):
    study_field = "adverse_event__patient__study"
    site_field = "adverse_event__patient__site"
    list_display = ["adverse_event", "drug", "causality", "action_taken", "is_voided"]
    list_filter = ["adverse_event__patient__study", "causality", "action_taken"]
    search_fields = ["adverse_event__patient__subject_id", "drug"]
    list_select_related = ["adverse_event__patient", "adverse_event__term"]
    writes = services.DRUG_ASSESSMENT_WRITES
    service_fields = ("adverse_event", "drug", "causality", "action_taken")
    fixed_after_creation = ("adverse_event", "drug")

    def drug_choices(self, form):
        """The study drugs of the event's patient (the event stored, posted or preselected)."""
        event_id = getattr(form.instance, "adverse_event_id", None)
        if event_id is None:
            event_id = form.data.get("adverse_event") or form.initial.get("adverse_event")
        if not event_id or not str(event_id).isdigit():
            return None
        event = AdverseEvent.objects.filter(pk=int(event_id)).select_related("patient").first()
        return sorted(services.study_drugs_of(event.patient).values()) if event else None

    def create_record(self, actor, values):
        event = values.pop("adverse_event")
        assessment = services.DrugAssessmentInput(**values)
        return services.drug_assessment_create(actor=actor, event=event, assessment=assessment)
