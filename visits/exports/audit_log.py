"""The audit log of a study: every history row of every patient record, newest first.

One SQL `UNION ALL` over the history tables of `tables.TABLES` gives a page (or the whole log,
read page by page for a CSV download); the old and new values of each entry on a page come from
one query per table present on the page. Entries speak the API's field names.

Who may read it: monitors and data managers (superusers too), and only for the sites their grant
covers — rows of other sites never appear, not even in the count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import BooleanField, CharField, F, Q, QuerySet, Value

from ecrf.access import grants_for, is_unrestricted
from ecrf.audit import UNTRACKED_FIELDS
from ecrf.exceptions import InvalidInput, PermissionRefused
from ecrf.models import Role
from visits.exports.tables import TABLES, TABLES_BY_RESOURCE, RecordTable, text

AUDIT_LOG_ROLES = frozenset({Role.MONITOR, Role.DATA_MANAGER})
ENTRY_TYPES = ("created", "changed", "voided", "deleted")
COLUMNS = (
    "a_resource",
    "a_record",
    "a_history",
    "a_at",
    "a_type",
    "a_user",
    "a_reason",
    "a_patient",
    "a_subject",
    "a_site",
    "a_voided",
)


@dataclass(frozen=True)
class AuditFilter:
    study_id: int | None = None
    patient_id: int | None = None
    username: str | None = None
    resource: str | None = None
    entry_type: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_scope(user, study_id: int | None) -> Q | None:
    """The rows the user may read, as a filter on a history table annotated with `s_study` and
    `s_site` (its patient's study and site); None means unrestricted. Raises PermissionRefused
    (403) for anyone but monitors and data managers (of `study_id`, when given)."""
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
    condition = Q(pk__in=[])
    for grant in grants:
        clause = Q(s_study=grant.study_id)
        if not grant.all_sites:
            clause &= Q(s_site__in=sorted(grant.site_ids))
        condition |= clause
    return condition


def _type_filter(table: RecordTable, entry_type: str) -> Q:
    if entry_type == "created":
        return Q(history_type="+")
    if entry_type == "deleted":
        return Q(history_type="-")
    changed = Q(history_type="~")
    if not table.has_void:
        return changed if entry_type == "changed" else Q(pk__in=[])
    return changed & Q(is_voided=(entry_type == "voided"))


def _table_entries(table: RecordTable, user, query: AuditFilter) -> QuerySet:
    prefix = table.prefix()
    rows = table.model.history.annotate(
        s_study=F(f"{prefix}study_id"), s_site=F(f"{prefix}site_id")
    )
    scope = audit_scope(user, query.study_id)
    if scope is not None:
        rows = rows.filter(scope)
    if query.study_id is not None:
        rows = rows.filter(s_study=query.study_id)
    if query.patient_id is not None:
        rows = rows.filter(**{table.patient_id_path: query.patient_id})
    if query.username:
        rows = rows.filter(history_user__username=query.username)
    if query.since is not None:
        rows = rows.filter(history_date__gte=query.since)
    if query.until is not None:
        rows = rows.filter(history_date__lte=query.until)
    if query.entry_type:
        rows = rows.filter(_type_filter(table, query.entry_type))
    voided = F("is_voided") if table.has_void else Value(False, output_field=BooleanField())
    return rows.annotate(
        a_resource=Value(table.resource, output_field=CharField()),
        a_record=F("id"),
        a_history=F("history_id"),
        a_at=F("history_date"),
        a_type=F("history_type"),
        a_user=F("history_user__username"),
        a_reason=F("history_change_reason"),
        a_patient=F(table.patient_id_path),
        a_subject=F(f"{prefix}subject_id"),
        a_site=F(f"{prefix}site__code"),
        a_voided=voided,
    ).values(*COLUMNS)


def audit_entries(user, query: AuditFilter) -> QuerySet:
    """The log as one queryset of rows (dicts of COLUMNS), newest first; count() and slices
    run in the database."""
    if query.entry_type and query.entry_type not in ENTRY_TYPES:
        raise InvalidInput(f"Must be one of {', '.join(ENTRY_TYPES)}.", field="type")
    if query.resource and query.resource not in TABLES_BY_RESOURCE:
        known = ", ".join(sorted(TABLES_BY_RESOURCE))
        raise InvalidInput(f"Unknown resource (known: {known}).", field="resource")
    audit_scope(user, query.study_id)  # refuses before any query is built
    tables = [TABLES_BY_RESOURCE[query.resource]] if query.resource else list(TABLES)
    parts = [_table_entries(table, user, query) for table in tables]
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return combined.order_by("-a_at", "-a_history", "a_resource")


def _entry_type(table: RecordTable, row: dict) -> str:
    if row["a_type"] == "+":
        return "created"
    if row["a_type"] == "-":
        return "deleted"
    return "voided" if row["a_voided"] else "changed"


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    return text(value)


def _changes_by_history_id(table: RecordTable, record_ids: set[int]) -> dict[int, list[dict]]:
    """Each history row's changes against the record's previous row, by history id."""
    fields = [
        f for f in table.model._meta.concrete_fields if f.name not in UNTRACKED_FIELDS | {"id"}
    ]
    history = table.model.history.filter(id__in=record_ids).order_by(
        "id", "history_date", "history_id"
    )
    changes: dict[int, list[dict]] = {}
    previous = None
    for row in history:
        if previous is not None and previous.id != row.id:
            previous = None
        entry = []
        for field in fields:
            new = getattr(row, field.attname)
            if previous is None:
                if new not in (None, "") and row.history_type == "+":
                    entry.append({"field": field.name, "old": None, "new": _plain(new)})
                continue
            old = getattr(previous, field.attname)
            if old != new:
                entry.append({"field": field.name, "old": _plain(old), "new": _plain(new)})
        changes[row.history_id] = entry
        previous = row
    return changes


def describe_entries(rows: list[dict]) -> list[dict]:
    """A page of log rows as API entries, with the changes of each (one query per table)."""
    ids_by_resource: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        ids_by_resource[row["a_resource"]].add(row["a_record"])
    changes: dict[str, dict[int, list[dict]]] = {
        resource: _changes_by_history_id(TABLES_BY_RESOURCE[resource], ids)
        for resource, ids in ids_by_resource.items()
    }
    return [
        {
            "resource": row["a_resource"],
            "record": row["a_record"],
            "history_id": row["a_history"],
            "changed_at": text(row["a_at"]),
            "type": _entry_type(TABLES_BY_RESOURCE[row["a_resource"]], row),
            "user": row["a_user"],
            "reason": row["a_reason"] or "",
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
    "patient",
    "subject_id",
    "site",
    "field",
    "old",
    "new",
)
CSV_PAGE = 1000


def audit_csv_rows(entries: QuerySet) -> Iterator[list[str]]:
    """The whole log, one CSV row per changed field (an entry without changes gets one row),
    read a page at a time so memory stays bounded by the page."""
    yield list(CSV_HEADER)
    start = 0
    while True:
        page = list(entries[start : start + CSV_PAGE])
        if not page:
            return
        for entry in describe_entries(page):
            head = [
                entry["changed_at"],
                entry["resource"],
                str(entry["record"]),
                str(entry["history_id"]),
                entry["type"],
                entry["user"] or "",
                entry["reason"],
                str(entry["patient"]),
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
