from django.contrib import admin

from ecrf.admin_base import PatientRecordAdmin
from visits.findings.models import (
    BleedingAssessment,
    EcogAssessment,
    EssdaiAssessment,
    EsspriAssessment,
    RescueTherapy,
    VitalSigns,
)
from visits.findings.services.bleeding import BLEEDING_ASSESSMENT_FIELDS, BLEEDING_ASSESSMENT_WRITES
from visits.findings.services.ecog import ECOG_ASSESSMENT_FIELDS, ECOG_ASSESSMENT_WRITES
from visits.findings.services.rescue import RESCUE_THERAPY_FIELDS, RESCUE_THERAPY_WRITES
from visits.findings.services.scores import (
    ESSDAI_ASSESSMENT_FIELDS,
    ESSDAI_ASSESSMENT_WRITES,
    ESSPRI_ASSESSMENT_FIELDS,
    ESSPRI_ASSESSMENT_WRITES,
    ESSPRI_ITEMS,
)
from visits.findings.services.vitals import MEASUREMENTS, VITAL_SIGNS_FIELDS, VITAL_SIGNS_WRITES


@admin.register(BleedingAssessment)
class BleedingAssessmentAdmin(PatientRecordAdmin):
    list_display = ["patient", "assessed_at", "who_grade", "smog", "is_voided"]
    list_filter = ["who_grade", "is_voided", "patient__study"]
    date_hierarchy = "assessed_at"
    writes = BLEEDING_ASSESSMENT_WRITES
    service_fields = ("patient", *BLEEDING_ASSESSMENT_FIELDS)
    derived_readonly = ("smog",)


@admin.register(RescueTherapy)
class RescueTherapyAdmin(PatientRecordAdmin):
    list_display = ["patient", "therapy", "kind", "itp_directed", "started_at", "stopped_at"]
    list_filter = ["kind", "itp_directed", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id", "therapy"]
    writes = RESCUE_THERAPY_WRITES
    service_fields = ("patient", *RESCUE_THERAPY_FIELDS)


@admin.register(EcogAssessment)
class EcogAssessmentAdmin(PatientRecordAdmin):
    list_display = ["patient", "assessed_on", "score", "is_voided"]
    list_filter = ["score", "is_voided", "patient__study"]
    writes = ECOG_ASSESSMENT_WRITES
    service_fields = ("patient", *ECOG_ASSESSMENT_FIELDS)


@admin.register(VitalSigns)
class VitalSignsAdmin(PatientRecordAdmin):
    list_display = ["patient", "measured_on", *MEASUREMENTS]
    list_filter = ["is_voided", "patient__study"]
    writes = VITAL_SIGNS_WRITES
    service_fields = ("patient", *VITAL_SIGNS_FIELDS)


@admin.register(EssdaiAssessment)
class EssdaiAssessmentAdmin(PatientRecordAdmin):
    list_display = ["patient", "assessed_on", "total", "activity", "is_voided"]
    list_filter = ["activity", "is_voided", "patient__study"]
    writes = ESSDAI_ASSESSMENT_WRITES
    service_fields = ("patient", *ESSDAI_ASSESSMENT_FIELDS)
    derived_readonly = ("total", "activity")


@admin.register(EsspriAssessment)
class EsspriAssessmentAdmin(PatientRecordAdmin):
    list_display = ["patient", "assessed_on", *ESSPRI_ITEMS, "score"]
    list_filter = ["is_voided", "patient__study"]
    writes = ESSPRI_ASSESSMENT_WRITES
    service_fields = ("patient", *ESSPRI_ASSESSMENT_FIELDS)
    derived_readonly = ("score",)
