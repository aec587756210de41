"""Queries, freezes and locks in the admin, written through the same services as the API.

A query is raised on its add page (the casebook links to it with the record preselected); its
steps — answer, close, re-open — are workflow pages linked from the query's page. A freeze or
lock is placed on its add page and released on its "release" page, with a reason.
"""

from __future__ import annotations

import contextvars

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ecrf.access import Action, can, grants_for, is_unrestricted
from ecrf.admin_base import ScopedAdmin, ServiceBackedAdmin
from ecrf.record_writes import RecordWrites
from patients.admin_workflow import workflow_view
from visits.review import queries as services
from visits.review.admin_signing import sign_view
from visits.review.locks import lock_place, lock_release
from visits.review.models import DataLock, Query, QueryStatus, Signature
from visits.review.resources import RESOURCES
from visits.review.selectors import visible_locks
from visits.review.signatures import signature_state


def _allows(request, action: Action) -> bool:
    return is_unrestricted(request.user) or any(g.allows(action) for g in grants_for(request.user))


def _not_in_the_admin(**kwargs):  # pragma: no cover - the change form is read-only
    raise NotImplementedError("Use the workflow pages.")


QUERY_WRITES = RecordWrites(create=services.query_raise, update=_not_in_the_admin, record="query")


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


_viewer: contextvars.ContextVar = contextvars.ContextVar("query_admin_viewer", default=None)
STEP_ACTIONS = {
    "answer": Action.ANSWER_QUERIES,
    "close": Action.MANAGE_QUERIES,
    "reopen": Action.MANAGE_QUERIES,
}
QUERY_STEPS = {
    # page: (title, form, service, keyword of the form's value, label, states it applies to)
    "answer": ("Answer the query", TextForm, services.query_answer, "text", "Answer",
               {QueryStatus.OPEN}),
    "close": ("Close the query", ReasonForm, services.query_close, "reason", "Close",
              {QueryStatus.OPEN, QueryStatus.ANSWERED}),
    "reopen": ("Re-open the query", ReasonForm, services.query_reopen, "reason", "Re-open",
               {QueryStatus.ANSWERED, QueryStatus.CLOSED}),
}  # fmt: skip


@admin.register(Query)
class QueryAdmin(ServiceBackedAdmin):
    """Raised by monitors and data managers, answered by the site."""

    writes = QUERY_WRITES
    service_fields = ("resource", "record_id", "field", "text")
    list_display = [
        "id",
        "subject",
        "site",
        "record",
        "status",
        "raiser",
        "opened_at",
        "text",
    ]
    list_filter = ["status", "study", "site", "resource", "edit_check"]
    search_fields = ["patient__subject_id", "text", "answer"]
    list_select_related = ["patient", "site", "raised_by"]
    readonly_fields = [
        "study", "site", "patient", "resource", "record_id", "field", "text", "status",
        "raised_by", "edit_check", "opened_at", "answer", "answered_by", "answered_at",
        "closed_by", "closed_at", "close_reason", "version", "steps",
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return list(self.service_fields) if obj is None else self.readonly_fields

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "resource":
            choices = [(name, name) for name in sorted(RESOURCES)]
            return forms.ChoiceField(choices=choices, initial=request.GET.get("resource"))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return _allows(request, Action.MANAGE_QUERIES)

    def has_change_permission(self, request, obj=None):
        return False  # a query changes only through its steps

    @admin.display(description="patient", ordering="patient__subject_id")
    def subject(self, query: Query) -> str:
        return query.patient.subject_id

    @admin.display(description="record")
    def record(self, query: Query) -> str:
        return f"{query.resource} {query.record_id}" + (f" · {query.field}" if query.field else "")

    @admin.display(description="raised by")
    def raiser(self, query: Query) -> str:
        return query.raised_by.username if query.raised_by else f"system ({query.edit_check})"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The steps shown are those the viewer's role may take (the services check again); a
        # context variable, not an attribute: the admin instance is shared by all requests.
        token = _viewer.set(request.user)
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            # Rendered here, while the viewer is set (a redirect has nothing to render).
            return response.render() if hasattr(response, "render") else response
        finally:
            _viewer.reset(token)

    @admin.display(description="steps")
    def steps(self, query: Query):
        viewer = _viewer.get()
        pages = [
            (page, step[4])
            for page, step in QUERY_STEPS.items()
            if query.status in step[5]
            and viewer is not None
            and can(viewer, STEP_ACTIONS[page], study_id=query.study_id, site_id=query.site_id)
        ]
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (reverse(f"admin:review_query_{page}", args=[query.pk]), label)
                for page, label in pages
            ),
        )

    def get_urls(self):
        return [
            path(
                f"<path:object_id>/{page}/",
                self.admin_site.admin_view(self._step_view(page)),
                name=f"review_query_{page}",
            )
            for page in QUERY_STEPS
        ] + super().get_urls()

    def _step_view(self, page: str):
        title, form_class, service, keyword, label, _ = QUERY_STEPS[page]

        def view(request, object_id):
            def perform(query, form):
                service(actor=request.user, query=query, **{keyword: form.cleaned_data[keyword]})
                return f"Query {query.pk}: {label.lower()} recorded."

            return workflow_view(
                self,
                request,
                object_id,
                title=title,
                intro=self._context_of(object_id, request),
                form_factory=lambda query, data: form_class(data),
                perform=perform,
                submit_label=label,
            )

        return view

    def _context_of(self, object_id, request) -> str:
        query = self.get_queryset(request).filter(pk=object_id).first()
        if query is None:
            return ""
        return f"{query}: “{query.text}”" + (f" — answer: “{query.answer}”" if query.answer else "")


