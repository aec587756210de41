"""Visits in the admin: read-only calendar rows, recorded through a page that calls the same
services as the API (window check, deviation flag, audited corrections)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ecrf.admin_base import ScopedAdmin
from patients.admin import PatientAdmin
from patients.admin_workflow import workflow_view
from patients.models import Patient
from visits.admin_casebook import casebook_page
from visits.models import Visit, VisitStatus
from visits.selectors import visit_display_status
from visits.services import unscheduled_visit_create, visit_correct, visit_record


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


class WorklistFilter(admin.SimpleListFilter):
    """The coordinator's morning lists: visits whose window has closed unrecorded, and visits
    whose window is open at some point in the coming seven days."""

    title = "worklist"
    parameter_name = "worklist"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue (window closed, not recorded)"), ("week", "Due this week")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        open_visits = queryset.filter(status=VisitStatus.SCHEDULED, is_voided=False)
        if self.value() == "overdue":
            return open_visits.filter(window_end__lt=today)
        if self.value() == "week":
            week_end = today + dt.timedelta(days=7)
            return open_visits.filter(window_start__lte=week_end, window_end__gte=today)
        return queryset


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
    list_filter = [WorklistFilter, "patient__study", "patient__site", "status", "out_of_window"]
    search_fields = ["patient__subject_id", "code"]
    list_select_related = ["patient"]
    readonly_fields = ["record_link"]

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
