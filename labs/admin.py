from django.contrib import admin

from ecrf.access import Action, scope_queryset
from ecrf.admin_base import AuditedRecordAdmin
from labs import services
from labs.admin_forms import RequestFormAdminMixin, ServiceCheckedAdminForm
from labs.models import DEFAULT_LABORATORY, LabResult, ReferenceRange
from patients.models import Patient
from visits.models import Visit

LAB_RESULT_INPUT_FIELDS = [
    "patient",
    "visit",
    "collected_at",
    "test_code",
    "laboratory",
    "value",
    "unit",
    "lln",
    "uln",
    "source_accession",
]
LAB_RESULT_DERIVED_FIELDS = [
    "value_std",
    "unit_std",
    "lln_std",
    "uln_std",
    "range_source",
    "reference_range",
    "indicator",
    "times_uln",
    "ctcae_term",
    "ctcae_meddra_code",
    "ctcae_grade",
    "ctcae_basis",
    "ctcae_note",
    "baseline_result",
    "is_voided",
    "voided_at",
    "voided_by",
    "void_reason",
    "version",
]


class LabResultAdminForm(ServiceCheckedAdminForm):
    class Meta:
        model = LabResult
        fields = LAB_RESULT_INPUT_FIELDS

    def check(self, cleaned_data: dict) -> None:
        patient = cleaned_data.get("patient") or self.instance.patient
        services.check_can_enter_data(self.request.user, patient)
        services.prepare_lab_result(
            patient=patient,
            collected_at=cleaned_data["collected_at"],
            reported=services.ReportedValue(
                cleaned_data["test_code"],
                cleaned_data["value"],
                cleaned_data["unit"],
                cleaned_data.get("lln"),
                cleaned_data.get("uln"),
                cleaned_data.get("laboratory") or DEFAULT_LABORATORY,
            ),
            visit=cleaned_data.get("visit"),
        )


def _entry_queryset(request, queryset, prefix: str = ""):
    """Only patients (and their visits) the user may enter data for."""
    return scope_queryset(
        queryset,
        request.user,
        Action.ENTER_DATA,
        study_field=f"{prefix}study",
        site_field=f"{prefix}site",
    )


@admin.register(LabResult)
class LabResultAdmin(RequestFormAdminMixin, AuditedRecordAdmin):
    form = LabResultAdminForm
    study_field = "patient__study"
    site_field = "patient__site"
    list_display = [
        "patient",
        "collected_at",
        "test_code",
        "value",
        "unit",
        "indicator",
        "times_uln",
        "ctcae_term",
        "ctcae_grade",
        "range_source",
        "is_voided",
    ]
    list_filter = ["patient__study", "patient__site", "test_code", "indicator", "is_voided"]
    search_fields = ["patient__subject_id", "test_code", "source_accession"]
    list_select_related = ["patient"]
    date_hierarchy = "collected_at"
    readonly_fields = LAB_RESULT_DERIVED_FIELDS

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["patient", "source_accession"]  # fixed once stored
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "patient":
            kwargs["queryset"] = _entry_queryset(request, Patient.objects.all())
        elif db_field.name == "visit":
            kwargs["queryset"] = _entry_queryset(
                request, Visit.objects.select_related("patient"), "patient__"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {
                name: data[name]
                for name in form.changed_data
                if name in services.CORRECTABLE_FIELDS
            }
            saved = services.lab_result_correct(
                actor=request.user,
                result=LabResult.objects.get(pk=obj.pk),
                changes=changes,
                reason=data.get("reason_for_change"),
                expected_version=data.get("expected_version"),
            )
        else:
            saved = services.lab_result_create(
                actor=request.user,
                patient=data["patient"],
                collected_at=data["collected_at"],
                test_code=data["test_code"],
                value=data["value"],
                unit=data["unit"],
                lln=data.get("lln"),
                uln=data.get("uln"),
                laboratory=data.get("laboratory") or DEFAULT_LABORATORY,
                visit=data.get("visit"),
                source_accession=data.get("source_accession") or "",
                reason="Entered in the admin",
            )
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})


class ReferenceRangeAdminForm(ServiceCheckedAdminForm):
    class Meta:
        model = ReferenceRange
        fields = [
            "site",
            "laboratory",
            "test_code",
            "sex",
            "age_min_years",
            "age_max_years",
            "unit",
            "lln",
            "uln",
            "effective_from",
            "effective_to",
        ]

    def check(self, cleaned_data: dict) -> None:
        values = {name: cleaned_data.get(name) for name in self.Meta.fields}
        values["sex"] = values["sex"] or ""
        draft = ReferenceRange(pk=self.instance.pk)
        services.prepare_reference_range(values, draft)
        services.check_range_site_access(self.request.user, draft)
        services.check_no_overlap(draft)


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(RequestFormAdminMixin, AuditedRecordAdmin):
    form = ReferenceRangeAdminForm
    study_field = "site__study"
    site_field = "site"
    list_display = [
        "site",
        "laboratory",
        "test_code",
        "sex",
        "age_min_years",
        "age_max_years",
        "lln",
        "uln",
        "unit",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["site__study", "site", "laboratory", "test_code", "sex"]
    search_fields = ["test_code", "laboratory", "site__code"]
    list_select_related = ["site"]
    readonly_fields = ["version"]

    def save_model(self, request, obj, form, change):
        fields = ReferenceRangeAdminForm.Meta.fields
        values = {name: form.cleaned_data.get(name) for name in fields}
        values["sex"] = values["sex"] or ""
        if change:
            saved = services.reference_range_update(
                actor=request.user,
                range_row=ReferenceRange.objects.get(pk=obj.pk),
                changes={k: v for k, v in values.items() if k in form.changed_data},
                reason=form.cleaned_data.get("reason_for_change"),
                expected_version=form.cleaned_data.get("expected_version"),
            )
        else:
            saved = services.reference_range_create(actor=request.user, values=values)
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})
