"""The audit log of a study: every history row of its design, its access grants and its
patients' records, and every export, newest first.

One SQL `UNION ALL` over the history tables of `audit_sources.HISTORY_SOURCES` and the export
log gives a page (or the whole log, read page by page for a CSV download); the old and new values
of each entry on a page come from one query per table present on the page. Entries speak the
API's field names.

Who may read it: monitors and data managers (superusers too). Patient records only of the sites
their grant covers — rows of other sites never appear, not even in the count; design, grants and
exports study-wide; allocation slots and a list's seed only for who may unconceal them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import BooleanField, CharField, F, IntegerField, Q, QuerySet, Value

from ecrf.access import Action, grants_for, is_unrestricted
from ecrf.audit import UNTRACKED_FIELDS
from ecrf.exceptions import InvalidInput, PermissionRefused
from ecrf.models import Role
from visits.exports.audit_sources import (
    CONCEALED,
    EXPORTS_RESOURCE,
    HISTORY_SOURCES,
    RESOURCES,
    SOURCES_BY_RESOURCE,
    AuditSource,
)
from visits.exports.models import ExportLog
from visits.exports.tables import text

AUDIT_LOG_ROLES = frozenset({Role.MONITOR, Role.DATA_MANAGER})
ENTRY_TYPES = ("created", "changed", "voided", "deleted", "exported")
COLUMNS = (
    "a_resource",
    "a_record",
    "a_history",
    "a_at",
    "a_type",
    "a_user",
    "a_reason",
    "a_study",
    "a_patient",
    "a_subject",
    "a_site",
    "a_voided",
)
# What an export entry lists as its "changes": what was exported, how.
EXPORT_FIELDS = ("format", "as_of", "scope", "channel", "parameters")


@dataclass(frozen=True)
class AuditFilter:
    study_id: int | None = None
    patient_id: int | None = None
    username: str | None = None
    resource: str | None = None
    entry_type: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_grants(user, study_id: int | None):
    """The user's grants that open the log (of `study_id`, when given); None for a superuser.
    Raises PermissionRefused (403) for anyone but monitors and data managers."""
    if is_unrestricted(user):
        return None
    grants = [
        g
        for g in grants_for(user)
        if g.role in AUDIT_LOG_ROLES and (study_id is None or g.study_id == study_id)
    ]
    if not grants:
        raise PermissionRefused(
            "The audit log is open to monitors and data managers of the study.", field=None
        )
    return grants


def audit_scope(user, study_id: int | None, *, site_bound: bool = True) -> Q | None:
    """The rows the user may read, as a filter on rows annotated with `s_study` and `s_site`;
    None means unrestricted. Study-wide rows (`site_bound=False`) need only the study."""
    grants = audit_grants(user, study_id)
    if grants is None:
        return None
    condition = Q(pk__in=[])
    for grant in grants:
        clause = Q(s_study=grant.study_id)
        if site_bound and not grant.all_sites:
            clause &= Q(s_site__in=sorted(grant.site_ids))
        condition |= clause
    return condition


def may_unconceal(user, study_id: int) -> bool:
    """A list's seed regenerates every site's sequence: only who sees the whole list reads it."""
    if is_unrestricted(user):
        return True
    return any(
        g.study_id == study_id and g.all_sites and g.allows(Action.VIEW_ALLOCATION_LIST)
        for g in grants_for(user)
    )


def _type_filter(source: AuditSource, entry_type: str) -> Q:
    if entry_type == "exported":
        return Q(pk__in=[])
    if entry_type == "created":
        return Q(history_type="+")
    if entry_type == "deleted":
        return Q(history_type="-")
    changed = Q(history_type="~")
    if not source.has_void:
        return changed if entry_type == "changed" else Q(pk__in=[])
    return changed & Q(is_voided=(entry_type == "voided"))


def _or_null(path: str | None, output_field):
    return F(path) if path else Value(None, output_field=output_field)


def _source_entries(source: AuditSource, user, query: AuditFilter) -> QuerySet:
    rows = source.model.history.annotate(
        s_study=F(source.study_path),
        s_site=_or_null(source.site_path, IntegerField()),
    )
    scope = audit_scope(user, query.study_id, site_bound=source.site_bound)
    if scope is not None:
        rows = rows.filter(scope)
    extra = source.extra_scope(user) if source.extra_scope else None
    if extra is not None:
        rows = rows.filter(extra)
    if query.study_id is not None:
        rows = rows.filter(s_study=query.study_id)
    if query.patient_id is not None:
        if source.patient_path is None:
            rows = rows.none()
        else:
            rows = rows.filter(**{source.patient_path: query.patient_id})
    if query.username:
        rows = rows.filter(history_user__username=query.username)
    if query.since is not None:
        rows = rows.filter(history_date__gte=query.since)
    if query.until is not None:
        rows = rows.filter(history_date__lte=query.until)
    if query.entry_type:
        rows = rows.filter(_type_filter(source, query.entry_type))
    voided = F("is_voided") if source.has_void else Value(False, output_field=BooleanField())
    return rows.annotate(
        a_resource=Value(source.resource, output_field=CharField()),
        a_record=F("id"),
        a_history=F("history_id"),
        a_at=F("history_date"),
        a_type=F("history_type"),
        a_user=F("history_user__username"),
        a_reason=F("history_change_reason"),
        a_study=F(source.study_path),
        a_patient=_or_null(source.patient_path, IntegerField()),
        a_subject=_or_null(source.subject_path, CharField()),
        a_site=_or_null(source.site_code_path, CharField()),
        a_voided=voided,
    ).values(*COLUMNS)


def _export_entries(user, query: AuditFilter) -> QuerySet:
    """The export log as entries of type `exported` (study-wide, like the design)."""
    rows = ExportLog.objects.annotate(s_study=F("study_id"), s_site=Value(None, IntegerField()))
    scope = audit_scope(user, query.study_id, site_bound=False)
    if scope is not None:
        rows = rows.filter(scope)
    if query.study_id is not None:
        rows = rows.filter(study_id=query.study_id)
    if query.patient_id is not None or query.entry_type not in (None, "exported"):
        rows = rows.none()
    if query.username:
        rows = rows.filter(user__username=query.username)
    if query.since is not None:
        rows = rows.filter(exported_at__gte=query.since)
    if query.until is not None:
        rows = rows.filter(exported_at__lte=query.until)
    return rows.annotate(
        a_resource=Value(EXPORTS_RESOURCE, output_field=CharField()),
        a_record=F("id"),
        a_history=F("id"),
        a_at=F("exported_at"),
        a_type=Value("x", output_field=CharField()),
        a_user=F("user__username"),
        a_reason=Value("", output_field=CharField()),
        a_study=F("study_id"),
        a_patient=Value(None, output_field=IntegerField()),
        a_subject=Value(None, output_field=CharField()),
        a_site=Value(None, output_field=CharField()),
        a_voided=Value(False, output_field=BooleanField()),
    ).values(*COLUMNS)


def audit_entries(user, query: AuditFilter) -> QuerySet:
    """The log as one queryset of rows (dicts of COLUMNS), newest first; count() and slices
    run in the database."""
    if query.entry_type and query.entry_type not in ENTRY_TYPES:
        raise InvalidInput(f"Must be one of {', '.join(ENTRY_TYPES)}.", field="type")
    if query.resource and query.resource not in RESOURCES:
        known = ", ".join(sorted(RESOURCES))
        raise InvalidInput(f"Unknown resource (known: {known}).", field="resource")
    audit_grants(user, query.study_id)  # refuses before any query is built
    parts = [
        _source_entries(source, user, query)
        for source in HISTORY_SOURCES
        if query.resource in (None, source.resource)
    ]
    if query.resource in (None, EXPORTS_RESOURCE):
        parts.append(_export_entries(user, query))
    # Each part unordered (SQLite refuses an ORDER BY inside a compound statement); the union is
    # ordered as a whole.
    parts = [part.order_by() for part in parts]
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return combined.order_by("-a_at", "-a_history", "a_resource")


def _entry_type(row: dict) -> str:
    if row["a_resource"] == EXPORTS_RESOURCE:
        return "exported"
    if row["a_type"] == "+":
        return "created"
    if row["a_type"] == "-":
        return "deleted"
    return "voided" if row["a_voided"] else "changed"


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    return text(value)


def _changes_by_history_id(
    source: AuditSource, record_ids: set[int], user
) -> dict[int, list[dict]]:
    """Each history row's changes against the record's previous row, by history id."""
    fields = [
        f for f in source.model._meta.concrete_fields if f.name not in UNTRACKED_FIELDS | {"id"}
    ]
    history = source.model.history.filter(id__in=record_ids).order_by(
        "id", "history_date", "history_id"
    )
    unconcealed: dict[int, bool] = {}

    def shown(row, field, value):
        if field.name not in source.concealed or value is None:
            return _plain(value)
        study_id = getattr(row, source.study_path)  # a concealing source names its study
        if study_id not in unconcealed:
            unconcealed[study_id] = may_unconceal(user, study_id)
        return _plain(value) if unconcealed[study_id] else CONCEALED

    changes: dict[int, list[dict]] = {}
    previous = None
    for row in history:
        if previous is not None and previous.id != row.id:
            previous = None
        entry = []
        for field in fields:
            name = source.api_name(field.name)
            new = getattr(row, field.attname)
            if previous is None:
                if new not in (None, "") and row.history_type == "+":
                    entry.append({"field": name, "old": None, "new": shown(row, field, new)})
                continue
            old = getattr(previous, field.attname)
            if old != new:
                entry.append(
                    {"field": name, "old": shown(row, field, old), "new": shown(row, field, new)}
                )
        changes[row.history_id] = entry
        previous = row
    return changes


def _export_changes(export_ids: set[int]) -> dict[int, list[dict]]:
    """What each export covered, as `changes` (old: none), in one query."""
    return {
        export.pk: [
            {"field": name, "old": None, "new": _plain(getattr(export, name))}
            for name in EXPORT_FIELDS
            if getattr(export, name) not in (None, "", {})
        ]
        for export in ExportLog.objects.filter(pk__in=export_ids)
    }


def describe_entries(rows: list[dict], user) -> list[dict]:
    """A page of log rows as API entries, with the changes of each (one query per table)."""
    ids_by_resource: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        ids_by_resource[row["a_resource"]].add(row["a_record"])
    changes: dict[str, dict[int, list[dict]]] = {
        resource: (
            _export_changes(ids)
            if resource == EXPORTS_RESOURCE
            else _changes_by_history_id(SOURCES_BY_RESOURCE[resource], ids, user)
        )
        for resource, ids in ids_by_resource.items()
    }
    return [
        {
            "resource": row["a_resource"],
            "record": row["a_record"],
            "history_id": row["a_history"],
            "changed_at": text(row["a_at"]),
            "type": _entry_type(row),
            "user": row["a_user"],
            "reason": row["a_reason"] or "",
            "study": row["a_study"],
            "patient": row["a_patient"],
            "subject_id": row["a_subject"],
            "site": row["a_site"],
            "changes": changes[row["a_resource"]].get(row["a_history"], []),
        }
        for row in rows
    ]


CSV_HEADER = (
    "changed_at",
    "resource",
    "record",
    "history_id",
    "type",
    "user",
    "reason",
    "study",
    "patient",
    "subject_id",
    "site",
    "field",
    "old",
    "new",
)
CSV_PAGE = 1000


def audit_csv_rows(entries: QuerySet, user) -> Iterator[list[str]]:
    """The whole log, one CSV row per changed field (an entry without changes gets one row),
    read a page at a time so memory stays bounded by the page."""
    yield list(CSV_HEADER)
    start = 0
    while True:
        page = list(entries[start : start + CSV_PAGE])
        if not page:
            return
        for entry in describe_entries(page, user):
            head = [
                entry["changed_at"],
                entry["resource"],
                str(entry["record"]),
                str(entry["history_id"]),
                entry["type"],
                entry["user"] or "",
                entry["reason"],
                str(entry["study"]),
                text(entry["patient"]),
                entry["subject_id"] or "",
                entry["site"] or "",
            ]
            for change in entry["changes"] or [None]:
                if change is None:
                    yield [*head, "", "", ""]
                else:
                    yield [*head, change["field"], _cell(change["old"]), _cell(change["new"])]
        start += CSV_PAGE


def _cell(value) -> str:
    return text(value)
