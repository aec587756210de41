from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ecrf.access import Action, scope_queryset
from ecrf.admin_base import _allows
from ecrf.grant_events import record_grant_event
from ecrf.models import ApiToken, Job, SecurityEvent, StudyRole
from ecrf.tokens import revoke_tokens


@admin.register(StudyRole)
class StudyRoleAdmin(SimpleHistoryAdmin):
    """Grants are managed by administrators (or `manage.py grant_access`), and audited."""

    list_display = ["user", "study", "role", "all_sites", "is_active"]
    list_filter = ["study", "role", "all_sites", "is_active"]
    search_fields = ["user__username", "study__registry_id"]
    filter_horizontal = ["sites"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead, so the grant stays in the audit trail

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        grant = form.instance
        grant.scope_summary = grant.scope_summary or (
            "all sites" if grant.all_sites else ", ".join(sorted(s.code for s in grant.sites.all()))
        )
        record_grant_event(grant, actor=request.user, channel="admin")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see and revoke API tokens; the key itself is never stored."""

    list_display = ["prefix", "user", "created_at", "expires_at", "revoked_at", "revoked_by"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "prefix"]
    readonly_fields = list_display
    fields = readonly_fields
    actions = ["revoke"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        count = revoke_tokens(queryset, actor=request.user)
        self.message_user(request, f"{count} token(s) revoked.")


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Logins, failed logins, lockouts, revocations and grants: read-only."""

    list_display = ["at", "kind", "username", "client_address", "channel", "detail"]
    list_filter = ["kind", "channel"]
    search_fields = ["username", "client_address"]
    readonly_fields = list_display
    fields = readonly_fields

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# "View site" led to `/`, which serves nothing; the API's documentation is the useful place.
admin.site.site_url = "/api/docs/"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Long tasks and their progress (read-only; started by commands and services)."""

    list_display = [
        "id",
        "kind",
        "study",
        "site",
        "state",
        "progress",
        "requested_by",
        "created_at",
    ]
    list_filter = ["state", "kind", "study"]
    readonly_fields = [
        "kind",
        "study",
        "site",
        "state",
        "done",
        "total",
        "parameters_shown",
        "result",
        "error",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return scope_queryset(
            super().get_queryset(request).select_related("study", "site", "requested_by"),
            request.user,
            Action.VIEW,
            study_field="study",
            site_field="site",
        )

    @admin.display(description="progress")
    def progress(self, job: Job) -> str:
        return f"{job.done}/{job.total}" if job.total is not None else str(job.done)

    @admin.display(description="parameters")
    def parameters_shown(self, job: Job) -> str:
        # The data of an import (its file) is not repeated here; its name and options are.
        return ", ".join(f"{k}={v}" for k, v in sorted(job.parameters.items()) if k != "csv")

    def has_module_permission(self, request):
        return _allows(request, Action.VIEW)

    def has_view_permission(self, request, obj=None):
        return _allows(request, Action.VIEW)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
