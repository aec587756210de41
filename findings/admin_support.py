"""Admin pages whose writes go through the same service functions as the API.

The form runs the service once inside a savepoint that is rolled back, so every rule the API
enforces shows as a form error on its field; `save_model` then runs it for real. Rows are
limited to the user's studies and sites (`ecrf.admin_base`), and so are the patients, visits
and lab results offered in the drop-downs.
"""

from __future__ import annotations

from django.db import transaction

from domain.errors import DomainError
from ecrf.access import Action, scope_queryset
from ecrf.admin_base import AuditedRecordAdmin
from ecrf.exceptions import ServiceError
from patients.models import Patient

AUDIT_READONLY = ["version", "is_voided", "voided_at", "voided_by", "void_reason"]


class _DryRunDone(Exception):
    """Raised to roll back the validating run of a service."""


class ServiceBackedAdmin(AuditedRecordAdmin):
    study_field = "patient__study"
    site_field = "patient__site"
    list_select_related = ["patient"]
    search_fields = ["patient__subject_id"]
    service_fields: tuple[str, ...] = ()  # form fields handed to the services
    derived_readonly: tuple[str, ...] = ()  # computed by the services
    fixed_after_creation: tuple[str, ...] = ("patient",)

    # The two writes; each subclass calls its service function.
    def create_record(self, actor, values: dict):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def update_record(self, actor, record, changes: dict, *, reason, version):  # pragma: no cover
        raise NotImplementedError

    def get_readonly_fields(self, request, obj=None):
        fields = [*AUDIT_READONLY, *self.derived_readonly]
        if obj is not None:
            fields += list(self.fixed_after_creation)
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is None:
            return field
        model = db_field.related_model
        if model is Patient:
            field.queryset = scope_queryset(
                field.queryset.filter(is_voided=False), request.user, Action.ENTER_DATA
            )
        elif any(f.name == "patient" for f in model._meta.fields):
            field.queryset = scope_queryset(
                field.queryset,
                request.user,
                Action.VIEW,
                study_field="patient__study",
                site_field="patient__site",
            )
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        admin = self

        class ServiceValidatedForm(base):
            def clean(self):
                cleaned = super().clean()
                if not self.errors:
                    admin.validate_by_dry_run(request, self)
                return cleaned

        return ServiceValidatedForm

    def write(self, request, form):
        values = {name: form.cleaned_data.get(name) for name in self.service_fields}
        values = {name: value for name, value in values.items() if name in form.cleaned_data}
        if form.instance.pk is None:
            return self.create_record(request.user, values)
        changes = {name: value for name, value in values.items() if name in form.changed_data}
        return self.update_record(
            request.user,
            form.instance,
            changes,
            reason=form.cleaned_data.get("reason_for_change"),
            version=form.cleaned_data.get("expected_version"),
        )

    def validate_by_dry_run(self, request, form) -> None:
        try:
            with transaction.atomic():
                self.write(request, form)
                raise _DryRunDone
        except _DryRunDone:
            return
        except ServiceError as error:
            for item in error.errors:
                name = item.get("field")
                form.add_error(name if name in form.fields else None, item["message"])
        except DomainError as error:
            name = error.field if error.field in form.fields else None
            form.add_error(name, error.message)

    def save_model(self, request, obj, form, change):
        saved = self.write(request, form)
        # The admin goes on with `obj` (redirects, log entry): make it the stored record.
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        """Records here have no many-to-many fields; the services saved everything."""
