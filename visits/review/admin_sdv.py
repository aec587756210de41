"""Source data verification in the admin: the list of marks (standing and cleared, with why),
and the add page that marks a record — or a visit with its records — through the API's service.
The casebook links each record's "verify" to this add page with the record preselected."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from ecrf.access import Action, grants_for, is_unrestricted
from ecrf.admin_base import ServiceBackedAdmin
from ecrf.record_writes import RecordWrites
from visits.review.models import SourceVerification
from visits.review.resources import RESOURCES
from visits.review.sdv import sdv_mark_in_admin


def _not_in_the_admin(**kwargs):  # pragma: no cover - the change form is read-only
    raise NotImplementedError("A mark is cleared by a change of its record, not edited.")


@admin.register(SourceVerification)
class SourceVerificationAdmin(ServiceBackedAdmin):
    """Source-verified records: a later change of the record clears its mark (who, when, why)."""

    writes = RecordWrites(create=sdv_mark_in_admin, update=_not_in_the_admin, record="verification")
    service_fields = ("resource", "record_id")
    list_display = ["id", "patient", "site", "resource", "record_id", "record_version",
                    "verified_by", "verified_at", "is_cleared", "cleared_reason"]  # fmt: skip
    list_filter = ["is_cleared", "study", "site", "resource"]
    search_fields = ["patient__subject_id", "cleared_reason"]
    list_select_related = ["patient", "site", "verified_by"]
    readonly_fields = [
        "study", "site", "patient", "resource", "record_id", "record_version", "verified_by",
        "verified_at", "is_cleared", "cleared_at", "cleared_by", "cleared_reason", "version",
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return list(self.service_fields) if obj is None else self.readonly_fields

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "resource":
            choices = [(name, name) for name in sorted(RESOURCES)]
            return forms.ChoiceField(
                choices=choices,
                initial=request.GET.get("resource"),
                help_text="A visit: the visit and all its records.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return is_unrestricted(request.user) or any(
            grant.allows(Action.VERIFY_SOURCE) for grant in grants_for(request.user)
        )

    def has_change_permission(self, request, obj=None):
        return False
