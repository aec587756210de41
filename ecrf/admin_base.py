"""Admin base classes: scoped to the user's studies and sites, audited like the API.

Every change made in the admin asks for a reason and records the acting user; a stale form
(someone else saved the record meanwhile) is refused instead of overwriting their change.
Clinical records cannot be deleted here; study design is read-only (it changes through
protocol files, which keep every version).

Records with services (`ServiceBackedAdmin`, `PatientRecordAdmin`) are written through the
same service functions as the API (`ecrf.record_writes.RecordWrites`): the form runs the write
once inside a savepoint that is rolled back, so every rule the service enforces shows as a
form error on its field (`add_service_errors`); `save_model` then runs it for real.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from ecrf.access import Action, grants_for, is_unrestricted, scope_queryset, study_ids_for
from ecrf.domain.errors import DomainError
from ecrf.exceptions import ServiceError
from ecrf.models import ClinicalRecord
from ecrf.record_writes import RecordWrites


class AuditedAdminForm(forms.ModelForm):
    reason_for_change = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for every change to an existing record; kept in the audit trail.",
    )
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            # A reason and a version belong to changes of a stored record, not to a new one.
            del self.fields["reason_for_change"], self.fields["expected_version"]
        else:
            # The stored version, not the instance's: History's "Revert" form is built from an
            # old version of the record and must not look like a stale edit.
            stored = type(self.instance)._default_manager.filter(pk=self.instance.pk)
            current = stored.values_list("version", flat=True).first()
            self.fields["expected_version"].initial = (
                self.instance.version if current is None else current
            )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            if not (cleaned.get("reason_for_change") or "").strip():
                self.add_error("reason_for_change", "Give a reason for this change.")
            stored = type(self.instance)._default_manager.filter(pk=self.instance.pk)
            current = stored.values_list("version", flat=True).first()
            sent = cleaned.get("expected_version")
            if sent is not None and current is not None and sent != current:
                raise forms.ValidationError(
                    "Someone else changed this record while you were editing it. "
                    "Reload the page and apply your change again."
                )
        return cleaned


def _allows(request, action: Action) -> bool:
    if is_unrestricted(request.user):
        return True
    return any(g.allows(action) for g in grants_for(request.user))


class ScopedAdmin(SimpleHistoryAdmin):
    """Read access for anyone with a role; rows limited to the user's studies and sites."""

    study_field: str = "study"
    site_field: str | None = "site"
    editable = False  # study design is read-only in the admin
    list_per_page = 50

    def get_queryset(self, request):
        return scope_queryset(
            super().get_queryset(request),
            request.user,
            Action.VIEW,
            study_field=self.study_field,
            site_field=self.site_field,
        )

    def has_module_permission(self, request):
        return _allows(request, Action.VIEW)

    def has_view_permission(self, request, obj=None):
        return _allows(request, Action.VIEW)

    def has_add_permission(self, request):
        return self.editable and _allows(request, Action.ENTER_DATA)

    def has_change_permission(self, request, obj=None):
        return self.editable and _allows(request, Action.ENTER_DATA)

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedRecordAdmin(ScopedAdmin):
    """Editable clinical records: reason required, version checked, user recorded."""

    editable = True
    form = AuditedAdminForm

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        obj._change_reason = (form.cleaned_data.get("reason_for_change") or "").strip() or (
            "Entered in the admin"
        )
        if change:
            obj.version += 1
        obj.save()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is None or is_unrestricted(request.user):
            return field
        if db_field.name == "site":
            field.queryset = field.queryset.filter(pk__in=self._site_ids(request, field.queryset))
        elif db_field.name == "study":
            field.queryset = field.queryset.filter(
                pk__in=study_ids_for(request.user, Action.ENTER_DATA)
            )
        return field

    @staticmethod
    def _site_ids(request, queryset):
        ids = set()
        for grant in grants_for(request.user):
            if not grant.allows(Action.ENTER_DATA):
                continue
            if grant.all_sites:
                ids |= set(queryset.filter(study_id=grant.study_id).values_list("pk", flat=True))
            else:
                ids |= grant.site_ids
        return ids


