"""Admin: the export log (read-only) and a readable codebook page per protocol version."""

from __future__ import annotations

from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from ecrf.admin_base import ScopedAdmin
from trials.models import ProtocolVersion
from trials.selectors import studies_for
from visits.exports.codebook import HEADER, codebook_rows
from visits.exports.models import ExportLog


@admin.register(ExportLog)
class ExportLogAdmin(ScopedAdmin):
    site_field = None
    list_display = ["exported_at", "user", "study", "format", "as_of", "scope", "channel"]
    list_filter = ["study", "format", "channel"]
    search_fields = ["user__username", "study__registry_id"]
    list_select_related = ["user", "study"]
    change_list_template = "admin/exports/exportlog_changelist.html"

    def get_urls(self):
        own = [
            path(
                "codebook/<int:version_id>/",
                self.admin_site.admin_view(self.codebook_view),
                name="exports_codebook",
            )
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        versions = ProtocolVersion.objects.filter(
            study__in=studies_for(request.user)
        ).select_related("study")
        extra = {"codebook_versions": versions, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def codebook_view(self, request, version_id: int):
        versions = ProtocolVersion.objects.filter(study__in=studies_for(request.user))
        version = get_object_or_404(versions.select_related("study"), pk=version_id)
        rows = list(codebook_rows(version))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Codebook — {version.study.registry_id} protocol version {version.number}",
            "version": version,
            "header": HEADER[2:],
            "fields": [row[2:] for row in rows if row[1] == "field"],
            "endpoints": [row[2:] for row in rows if row[1] == "endpoint"],
        }
        return TemplateResponse(request, "admin/exports/codebook.html", context)
