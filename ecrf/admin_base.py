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
from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path as url_path
from django.urls import reverse
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from ecrf.access import (
    Action,
    can,
    grants_for,
    is_unrestricted,
    scope_queryset,
    study_ids_for,
)
from ecrf.admin_errors import add_service_errors
from ecrf.audit import void_audited
from ecrf.display import PlainNumberInput, number_display
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


def _is_study(model) -> bool:
    return model._meta.label == "trials.Study"


def _is_site(model) -> bool:
    return model._meta.label == "trials.Site"


def site_scope_q(user, action: Action = Action.VIEW):
    """Ids of the sites where the user may perform `action` (a queryset's filter); None means
    every site."""
    if is_unrestricted(user):
        return None
    condition = Q(pk__in=[])
    for grant in grants_for(user):
        if grant.allows(action):
            condition |= Q(study_id=grant.study_id) if grant.all_sites else Q(pk__in=grant.site_ids)
    return condition


def site_label(site) -> str:
    """A site as a person chooses it: the study it belongs to, then its code and name."""
    return f"{site.study.registry_id} — {site.code} {site.name}"


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A list filter by study, site or arm that offers only those the user may see."""

    def field_choices(self, field, request, model_admin):
        model = field.related_model
        queryset = model._default_manager.all()
        user = request.user
        if _is_site(model):
            queryset = queryset.select_related("study")
            condition = site_scope_q(user)
            if condition is not None:
                queryset = queryset.filter(condition)
            return [(site.pk, site_label(site)) for site in queryset.order_by("study", "code")]
        studies = study_ids_for(user, Action.VIEW)
        if studies is not None:
            study_path = "pk" if _is_study(model) else "study_id"
            queryset = queryset.filter(**{f"{study_path}__in": studies})
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


def _scoped_by_study(model) -> bool:
    return _is_study(model) or any(f.name == "study" for f in model._meta.fields)


class VoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this record is void (entered in error, wrong patient...). Kept in the "
        "audit trail.",
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class ScopedAdmin(SimpleHistoryAdmin):
    """Read access for anyone with a role; rows limited to the user's studies and sites.

    Decimals read as plain numbers (25, not 25.0000) in lists and read-only fields;
    `number_values` may show another value for a field (None reads as —). Filters by study,
    site or arm offer only the user's own. Clinical records show whether they are voided and,
    where the role allows it, can be voided from their page with a reason (`void_view`)."""

    study_field: str = "study"
    site_field: str | None = "site"
    editable = False  # study design is read-only in the admin
    list_per_page = 50
    number_values: dict = {}
    voidable: bool | None = None  # None: a clinical record that can be edited can be voided
    change_form_template = "admin/ecrf/change_form.html"

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

    # --- Plain numbers --------------------------------------------------------------------------

    def _decimal_names(self) -> set[str]:
        return {f.name for f in self.model._meta.fields if isinstance(f, models.DecimalField)}

    def _shown(self, names) -> list:
        """The names, with each decimal field replaced by its plain-number display (one
        callable per field and admin: Django matches read-only fields by identity)."""
        displays = self.__dict__.setdefault("_number_displays", {})
        decimals = self._decimal_names()
        shown = []
        for name in names:
            if isinstance(name, str) and name in decimals:
                if name not in displays:
                    label = capfirst(self.model._meta.get_field(name).verbose_name)
                    displays[name] = number_display(name, label, self.number_values.get(name))
                name = displays[name]
            shown.append(name)
        return shown

    def get_list_display(self, request):
        names = list(super().get_list_display(request))
        if issubclass(self.model, ClinicalRecord) and "is_voided" not in names:
            names.append("is_voided")  # a voided record stays listed, flagged
        return self._shown(names)

    def readonly_field_names(self, request, obj=None) -> list:
        return list(super().get_readonly_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self._shown(self.readonly_field_names(request, obj))

    def get_exclude(self, request, obj=None):
        # A decimal shown as a plain number is not also a form field.
        replaced = self._decimal_names() & set(self.readonly_field_names(request, obj))
        excluded = super().get_exclude(request, obj)
        return [*(excluded or ()), *sorted(replaced)] if replaced else excluded

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Seen, not changed: every decimal reads as a plain number.
        return [
            (title, {**options, "fields": self._shown(options["fields"])})
            for title, options in fieldsets
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.DecimalField):
            kwargs.setdefault("widget", PlainNumberInput)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return [self._scoped_filter(item) for item in super().get_list_filter(request)]

    def _scoped_filter(self, item):
        if not isinstance(item, str):
            return item
        field = get_fields_from_path(self.model, item)[-1]
        if field.is_relation and field.related_model and _scoped_by_study(field.related_model):
            return (item, ScopedRelatedFilter)
        return item

    # --- Voiding from the admin ----------------------------------------------------------------

    def void_record(self, actor, record, *, reason, version):
        """The API's void path: the record's void service, else the audited void."""
        writes = getattr(self, "writes", None)
        if writes is not None and writes.void is not None:
            return writes.void_record(actor, record, reason=reason, version=version)
        return void_audited(record, actor=actor, reason=reason, expected_version=version)

    def _scope_ids(self, record) -> tuple[int, int | None]:
        def follow(path: str):
            *parts, last = path.split("__")
            obj = record
            for part in parts:
                obj = getattr(obj, part)
            return getattr(obj, f"{last}_id")

        site = follow(self.site_field) if self.site_field else None
        return follow(self.study_field), site

    def may_void(self, request, record) -> bool:
        voidable = self.editable if self.voidable is None else self.voidable
        if not issubclass(self.model, ClinicalRecord) or not voidable:
            return False
        study_id, site_id = self._scope_ids(record)
        return can(request.user, Action.VOID, study_id=study_id, site_id=site_id)

    def _url_name(self, page: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{page}"

    def get_urls(self):
        void = url_path(
            "<path:object_id>/void/",
            self.admin_site.admin_view(self.void_view),
            name=self._url_name("void"),
        )
        return [void, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_queryset(request).filter(pk=object_id).first() if object_id else None
        extra = dict(extra_context or {})
        if record is not None and issubclass(self.model, ClinicalRecord):
            extra["voided"] = record.is_voided
            if not record.is_voided and self.may_void(request, record):
                extra["void_url"] = reverse(f"admin:{self._url_name('void')}", args=[record.pk])
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def void_view(self, request, object_id):
        """Asks why, then voids through the same path as the API's DELETE."""
        record = self.get_queryset(request).filter(pk=object_id).first()
        if record is None or not issubclass(self.model, ClinicalRecord):
            raise Http404("No such record.")
        opts = self.model._meta
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
        if not self.may_void(request, record):
            self.message_user(request, "Your role does not allow voiding here.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        data = request.POST if request.method == "POST" else None
        form = VoidForm(data, initial={"expected_version": record.version})
        if data is not None and form.is_valid() and not record.is_voided:
            try:
                self.void_record(
                    request.user,
                    record,
                    reason=form.cleaned_data["reason"],
                    version=form.cleaned_data["expected_version"],
                )
            except (ServiceError, DomainError, DjangoValidationError) as error:
                add_service_errors(form, error)
            else:
                self.message_user(request, f"{capfirst(opts.verbose_name)} “{record}” voided.")
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "original": record,
            "title": f"Void this {opts.verbose_name}?",
            "form": form,
            "change_url": change_url,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        return TemplateResponse(request, "admin/ecrf/void.html", context)


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
        if field is not None and _is_site(db_field.related_model):
            field.queryset = field.queryset.select_related("study")
            field.label_from_instance = site_label
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

    def readonly_field_names(self, request, obj=None):
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
                admin.offer_drugs(self)

            def clean(self):
                cleaned = super().clean()
                if not self.errors:  # the services need every field to be valid first
                    admin.validate_by_dry_run(request, self)
                return cleaned

        return ServiceValidatedForm

    @staticmethod
    def patient_id_of(form) -> int | None:
        """The form's patient: stored, posted, or preselected in the add page's address."""
        patient_id = getattr(form.instance, "patient_id", None)
        if patient_id is None and "patient" in form.fields:
            patient_id = form.data.get("patient") or form.initial.get("patient")
        if not patient_id or not str(patient_id).isdigit():
            return None
        return int(patient_id)

    @classmethod
    def limit_to_patient(cls, form) -> None:
        """A record of one patient offers only that patient's visits, lab results, events..."""
        patient_id = cls.patient_id_of(form)
        if patient_id is None:
            return
        for name, field in form.fields.items():
            queryset = getattr(field, "queryset", None)
            if name == "patient" or queryset is None:
                continue
            if any(f.name == "patient" for f in queryset.model._meta.fields):
                field.queryset = queryset.filter(patient_id=patient_id)

    def drug_choices(self, form) -> list[str] | None:
        """The drugs the form's `drug` may name (the patient's arm's), or None: typed."""
        return None

    def offer_drugs(self, form) -> None:
        """A `drug` typed by hand becomes a choice among the drugs the record may name."""
        if "drug" not in form.fields:
            return
        drugs = self.drug_choices(form)
        if not drugs:
            return
        field = form.fields["drug"]
        form.fields["drug"] = forms.ChoiceField(
            choices=[("", "---------"), *((drug, drug) for drug in drugs)],
            required=field.required,
            label=field.label,
            help_text="The drugs of the patient's arm (its regimens in the patient's protocol "
            "version).",
        )

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