class ReadOnlyInline(admin.TabularInline):
    """Rows shown with their parent record; written elsewhere (their own page or a service)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Writes through services ---------------------------------------------------------------------

RefusedWrite = ServiceError | DomainError | DjangoValidationError


def add_service_errors(form: forms.Form, error: RefusedWrite, aliases: dict | None = None) -> None:
    """Puts each error of a refused write on the form field it names: a dotted path by the form
    field `a__b` or by its first part, through `aliases` (service name → form field) where the
    form names a value differently; anything else is a form-wide error prefixed with its path."""
    for path, message in _errors_of(error):
        field = _form_field(form, path, aliases or {})
        if field is not None:
            form.add_error(field, message)
        else:
            form.add_error(None, f"{path}: {message}" if path else message)


def _errors_of(error: RefusedWrite) -> list[tuple[str | None, str]]:
    if isinstance(error, ServiceError):
        return [(item.get("field"), item["message"]) for item in error.errors]
    if isinstance(error, DomainError):
        return [(error.field, error.message)]
    details = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    return [
        (None if name == NON_FIELD_ERRORS else name, message)
        for name, messages in details.items()
        for message in messages
    ]


def _form_field(form: forms.Form, path: str | None, aliases: dict) -> str | None:
    if not path:
        return None
    for name in (path.replace(".", "__"), path.split(".")[0]):
        name = aliases.get(name, name)
        if name in form.fields:
            return name
    return None


def _differs(stored, sent) -> bool:
    empty = (None, "")
    return not (stored in empty and sent in empty) and stored != sent


class _DryRunDone(Exception):
    """Raised to roll back the validating run of a service."""


class ServiceBackedAdmin(AuditedRecordAdmin):
    """Editable records whose creates and updates go through `writes`, the API's services.

    `service_fields` are the form fields handed to the services (on an update, the changed
    ones); `derived_readonly` are computed by the services; `fixed_after_creation` cannot be
    changed once stored; `field_aliases` map a service's field name to the form's.
    Foreign keys offer only what the user may enter data for: live patients, and records of
    those patients (visits, lab results, adverse events, ...).
    """

    writes: RecordWrites
    service_fields: tuple[str, ...] = ()
    derived_readonly: tuple[str, ...] = ()
    fixed_after_creation: tuple[str, ...] = ()
    field_aliases: dict[str, str] = {}

    def create_record(self, actor, values: dict):
        return self.writes.create_record(actor, **values)

    def update_record(self, actor, record, changes: dict, *, reason, version):
        return self.writes.update_record(actor, record, changes, reason=reason, version=version)

    def get_fields(self, request, obj=None):
        # A new record shows only what is entered; derived, audit and void fields come later.
        if obj is None and self.service_fields:
            return list(self.service_fields)
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        audit = ["version"]
        if issubclass(self.model, ClinicalRecord):
            audit = ["is_voided", "voided_at", "voided_by", "void_reason", *audit]
        fields = [*self.derived_readonly, *audit]
        if obj is not None:
            fields += list(self.fixed_after_creation)
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is None:
            return field
        model = db_field.related_model
        own_fields = {f.name for f in model._meta.fields}
        if {"study", "site"} <= own_fields:  # a patient (or another record placed at a site)
            field.queryset = scope_queryset(
                field.queryset.filter(is_voided=False), request.user, Action.ENTER_DATA
            )
        elif "patient" in own_fields:
            field.queryset = scope_queryset(
                field.queryset.select_related("patient"),
                request.user,
                Action.ENTER_DATA,
                study_field="patient__study",
                site_field="patient__site",
            )
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        admin = self

        class ServiceValidatedForm(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                admin.limit_to_patient(self)

            def clean(self):
                cleaned = super().clean()
                if not self.errors:  # the services need every field to be valid first
                    admin.validate_by_dry_run(request, self)
                return cleaned

        return ServiceValidatedForm

    @staticmethod
    def limit_to_patient(form) -> None:
        """A record of one patient offers only that patient's visits, lab results, events...:
        the patient stored, posted, or preselected in the add page's address."""
        patient_id = getattr(form.instance, "patient_id", None)
        if patient_id is None and "patient" in form.fields:
            patient_id = form.data.get("patient") or form.initial.get("patient")
        if not patient_id or not str(patient_id).isdigit():
            return
        for name, field in form.fields.items():
            queryset = getattr(field, "queryset", None)
            if name == "patient" or queryset is None:
                continue
            if any(f.name == "patient" for f in queryset.model._meta.fields):
                field.queryset = queryset.filter(patient_id=int(patient_id))

    def write(self, request, form):
        data = form.cleaned_data  # fields fixed after creation are not in the change form
        values = {name: data[name] for name in self.service_fields if name in data}
        if form.instance.pk is None:
            return self.create_record(request.user, values)
        stored = type(form.instance)._default_manager.get(pk=form.instance.pk)
        # Against the stored record, not the form's initial values: a History "Revert" form
        # starts from the old values, so what it changes is what differs from today's record.
        changes = {
            name: value for name, value in values.items() if _differs(getattr(stored, name), value)
        }
        return self.update_record(
            request.user,
            stored,
            changes,
            reason=data.get("reason_for_change"),
            version=data.get("expected_version"),
        )

    def validate_by_dry_run(self, request, form) -> None:
        try:
            with transaction.atomic():
                self.write(request, form)
                raise _DryRunDone
        except _DryRunDone:
            return
        except (ServiceError, DomainError, DjangoValidationError) as error:
            add_service_errors(form, error, self.field_aliases)

    def save_model(self, request, obj, form, change):
        saved = self.write(request, form)
        # The admin goes on with `obj` (redirects, log entry): make it the stored record.
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        """The services saved everything (these records have no many-to-many fields); the
        inlines are read-only, so their formsets saved nothing (the change message reads these
        lists)."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def get_inline_instances(self, request, obj=None):
        # The inlines show what is stored with a record; a record being added has none yet.
        return super().get_inline_instances(request, obj) if obj is not None else []


class PatientRecordAdmin(ServiceBackedAdmin):
    """A patient's clinical records (one patient each), written through their services."""

    study_field = "patient__study"
    site_field = "patient__site"
    list_select_related = ["patient"]
    search_fields = ["patient__subject_id"]
    fixed_after_creation: tuple[str, ...] = ("patient",)
