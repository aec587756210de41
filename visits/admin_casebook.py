"""The casebook page of the admin: one page with everything recorded about one patient.

Each section links to the admin pages that add or correct its records, with the patient (and the
visit) preselected; the data come from `visits.casebook.patient_casebook` (bounded queries).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe

from patients.models import Patient
from patients.selectors import latest_consent
from visits.casebook import Casebook, eligibility_checklist, patient_casebook
from visits.endpoints.admin import patient_chart
from visits.endpoints.selectors import patient_assessment

TEMPLATE = "admin/patients/casebook.html"

# What a higher layer adds to the page (issue 14: each open query at its record, the freezes and
# locks): `extend(request, patient, casebook, context)` annotates records and adds context. The
# casebook never imports those layers; they register here in their AppConfig.ready().
CasebookExtension = Callable[[HttpRequest, Patient, Casebook, dict], None]
_extensions: dict[str, CasebookExtension] = {}


def register_casebook_extension(name: str, extend: CasebookExtension) -> None:
    """Registers (or, under the same name, replaces) one extension."""
    _extensions[name] = extend


def add_url(model_path: str, **preselected) -> str:
    """The admin add page of `app/model` with fields preselected (the admin reads GET values)."""
    app, model = model_path.split("/")
    query = urlencode({k: v for k, v in preselected.items() if v is not None})
    return reverse(f"admin:{app}_{model}_add") + (f"?{query}" if query else "")


def casebook_page(model_admin, request, patient: Patient):
    casebook = patient_casebook(patient)
    version = patient.study.current_protocol()
    assessment = {"visits": [], "endpoints": {}}
    chart = '<p class="help">Not randomized or enrolled yet.</p>'
    if patient.day1 is not None and version is not None:
        assessment = patient_assessment(patient, protocol_version=version)
        chart = patient_chart(patient, version, assessment)
    for group in casebook.labs_by_visit:
        group.add_url = add_url(
            "labs/labresult", patient=patient.pk, visit=group.visit.pk if group.visit else None
        )
    for visit in casebook.visits:
        visit.record_url = reverse("admin:visits_visit_record", args=[visit.pk])
        visit.add_lab_url = add_url("labs/labresult", patient=patient.pk, visit=visit.pk)
        visit.add_ae_url = add_url("safety/adverseevent", patient=patient.pk, visit=visit.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": patient,
        "title": f"Casebook — {patient.subject_id}",
        "patient": patient,
        "casebook": casebook,
        "latest_consent": latest_consent(patient),
        "checklist": eligibility_checklist(casebook.eligibility),
        "assessment": assessment,
        "endpoints": sorted(assessment["endpoints"].items()),
        "chart": mark_safe(chart),  # noqa: S308 - the chart is built from escaped parts
        "links": {
            "change": reverse("admin:patients_patient_change", args=[patient.pk]),
            "consent": reverse("admin:patients_patient_consent", args=[patient.pk]),
            "eligibility": reverse("admin:patients_patient_eligibility", args=[patient.pk]),
            "allocate": reverse("admin:patients_patient_allocate", args=[patient.pk]),
            "chart": reverse("admin:endpoints_patient_chart", args=[patient.pk]),
            "add_lab": add_url("labs/labresult", patient=patient.pk),
            "add_ae": add_url("safety/adverseevent", patient=patient.pk),
            "add_dose": add_url("dosing/doserecord", patient=patient.pk),
            "add_adjustment": add_url("dosing/doseadjustment", patient=patient.pk),
            "add_bleeding": add_url("findings/bleedingassessment", patient=patient.pk),
            "add_rescue": add_url("findings/rescuetherapy", patient=patient.pk),
        },
    }
    for extend in _extensions.values():
        extend(request, patient, casebook, context)
    return TemplateResponse(request, TEMPLATE, context)
