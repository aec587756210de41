from django.contrib import admin

from domain.scores import ESSDAI_DOMAINS
from findings.admin_support import ServiceBackedAdmin
from findings.models import (
    BleedingAssessment,
    EcogAssessment,
    EssdaiAssessment,
    EsspriAssessment,
    RescueTherapy,
    VitalSigns,
)
from findings.services.bleeding import bleeding_assessment_create, bleeding_assessment_update
from findings.services.ecog import ecog_assessment_create, ecog_assessment_update
from findings.services.rescue import rescue_therapy_create, rescue_therapy_update
from findings.services.scores import (
    essdai_assessment_create,
    essdai_assessment_update,
    esspri_assessment_create,
    esspri_assessment_update,
)
from findings.services.vitals import MEASUREMENTS, vital_signs_create, vital_signs_update


@admin.register(BleedingAssessment)
class BleedingAssessmentAdmin(ServiceBackedAdmin):
    list_display = ["patient", "assessed_at", "who_grade", "smog", "is_voided"]
    list_filter = ["who_grade", "is_voided", "patient__study"]
    date_hierarchy = "assessed_at"
    service_fields = (
        "patient",
        "visit",
        "assessed_at",
        "who_grade",
        "itp_bat_skin",
        "itp_bat_mucosal",
        "itp_bat_organ",
        "notes",
    )
    derived_readonly = ("smog",)

    def create_record(self, actor, values):
        return bleeding_assessment_create(actor=actor, **values)

    def update_record(self, actor, record, changes, *, reason, version):
        return bleeding_assessment_update(
            actor=actor,
            assessment=record,
            changes=changes,
            reason=reason,
            expected_version=version,
        )


@admin.register(RescueTherapy)
class RescueTherapyAdmin(ServiceBackedAdmin):
    list_display = ["patient", "therapy", "kind", "itp_directed", "started_at", "stopped_at"]
    list_filter = ["kind", "itp_directed", "is_voided", "patient__study"]
    search_fields = ["patient__subject_id", "therapy"]
    service_fields = (
        "patient",
        "started_at",
        "stopped_at",
        "therapy",
        "itp_directed",
        "kind",
        "indication",
    )

    def create_record(self, actor, values):
        return rescue_therapy_create(actor=actor, **values)

    def update_record(self, actor, record, changes, *, reason, version):
        return rescue_therapy_update(
            actor=actor, therapy=record, changes=changes, reason=reason, expected_version=version
        )


@admin.register(EcogAssessment)
class EcogAssessmentAdmin(ServiceBackedAdmin):
    list_display = ["patient", "assessed_on", "score", "is_voided"]
    list_filter = ["score", "is_voided", "patient__study"]
    service_fields = ("patient", "visit", "assessed_on", "score")

    def create_record(self, actor, values):
        return ecog_assessment_create(actor=actor, **values)

    def update_record(self, actor, record, changes, *, reason, version):
        return ecog_assessment_update(
            actor=actor, assessment=record, changes=changes, reason=reason, expected_version=version
        )


@admin.register(VitalSigns)
class VitalSignsAdmin(ServiceBackedAdmin):
    list_display = ["patient", "measured_on", *MEASUREMENTS]
    list_filter = ["is_voided", "patient__study"]
    service_fields = ("patient", "visit", "measured_on", *MEASUREMENTS)

    def create_record(self, actor, values):
        return vital_signs_create(actor=actor, **values)

    def update_record(self, actor, record, changes, *, reason, version):
        return vital_signs_update(
            actor=actor, vitals=record, changes=changes, reason=reason, expected_version=version
        )


@admin.register(EssdaiAssessment)
class EssdaiAssessmentAdmin(ServiceBackedAdmin):
    list_display = ["patient", "assessed_on", "total", "activity", "is_voided"]
    list_filter = ["activity", "is_voided", "patient__study"]
    service_fields = ("patient", "visit", "assessed_on", *ESSDAI_DOMAINS)
    derived_readonly = ("total", "activity")

    def create_record(self, actor, values):
        fixed = {name: values.pop(name, None) for name in ("patient", "visit", "assessed_on")}
        return essdai_assessment_create(actor=actor, levels=values, **fixed)

    def update_record(self, actor, record, changes, *, reason, version):
        return essdai_assessment_update(
            actor=actor, assessment=record, changes=changes, reason=reason, expected_version=version
        )


@admin.register(EsspriAssessment)
class EsspriAssessmentAdmin(ServiceBackedAdmin):
    list_display = ["patient", "assessed_on", "dryness", "fatigue", "pain", "score"]
    list_filter = ["is_voided", "patient__study"]
    service_fields = ("patient", "visit", "assessed_on", "dryness", "fatigue", "pain")
    derived_readonly = ("score",)

    def create_record(self, actor, values):
        return esspri_assessment_create(actor=actor, **values)

    def update_record(self, actor, record, changes, *, reason, version):
        return esspri_assessment_update(
            actor=actor, assessment=record, changes=changes, reason=reason, expected_version=version
        )
