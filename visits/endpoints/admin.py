"""Admin: stored assessments, the study report page and each patient's platelet chart."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ecrf.access import Action, can, scope_queryset
from ecrf.admin_base import ScopedAdmin
from ecrf.display import plain_number
from ecrf.domain.endpoints import baseline_platelets, parse_response_criteria
from patients.models import Patient
from trials.selectors import studies_for
from visits.dosing.models import DoseAdjustment, DoseRecord
from visits.endpoints.chart import ChartLine, ChartMark, ChartPoint, ChartSpan, platelet_chart_svg
from visits.endpoints.evaluation import build_course, endpoint_specs
from visits.endpoints.models import PatientAssessment
from visits.endpoints.report import study_report
from visits.endpoints.selectors import patient_assessment
from visits.endpoints.sources import CourseData


@admin.register(PatientAssessment)
class PatientAssessmentAdmin(ScopedAdmin):
    study_field = "patient__study"
    site_field = "patient__site"
    list_display = ["patient", "protocol_version", "evaluated_on", "chart_link"]
    list_filter = ["patient__study", "patient__site"]
    search_fields = ["patient__subject_id"]
    list_select_related = ["patient", "protocol_version__study"]
    change_list_template = "admin/endpoints/assessment_changelist.html"

    @admin.display(description="platelet chart")
    def chart_link(self, obj):
        url = reverse("admin:endpoints_patient_chart", args=[obj.patient_id])
        return format_html('<a href="{}">chart</a>', url)

    def get_urls(self):
        own = [
            path(
                "report/<int:study_id>/",
                self.admin_site.admin_view(self.report_view),
                name="endpoints_study_report",
            ),
            path(
                "chart/<int:patient_id>/",
                self.admin_site.admin_view(self.chart_view),
                name="endpoints_patient_chart",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        studies = [
            s
            for s in studies_for(request.user)
            if can(request.user, Action.VIEW_REPORTS, study_id=s.pk)
        ]
        extra = {"report_studies": studies, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def report_view(self, request, study_id: int):
        study = get_object_or_404(studies_for(request.user), pk=study_id)
        if not can(request.user, Action.VIEW_REPORTS, study_id=study.pk):
            raise Http404("No report access")
        report = study_report(study, protocol_version=study.current_protocol())
        patients = scope_queryset(
            Patient.objects.filter(study=study, arm__isnull=False), request.user, Action.VIEW
        ).select_related("arm", "site")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Study report — {study.registry_id}",
            "study": study,
            "report": report,
            "patients": patients,
        }
        return TemplateResponse(request, "admin/endpoints/report.html", context)

    def chart_view(self, request, patient_id: int):
        patients = scope_queryset(
            Patient.objects.select_related("study", "arm"), request.user, Action.VIEW
        )
        patient = get_object_or_404(patients, pk=patient_id)
        version = patient.study.current_protocol()
        result = patient_assessment(patient, protocol_version=version)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Platelet course — {patient.subject_id}",
            "patient": patient,
            "protocol_version": version,
            "assessment": result,
            "chart": mark_safe(patient_chart(patient, version, result)),  # noqa: S308 - built from escaped parts
        }
        return TemplateResponse(request, "admin/endpoints/chart.html", context)


def chart_thresholds(criteria, specs) -> list[ChartLine]:
    """The protocol's response levels, plus any other threshold a primary endpoint uses."""
    lines: dict[tuple, ChartLine] = {}
    for level in criteria.platelet_levels:
        if level.platelets is not None:
            key = (level.platelets.op, level.platelets.value)
            lines[key] = ChartLine(float(level.platelets.value), f"{level.code} {key[0]} {key[1]}")
    for spec in specs:
        if not spec.primary:
            continue
        for level in spec.criteria.platelet_levels:
            key = (level.platelets.op, level.platelets.value) if level.platelets else None
            if key is not None and key not in lines:
                label = f"{spec.code}: {level.code} {key[0]} {key[1]}"
                lines[key] = ChartLine(float(level.platelets.value), label)
    return list(lines.values())


def patient_chart(patient: Patient, version, result: dict) -> str:
    if patient.day1 is None:
        return '<p class="help">Not randomized or enrolled yet.</p>'
    criteria = parse_response_criteria(version.response_criteria or {})
    data = CourseData([patient.pk], as_of=None)
    course = build_course(patient, data, evaluated_on=dt.date.today())
    baseline = baseline_platelets(criteria, course)
    thresholds = chart_thresholds(criteria, endpoint_specs(version))
    points = [
        ChartPoint(dt.date.fromisoformat(v["date"]), float(v["platelet_count"]), v["response"])
        for v in result["visits"]
    ]
    rescue = [ChartSpan(r.start, r.stop or course.as_of, r.therapy) for r in course.rescue]
    dose_changes = [
        ChartMark(
            a.effective_date,
            f"{a.drug}: {plain_number(a.previous_daily_mg)} → "
            f"{plain_number(a.new_daily_mg)} mg/day",
        )
        for a in DoseAdjustment.objects.filter(patient=patient, is_voided=False)
    ] + [
        ChartMark(r.start_date, f"{r.drug} {plain_number(r.daily_mg)} mg/day from {r.start_date}")
        for r in DoseRecord.objects.filter(patient=patient, is_voided=False)
    ]
    return platelet_chart_svg(
        points,
        day1=patient.day1,
        thresholds=thresholds,
        baseline=float(baseline) if baseline is not None else None,
        rescue=rescue,
        dose_changes=dose_changes,
    )
