"""Patients in the admin: screening, corrections, and the workflow pages (consent, eligibility,
randomization or enrolment, status moves, unscheduled visits) that call the API's services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html_join

from ecrf import admin_base
from patients.admin_forms import (
    AllocationAdminForm,
    ConsentAdminForm,
    EligibilityAdminForm,
    StatusAdminForm,
)
from patients.admin_workflow import workflow_view
from patients.checklist import eligibility_checklist
from patients.eligibility import eligibility_evaluate
from patients.models import Consent, EligibilityAssessment, Patient, PatientStatus
from patients.selectors import latest_assessment
from patients.services import PATIENT_WRITES, consent_record, patient_change_status
from patients.status_machine import PRE_ALLOCATION, next_statuses
from trials.selectors import studies_for


def diagnosis_choices(studies) -> list[tuple[str, str]]:
    """ "—" (none) then each study's declared diagnoses, grouped by study for the select."""
    choices: list = [("", "— (the study records no diagnosis)")]
    for study in studies.order_by("registry_id"):
        protocol = study.current_protocol()
        declared = protocol.diagnoses if protocol is not None else []
        if declared:
            choices.append(
                (study.registry_id, [(d["code"], f"{d['code']} — {d['name']}") for d in declared])
            )
    return choices


class ReadOnlyInline(admin_base.ReadOnlyInline):
    """Shown on the patient page (already scoped); written only through the workflow pages."""

    def has_view_permission(self, request, obj=None):
        return True


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ["consented_at", "consent_version", "is_voided", "created_at"]
    readonly_fields = fields
    show_change_link = True  # its page voids a consent recorded in error


@admin.register(Consent)
class ConsentAdmin(admin_base.ScopedAdmin):
    """Consents are recorded on the patient's consent page; one recorded in error is voided
    here, with a reason (it stays in the audit trail)."""

    study_field = "patient__study"
    site_field = "patient__site"
    voidable = True
    list_display = ["patient", "consented_at", "consent_version", "created_at", "is_voided"]
    list_filter = ["patient__study", "patient__site", "is_voided"]
    search_fields = ["patient__subject_id", "consent_version"]
    list_select_related = ["patient"]


class EligibilityAssessmentInline(ReadOnlyInline):
    model = EligibilityAssessment
    fields = ["evaluated_on", "status", "evaluated_by", "grounds", "created_at"]
    readonly_fields = fields
    ordering = ["-id"]

    @admin.display(description="failed / open criteria")
    def grounds(self, assessment):
        return ", ".join(assessment.failed_codes or assessment.open_codes) or "—"


# The casebook page reads every record of the patient and the unscheduled visit is a visit, so
# both are served from `visits.admin.PatientCasebookAdmin` (which extends this admin, above it in
# the layers); the links are by URL name.
WORKFLOW_PAGES = {
    "casebook": "Casebook",
    "consent": "Record consent",
    "eligibility": "Evaluate eligibility",
    "allocate": "Randomize / enrol",
    "status": "Change status",
    "unscheduled-visit": "Unscheduled visit",
}


