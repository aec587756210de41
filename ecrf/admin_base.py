"""Admin base classes: scoped to the user's studies and sites, audited like the API.

Every change made in the admin asks for a reason and records the acting user; a stale form
(someone else saved the record meanwhile) is refused instead of overwriting their change.
Clinical records cannot be deleted here; study design is read-only (it changes through
protocol files, which keep every version).
"""

from __future__ import annotations

from django import forms
from simple_history.admin import SimpleHistoryAdmin

from ecrf.access import Action, grants_for, is_unrestricted, scope_queryset, study_ids_for


class AuditedAdminForm(forms.ModelForm):
    reason_for_change = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for every change to an existing record; kept in the audit trail.",
    )
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

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
