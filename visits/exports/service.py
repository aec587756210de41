"""Starting an export: who may, which sites it covers, the log row, and the byte stream."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from ecrf.access import Action, grants_for, is_unrestricted
from ecrf.exceptions import PermissionRefused
from trials.models import Site, Study
from visits.exports.audit_log import AUDIT_LOG_ROLES
from visits.exports.csv_export import csv_files
from visits.exports.models import ExportFormat, ExportLog
from visits.exports.odm import odm_chunks
from visits.exports.sdtm import sdtm_files
from visits.exports.streams import zip_chunks

# Exports are reports of the study's data: the roles that see study reports may take them.
EXPORT_ACTION = Action.VIEW_REPORTS


@dataclass(frozen=True)
class Export:
    filename: str
    content_type: str
    chunks: Iterator[bytes]
    log: ExportLog


def export_site_ids(user, study: Study) -> list[int] | None:
    """The sites the user's export covers (None: every site); 403 without the role."""
    if is_unrestricted(user):
        return None
    grants = [g for g in grants_for(user) if g.study_id == study.pk and g.allows(EXPORT_ACTION)]
    if not grants:
        raise PermissionRefused(
            "Exports are open to investigators, monitors, data managers and statisticians.",
            field=None,
        )
    if any(g.all_sites for g in grants):
        return None
    return sorted({site for g in grants for site in g.site_ids})


def start_export(
    *, user, study: Study, export_format: str, as_of: dt.datetime | None, channel: str
) -> Export:
    """Checks access, logs the export, and returns its (lazy) byte stream."""
    site_ids = export_site_ids(user, study)
    scope = _scope_text(site_ids)
    log = ExportLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        study=study,
        format=export_format,
        as_of=as_of,
        scope=scope,
        channel=channel,
    )
    cut = f"_as_of_{as_of:%Y%m%dT%H%M%SZ}" if as_of else ""
    stem = f"{study.registry_id}_{export_format}{cut}"
    if export_format == ExportFormat.ODM:
        return Export(f"{stem}.xml", "application/xml", odm_chunks(study, site_ids, as_of), log)
    files = csv_files(study.pk, site_ids, as_of) if export_format == ExportFormat.CSV else None
    if export_format == ExportFormat.SDTM:
        files = sdtm_files(study, site_ids, as_of)
    return Export(f"{stem}.zip", "application/zip", zip_chunks(files), log)


def log_audit_log_download(*, user, study_ids: list[int], parameters: dict) -> list[ExportLog]:
    """A CSV download of the audit log is an export too: one log row per study it covers,
    naming the filters and the sites the user's grant covers there."""
    logs = []
    for study in Study.objects.filter(pk__in=study_ids).order_by("registry_id"):
        site_ids = None
        if not is_unrestricted(user):
            mine = [
                g for g in grants_for(user) if g.study_id == study.pk and g.role in AUDIT_LOG_ROLES
            ]
            if not any(g.all_sites for g in mine):
                site_ids = sorted({site for g in mine for site in g.site_ids})
        logs.append(
            ExportLog.objects.create(
                user=user if getattr(user, "pk", None) else None,
                study=study,
                format=ExportFormat.AUDIT_LOG,
                scope=_scope_text(site_ids),
                channel="api",
                parameters=parameters,
            )
        )
    return logs


def _scope_text(site_ids: list[int] | None) -> str:
    if site_ids is None:
        return "all sites"
    codes = Site.objects.filter(pk__in=site_ids).order_by("code").values_list("code", flat=True)
    return ", ".join(codes)