@admin.register(DataLock)
class DataLockAdmin(ServiceBackedAdmin):
    """Freezes (a visit, a patient) and locks (a patient, the whole study)."""

    writes = RecordWrites(create=lock_place, update=_not_in_the_admin, record="lock")
    service_fields = ("kind", "scope", "study", "patient", "visit", "reason")
    site_field = None  # study-wide locks have no site; patients' locks are scoped below
    list_display = ["id", "kind", "scope", "study", "patient", "visit", "is_active", "placed_by",
                    "placed_at", "release_link"]  # fmt: skip
    list_filter = ["is_active", "kind", "scope", "study"]
    search_fields = ["patient__subject_id", "reason"]
    readonly_fields = [
        "kind", "scope", "study", "patient", "visit", "reason", "is_active", "placed_by",
        "placed_at", "released_by", "released_at", "release_reason", "version",
    ]  # fmt: skip

    def get_queryset(self, request):
        return visible_locks(request.user)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return list(self.service_fields) if obj is None else self.readonly_fields

    def has_add_permission(self, request):
        return _allows(request, Action.FREEZE_LOCK)

    def has_change_permission(self, request, obj=None):
        return False

    def create_record(self, actor, values: dict):
        return lock_place(actor=actor, **values)

    @admin.display(description="release")
    def release_link(self, lock: DataLock):
        if not lock.is_active:
            return "released"
        return format_html(
            '<a href="{}">Release</a>', reverse("admin:review_datalock_release", args=[lock.pk])
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/release/",
                self.admin_site.admin_view(self.release_view),
                name="review_datalock_release",
            ),
            *super().get_urls(),
        ]

    def release_view(self, request, object_id):
        def perform(lock, form):
            lock_release(
                actor=request.user,
                kind=lock.kind,
                scope=lock.scope,
                study=lock.study,
                patient=lock.patient,
                visit=lock.visit,
                reason=form.cleaned_data["reason"],
            )
            return f"{lock} released."

        return workflow_view(
            self,
            request,
            object_id,
            title="Release the freeze or lock",
            form_factory=lambda lock, data: ReasonForm(data),
            perform=perform,
            submit_label="Release",
        )


@admin.register(Signature)
class SignatureAdmin(ScopedAdmin):
    """Investigator e-signatures (signed through the API, with the password again), with
    whether each still holds."""

    list_display = ["id", "patient", "visit", "printed_name", "meaning", "signed_at", "holds"]
    list_filter = ["study", "site"]
    search_fields = ["patient__subject_id", "printed_name", "meaning"]
    list_select_related = ["patient", "visit"]
    readonly_fields = [
        "study", "site", "patient", "visit", "signer", "printed_name", "meaning", "signed_at",
        "records_hash", "holds", "what_changed",
    ]  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # signed from the casebook's "Sign" page (the password again)

    def get_urls(self):
        return [
            path(
                "sign/<int:patient_id>/",
                self.admin_site.admin_view(
                    lambda request, patient_id: sign_view(self, request, patient_id)
                ),
                name="review_signature_sign",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="valid")
    def holds(self, signature: Signature) -> str:
        return "yes" if signature_state(signature)["valid"] else "no: broken by a later change"

    @admin.display(description="changed since signing")
    def what_changed(self, signature: Signature) -> str:
        changes = signature_state(signature)["changes"]
        return (
            "; ".join(
                f"{c['resource']} {c['record_id']} {c['change']} "
                f"(version {c['signed_version']} → {c['current_version']})"
                for c in changes
            )
            or "—"
        )


# Source data verification's admin lives in its own module; registered with the rest.
from visits.review import admin_sdv  # noqa: E402, F401
