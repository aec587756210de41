from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ecrf.models import StudyRole


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


# "View site" led to `/`, which serves nothing; the API's documentation is the useful place.
admin.site.site_url = "/api/docs/"