@admin.register(Patient)
class PatientAdmin(admin_base.ServiceBackedAdmin):
    """Screening and corrections through the patient services (the same checks as the API)."""

    list_display = [
        "subject_id",
        "study",
        "site",
        "sex",
        "birth_date",
        "diagnosis",
        "status",
        "arm",
        "day1",
    ]
    list_filter = ["study", "site", "status", "sex", "arm", "is_voided"]
    search_fields = ["subject_id"]
    list_select_related = ["study", "site", "arm"]
    inlines = [ConsentInline, EligibilityAssessmentInline]
    actions = ["go_consent", "go_eligibility", "go_allocate", "go_status"]
    writes = PATIENT_WRITES
    service_fields = (
        "study",
        "site",
        "sex",
        "birth_date",
        "height_cm",
        "weight_kg",
        "diagnosis",
        "screened_on",
    )
    derived_readonly = (
        "workflow",
        "subject_id",
        "status",
        "protocol_version",
        "arm",
        "day1",
        "status_reason",
        "status_reason_codes",
        "status_changed_on",
    )
    fixed_after_creation = ("study", "site", "screened_on")  # fixed once the subject id is issued

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """The diagnosis is picked from the codes the user's studies declare (the service checks
        it belongs to the patient's study); studies without diagnoses leave it empty."""
        if db_field.name == "diagnosis":
            return forms.ChoiceField(
                choices=diagnosis_choices(studies_for(request.user)),
                required=False,
                label="Diagnosis",
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    # --- Workflow pages ---------------------------------------------------------------------

    def get_urls(self):
        views = {
            "consent": self.consent_view,
            "eligibility": self.eligibility_view,
            "allocate": self.allocation_view,
            "status": self.status_view,
        }
        return [
            path(
                f"<path:object_id>/{page}/",
                self.admin_site.admin_view(view),
                name=f"patients_patient_{page.replace('-', '_')}",
            )
            for page, view in views.items()
        ] + super().get_urls()

    @admin.display(description="Workflow")
    def workflow(self, patient):
        if patient.pk is None:
            return "—"
        pages = ["casebook", "consent", "status"]
        if patient.status in PRE_ALLOCATION:
            pages[1:1] = ["eligibility"]
        if patient.status == PatientStatus.ELIGIBLE:
            pages.append("allocate")
        if patient.day1:
            pages.append("unscheduled-visit")
        if not next_statuses(patient.status):
            pages.remove("status")
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (
                    reverse(f"admin:patients_patient_{p.replace('-', '_')}", args=[patient.pk]),
                    WORKFLOW_PAGES[p],
                )
                for p in pages
            ),
        )

    def consent_view(self, request, object_id):
        def perform(patient, form):
            consent = consent_record(actor=request.user, patient=patient, **form.cleaned_data)
            return f"Consent {consent.consent_version} of {consent.consented_at} recorded."

        return workflow_view(
            self,
            request,
            object_id,
            title="Record informed consent",
            form_factory=lambda patient, data: ConsentAdminForm(data),
            perform=perform,
            submit_label="Record consent",
        )

    def eligibility_view(self, request, object_id):
        def perform(patient, form):
            assessment = eligibility_evaluate(
                actor=request.user,
                patient=patient,
                answers=form.answers(),
                evaluated_on=form.cleaned_data.get("evaluated_on"),
            )
            grounds = ", ".join(assessment.failed_codes or assessment.open_codes)
            return f"Eligibility evaluated: {assessment.status}" + (
                f" ({grounds})." if grounds else "."
            )

        patient = self.get_queryset(request).filter(pk=object_id).first()
        previous = latest_assessment(patient) if patient else None
        table = None
        if previous is not None:
            table = (
                ["criterion", "kind", "verdict", "detail"],
                [
                    [
                        c["code"],
                        c["kind"],
                        c["words"],
                        c["detail"]
                        + (" (only an investigator may confirm)" if c["investigator_only"] else ""),
                    ]
                    for c in eligibility_checklist(previous)
                ],
            )
        return workflow_view(
            self,
            request,
            object_id,
            title="Evaluate eligibility",
            intro=(
                "Automatic criteria are read from the recorded data; investigator-confirmed ones "
                "need an investigator's answer. The table shows the last evaluation."
            ),
            form_factory=lambda p, data: EligibilityAdminForm(p, request.user, data),
            perform=perform,
            submit_label="Evaluate",
            table=table,
        )

    def allocation_view(self, request, object_id):
        from patients.randomization import patient_enrol, patient_randomize
        from trials.randomization.scheme import scheme_for

        def factors_of(patient):
            return list(scheme_for(patient.study).factors) if patient.study.is_randomized else []

        def perform(patient, form):
            arguments = form.service_arguments()
            if patient.study.is_randomized:
                slot = patient_randomize(actor=request.user, patient=patient, **arguments)
                return (
                    f"Randomized to {slot.arm.code} (number {slot.number}, stratum "
                    f"{slot.stratum}); the visit calendar is scheduled."
                )
            enrolled = patient_enrol(actor=request.user, patient=patient, **arguments)
            return f"Enrolled in {enrolled.arm.code}; the visit calendar is scheduled."

        return workflow_view(
            self,
            request,
            object_id,
            title="Randomize or enrol",
            intro="Needs a recorded consent and an eligible patient; the arm comes from the list.",
            form_factory=lambda p, data: AllocationAdminForm(p, request.user, factors_of(p), data),
            perform=perform,
            submit_label="Allocate",
        )

    def status_view(self, request, object_id):
        def perform(patient, form):
            data = form.cleaned_data
            patient_change_status(
                actor=request.user,
                patient=patient,
                to_status=data["status"],
                on=data["on"],
                reason=data["reason"],
                reason_code=data.get("reason_code") or None,
            )
            return f"Status changed to {data['status']}."

        return workflow_view(
            self,
            request,
            object_id,
            title="Change status",
            form_factory=lambda p, data: StatusAdminForm(p, data),
            perform=perform,
            submit_label="Change status",
        )

    # --- Changelist actions: open the page of the one selected patient ---------------------

    def _go(self, request, queryset, page: str):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one patient.", messages.WARNING)
            return None
        url = reverse(f"admin:patients_patient_{page}", args=[queryset.get().pk])
        return HttpResponseRedirect(url)

    @admin.action(description="Record consent for the selected patient")
    def go_consent(self, request, queryset):
        return self._go(request, queryset, "consent")

    @admin.action(description="Evaluate eligibility of the selected patient")
    def go_eligibility(self, request, queryset):
        return self._go(request, queryset, "eligibility")

    @admin.action(description="Randomize / enrol the selected patient")
    def go_allocate(self, request, queryset):
        return self._go(request, queryset, "allocate")

    @admin.action(description="Change the status of the selected patient")
    def go_status(self, request, queryset):
        return self._go(request, queryset, "status")
