"""Visits in the admin: read-only calendar rows, recorded through a page that calls the same
services as the API (window check, deviation flag, audited corrections)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ecrf.admin_base import ScopedAdmin
from patients.admin import PatientAdmin
from patients.admin_workflow import workflow_view
from patients.models import Patient
from visits.admin_casebook import add_url, casebook_page
from visits.labs.admin import LabResultAdmin
from visits.labs.models import LabResult
from visits.models import Visit, VisitStatus
from visits.safety.admin import AdverseEventAdmin
from visits.safety.models import AdverseEvent, CtcaeTerm
from visits.selectors import visit_display_status
from visits.services import unscheduled_visit_create, visit_correct, visit_record, visit_void
from visits.worklists import AdverseEventWorklistFilter, LabWorklistFilter, VisitWorklistFilter


class VisitRecordAdminForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(VisitStatus.COMPLETED, "Completed"), (VisitStatus.MISSED, "Missed")]
    )
    actual_date = forms.DateField(required=False, help_text="Required for a completed visit.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        required=False, help_text="Required when correcting a visit already recorded."
    )


class UnscheduledVisitAdminForm(forms.Form):
    actual_date = forms.DateField(help_text="Date of the visit (YYYY-MM-DD).")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(Visit)
class VisitAdmin(ScopedAdmin):
    study_field = "patient__study"
    site_field = "patient__site"
    list_display = [
        "patient",
        "code",
        "target_date",
        "window_start",
        "window_end",
        "actual_date",
        "current_status",
        "out_of_window",
    ]
    list_filter = [
        VisitWorklistFilter,
        "patient__study",
        "patient__site",
        "status",
        "out_of_window",
    ]
    search_fields = ["patient__subject_id", "code"]
    list_select_related = ["patient"]
    readonly_fields = ["record_link"]
    voidable = True  # an unscheduled visit entered in error; a scheduled one is recorded missed

    def void_record(self, actor, record, *, reason, version):
        return visit_void(actor=actor, visit=record, reason=reason, expected_version=version)

    @admin.display(description="status")
    def current_status(self, visit):
        return visit_display_status(visit).value

    @admin.display(description="Record")
    def record_link(self, visit):
        url = reverse("admin:visits_visit_record", args=[visit.pk])
        return format_html('<a href="{}">Record or correct this visit</a>', url)

    def get_urls(self):
        record = path(
            "<path:object_id>/record/",
            self.admin_site.admin_view(self.record_view),
            name="visits_visit_record",
        )
        return [record, *super().get_urls()]

    def record_view(self, request, object_id):
        def perform(visit, form):
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            if visit.status == VisitStatus.SCHEDULED:
                recorded = visit_record(actor=request.user, visit=visit, **data)
            else:
                recorded = visit_correct(
                    actor=request.user,
                    visit=visit,
                    changes=data,
                    reason=reason,
                    expected_version=visit.version,
                )
            flag = " outside its window (protocol deviation)" if recorded.out_of_window else ""
            return f"Visit {recorded.code} recorded as {recorded.status}{flag}."

        return workflow_view(
            self,
            request,
            object_id,
            title="Record the visit",
            intro="A date outside the visit window is accepted and flagged as a deviation.",
            form_factory=lambda visit, data: VisitRecordAdminForm(data),
            perform=perform,
            submit_label="Record",
        )


# The patient's casebook reads every record of the patient (labs, findings, safety, dosing,
# endpoints), and an unscheduled visit is a visit, so both join the patient's admin here, at the
# top of the stack, rather than in `patients`, which may not know what is recorded over a
# patient's course. The patient's workflow links reach them by URL name.
admin.site.unregister(Patient)


@admin.register(Patient)
class PatientCasebookAdmin(PatientAdmin):
    def get_urls(self):
        pages = [
            path(
                "<path:object_id>/casebook/",
                self.admin_site.admin_view(self.casebook_view),
                name="patients_patient_casebook",
            ),
            path(
                "<path:object_id>/unscheduled-visit/",
                self.admin_site.admin_view(self.unscheduled_visit_view),
                name="patients_patient_unscheduled_visit",
            ),
        ]
        return [*pages, *super().get_urls()]

    def casebook_view(self, request, object_id):
        patients = self.get_queryset(request).select_related("study", "site", "arm")
        patient = patients.filter(pk=object_id).first()
        if patient is None:
            raise Http404("No such patient.")
        return casebook_page(self, request, patient)

    def unscheduled_visit_view(self, request, object_id):
        def perform(patient, form):
            visit = unscheduled_visit_create(
                actor=request.user, patient=patient, **form.cleaned_data
            )
            return f"Unscheduled visit {visit.code} recorded."

        return workflow_view(
            self,
            request,
            object_id,
            title="Record an unscheduled visit",
            form_factory=lambda p, data: UnscheduledVisitAdminForm(data),
            perform=perform,
            submit_label="Record visit",
        )


# The worklists (visits.worklists) read adverse events beside lab results, so their filters join
# the lab and event lists here, above both apps; the admin index shows their counts.
admin.site.index_template = "admin/ecrf_index.html"
admin.site.unregister(LabResult)
admin.site.unregister(AdverseEvent)


@admin.register(LabResult)
class LabResultWorklistAdmin(LabResultAdmin):
    list_display = [*LabResultAdmin.list_display, "decide"]
    list_filter = [LabWorklistFilter, *LabResultAdmin.list_filter]

    def get_queryset(self, request):
        # The suggested term's dictionary entry, so that "Record as adverse event" preselects it.
        terms = CtcaeTerm.objects.filter(
            meddra_code=OuterRef("ctcae_meddra_code"),
            ctcae_version=OuterRef("patient__study__ctcae_version"),
        )
        return super().get_queryset(request).annotate(term_id=Subquery(terms.values("pk")[:1]))

    def get_list_display(self, request):
        if request.GET.get("worklist") == "awaiting_ctcae":  # what a decision needs, in one view
            return self._shown(
                ["patient", "collected_at", "test_code", "value", "unit", "times_uln",
                 "ctcae_term", "ctcae_grade", "decide"]
            )  # fmt: skip
        return super().get_list_display(request)

    @admin.display(description="CTCAE decision")
    def decide(self, result):
        if not result.ctcae_grade or result.is_voided:
            return "—"
        url = add_url(
            "safety/adverseevent",
            patient=result.patient_id,
            visit=result.visit_id,
            lab_result=result.pk,
            term=getattr(result, "term_id", None),
            grade=result.ctcae_grade,
            onset_date=timezone.localdate(result.collected_at).isoformat(),
        )
        return format_html('<a href="{}">Record as adverse event</a>', url)


@admin.register(AdverseEvent)
class AdverseEventWorklistAdmin(AdverseEventAdmin):
    list_filter = [AdverseEventWorklistFilter, *AdverseEventAdmin.list_filter]
    list_display = [
        name if name != "reporting_deadline" else "report_due"
        for name in AdverseEventAdmin.list_display
    ]

    @admin.display(description="SAE report due")
    def report_due(self, event):
        deadline = event.reporting_deadline
        if deadline is None:
            return "—"
        local = timezone.localtime(deadline)
        left = deadline - timezone.now()
        when = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        if left.total_seconds() <= 0:
            return f"{when} (passed)"
        hours, rest = divmod(int(left.total_seconds()), 3600)
        return f"{when} (in {hours} h {rest // 60:02d} min)"
