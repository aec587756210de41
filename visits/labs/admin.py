from django.contrib import admin

from ecrf.admin_base import PatientRecordAdmin, ServiceBackedAdmin
from ecrf.domain.units import RangeIndicator
from visits.labs import services
from visits.labs.models import LabResult, ReferenceRange

LAB_RESULT_DERIVED_FIELDS = (
    "value_std",
    "unit_std",
    "lln_std",
    "uln_std",
    "range_source",
    "reference_range",
    "indicator",
    "times_uln",
    "ctcae_term",
    "ctcae_meddra_code",
    "ctcae_grade",
    "ctcae_basis",
    "ctcae_note",
    "baseline_result",
)


def times_uln_if_high(result: LabResult):
    return result.times_uln if result.indicator == RangeIndicator.HIGH.value else None


@admin.register(LabResult)
class LabResultAdmin(PatientRecordAdmin):
    list_display = [
        "patient",
        "collected_at",
        "test_code",
        "value",
        "unit",
        "indicator",
        "times_uln",
        "ctcae_term",
        "ctcae_grade",
        "range_source",
        "is_voided",
    ]
    list_filter = ["patient__study", "patient__site", "test_code", "indicator", "is_voided"]
    search_fields = ["patient__subject_id", "test_code", "source_accession"]
    date_hierarchy = "collected_at"
    # ×ULN says how far above the upper limit a value is: meaningless for a normal or low
    # value (a low platelet count is not "0.05 × ULN"), so it shows for high values only.
    number_values = {"times_uln": times_uln_if_high}
    writes = services.LAB_RESULT_WRITES
    # A new result: its patient and accession, and what a correction may change later.
    service_fields = ("patient", "source_accession", *sorted(services.CORRECTABLE_FIELDS))
    derived_readonly = LAB_RESULT_DERIVED_FIELDS
    fixed_after_creation = ("patient", "source_accession")
    field_aliases = {"accession": "source_accession"}  # the services speak the lab's word

    def create_record(self, actor, values):
        return services.lab_result_create(actor=actor, reason="Entered in the admin", **values)


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(ServiceBackedAdmin):
    study_field = "site__study"
    site_field = "site"
    list_display = [
        "site",
        "laboratory",
        "test_code",
        "sex",
        "age_min_years",
        "age_max_years",
        "lln",
        "uln",
        "unit",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["site__study", "site", "laboratory", "test_code", "sex"]
    search_fields = ["test_code", "laboratory", "site__code"]
    list_select_related = ["site"]
    writes = services.REFERENCE_RANGE_WRITES
    service_fields = ("site", *services.REFERENCE_RANGE_FIELDS)
