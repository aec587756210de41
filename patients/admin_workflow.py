"""Admin pages for workflow steps (consent, eligibility, allocation, visits...).

Each page is a form whose valid data is handed to the same service the API calls, so the rules
are identical; a refusal from the service is shown on the form field it names.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ecrf.admin_errors import add_service_errors
from ecrf.domain.errors import DomainError
from ecrf.exceptions import ServiceError

TEMPLATE = "admin/workflow/form.html"


def workflow_view(
    model_admin,
    request,
    object_id: str,
    *,
    title: str,
    form_factory: Callable[[object, dict | None], forms.Form],
    perform: Callable[[object, forms.Form], str],
    submit_label: str,
    intro: str = "",
    table: tuple[list[str], list[list]] | None = None,
):
    """GET shows the form; a valid POST calls `perform(obj, form)`, which returns the success
    message, then goes back to the object's change page."""
    obj = model_admin.get_queryset(request).filter(pk=object_id).first()
    if obj is None or not model_admin.has_view_permission(request, obj):
        raise Http404("No such record.")
    opts = model_admin.model._meta
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    form = form_factory(obj, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            message = perform(obj, form)
        except (ServiceError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            model_admin.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(change_url)
    headings, rows = table or ([], [])
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": obj,
        "title": title,
        "intro": intro,
        "form": form,
        "submit_label": submit_label,
        "headings": headings,
        "rows": rows,
        "change_url": change_url,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, TEMPLATE, context)
