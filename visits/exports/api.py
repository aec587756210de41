"""GET /api/audit/, GET /api/studies/{id}/export/, GET /api/studies/{id}/codebook/.

`format` here names the export's format, not DRF's renderer, so these views pick their answer
themselves (`FormatIsData` negotiation): JSON pages or errors, else a streamed file.
"""

from __future__ import annotations

import datetime as dt

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from ecrf.exceptions import InvalidInput
from ecrf.pagination import StandardPagination
from ecrf.validation import parse_date_or_datetime
from trials.models import Study
from trials.selectors import protocol_version_of, studies_for
from visits.endpoints.api import parse_cut
from visits.exports.audit_log import (
    ENTRY_TYPES,
    AuditFilter,
    audit_csv_rows,
    audit_entries,
    audit_grants,
    describe_entries,
)
from visits.exports.codebook import codebook
from visits.exports.models import ExportFormat
from visits.exports.service import log_audit_log_download, start_export
from visits.exports.streams import csv_chunks

EXPORT_FORMATS = (ExportFormat.CSV, ExportFormat.SDTM, ExportFormat.ODM)


class FormatIsData(BaseContentNegotiation):
    """Ignores `?format=` (it is the export format here); JSON for pages and errors."""

    def select_renderer(self, request, renderers, format_suffix=None):
        json_renderer = next((r for r in renderers if r.format == "json"), renderers[0])
        return json_renderer, json_renderer.media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


def _streamed(chunks, filename: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _wants_csv(request) -> bool:
    return request.query_params.get("format") == "csv" or "text/csv" in request.headers.get(
        "Accept", ""
    )


def _instant(raw: str | None, field: str, *, end_of_day: bool) -> dt.datetime | None:
    if not raw:
        return None
    parsed = parse_date_or_datetime(raw)
    if parsed is None:
        raise InvalidInput("Must be an ISO date (YYYY-MM-DD) or datetime.", field=field)
    if isinstance(parsed, dt.datetime):
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    moment = dt.time.max if end_of_day else dt.time.min
    return dt.datetime.combine(parsed, moment, tzinfo=dt.UTC)


def _integer(raw: str | None, field: str) -> int | None:
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise InvalidInput("Must be an id (a whole number).", field=field)
    return int(raw)


class AuditChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class AuditEntrySerializer(serializers.Serializer):
    resource = serializers.CharField()
    record = serializers.IntegerField()
    history_id = serializers.IntegerField()
    changed_at = serializers.CharField(help_text="ISO 8601, UTC with offset")
    type = serializers.ChoiceField(choices=list(ENTRY_TYPES))
    user = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    study = serializers.IntegerField()
    patient = serializers.IntegerField(allow_null=True, help_text="null for design and exports")
    subject_id = serializers.CharField(allow_null=True)
    site = serializers.CharField(allow_null=True, help_text="the site code of a site-bound row")
    changes = AuditChangeSerializer(
        many=True, help_text="for an export: what it covered (format, as_of, scope, channel)"
    )


AUDIT_PARAMETERS = [
    OpenApiParameter("study", OpenApiTypes.INT),
    OpenApiParameter("patient", OpenApiTypes.INT),
    OpenApiParameter("user", OpenApiTypes.STR, description="username"),
    OpenApiParameter(
        "resource", OpenApiTypes.STR, description="e.g. lab-results, arms, access-grants, exports"
    ),
    OpenApiParameter("type", OpenApiTypes.STR, enum=list(ENTRY_TYPES)),
    OpenApiParameter("since", OpenApiTypes.STR, description="ISO date or datetime (inclusive)"),
    OpenApiParameter("until", OpenApiTypes.STR, description="ISO date (whole day) or datetime"),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
]


class AuditLogView(APIView):
    """Every change of the study's design, access grants and patient records (of your sites),
    and every export, newest first: monitors and data managers only. `?format=csv` (or Accept:
    text/csv) downloads the whole filtered log (itself logged as an export)."""

    content_negotiation_class = FormatIsData

    @extend_schema(
        parameters=AUDIT_PARAMETERS,
        responses={
            (200, "application/json"): inline_serializer(
                "PaginatedAuditEntryList",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": AuditEntrySerializer(many=True),
                },
            ),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request):
        params = request.query_params
        query = AuditFilter(
            study_id=_integer(params.get("study"), "study"),
            patient_id=_integer(params.get("patient"), "patient"),
            username=params.get("user") or None,
            resource=params.get("resource") or None,
            entry_type=params.get("type") or None,
            since=_instant(params.get("since"), "since", end_of_day=False),
            until=_instant(params.get("until"), "until", end_of_day=True),
        )
        entries = audit_entries(request.user, query)
        if _wants_csv(request):
            grants = audit_grants(request.user, query.study_id)
            if query.study_id is not None:
                study_ids = [query.study_id]
            elif grants is None:
                study_ids = list(Study.objects.values_list("pk", flat=True))
            else:
                study_ids = sorted({g.study_id for g in grants})
            filters = {k: v for k, v in params.items() if k not in ("format", "page", "page_size")}
            log_audit_log_download(user=request.user, study_ids=study_ids, parameters=filters)
            rows = audit_csv_rows(entries, request.user)
            return _streamed(csv_chunks(rows), "audit-log.csv", "text/csv")
        paginator = StandardPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(describe_entries(list(page), request.user))


class StudyExportView(APIView):
    """The study's data as CSV per record table (zip), SDTM-shaped datasets (zip) or CDISC ODM
    1.3.2 XML with audit records; `as_of` cuts the data as they stood then. Streamed; logged."""

    content_negotiation_class = FormatIsData

    @extend_schema(
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(EXPORT_FORMATS)),
            OpenApiParameter("as_of", OpenApiTypes.STR, description="ISO date or datetime"),
        ],
        # CSV and SDTM come as a zip of files, ODM as one XML document.
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            (200, "application/xml"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, pk: int):
        study = get_object_or_404(studies_for(request.user), pk=pk)
        export_format = request.query_params.get("format") or ExportFormat.CSV
        if export_format not in EXPORT_FORMATS:
            raise InvalidInput(f"Must be one of {', '.join(EXPORT_FORMATS)}.", field="format")
        as_of, _ = parse_cut(request.query_params)
        export = start_export(
            user=request.user, study=study, export_format=export_format, as_of=as_of, channel="api"
        )
        return _streamed(export.chunks, export.filename, export.content_type)


class StudyCodebookView(APIView):
    """The data dictionary of a protocol version (default: the current one), as CSV: every field
    with its type, unit and allowed codes, then the version's endpoint definitions."""

    content_negotiation_class = FormatIsData

    @extend_schema(
        parameters=[OpenApiParameter("protocol_version", OpenApiTypes.INT)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, pk: int):
        study = get_object_or_404(studies_for(request.user), pk=pk)
        number = _integer(request.query_params.get("protocol_version"), "protocol_version")
        version = protocol_version_of(study, number)
        filename = f"{study.registry_id}_codebook_v{version.number}.csv"
        return _streamed(csv_chunks(codebook(version)), filename, "text/csv")
