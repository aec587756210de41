"""Signing a casebook (or one visit) from the admin: the investigator enters the password again
and the meaning, on a page linked from the patient's casebook. The same service as
`POST /api/patients/{id}/signatures/`: a wrong password is a failed login that django-axes
counts towards the lockout (a locked-out signer gets its 429, as on the API)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ecrf.access import Action, scope_queryset
from ecrf.exceptions import InvalidInput, PermissionRefused
from patients.models import Patient
from visits.models import Visit
from visits.review.signatures import require_signer, signature_create


class SignForm(forms.Form):
    meaning = forms.CharField(
        max_length=300, help_text="What the signature means, e.g. “I reviewed and approve”."
    )
    visit = forms.ModelChoiceField(
        queryset=Visit.objects.none(), required=False, help_text="Empty: the whole casebook."
    )
    password = forms.CharField(widget=forms.PasswordInput, help_text="Your password, again.")

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = Visit.objects.filter(
            patient=patient, is_voided=False
        ).order_by("target_date", "id")


def sign_view(model_admin, request, patient_id: int):
    patient = (
        scope_queryset(Patient.objects.all(), request.user, Action.VIEW)
        .filter(pk=patient_id)
        .first()
    )
    if patient is None:
        raise Http404("No such patient.")
    try:
        require_signer(request.user, patient)
    except PermissionRefused as refused:
        raise PermissionDenied(str(refused)) from refused
    form = SignForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            signature = signature_create(
                actor=request.user,
                request=request,
                patient=patient,
                password=form.cleaned_data["password"],
                meaning=form.cleaned_data["meaning"],
                visit=form.cleaned_data["visit"],
            )
        except (PermissionRefused, InvalidInput) as refused:
            form.add_error(refused.field or None, str(refused))
        else:
            messages.success(request, f"Signed by {signature.printed_name}: {signature.meaning}.")
            return HttpResponseRedirect(
                reverse("admin:patients_patient_casebook", args=[patient.pk])
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Sign the casebook of {patient.subject_id}",
        "patient": patient,
        "form": form,
    }
    return TemplateResponse(request, "admin/review/sign.html", context)
