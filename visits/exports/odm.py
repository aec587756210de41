"""CDISC ODM 1.3.2 (snapshot) of a study's clinical data, with an AuditRecord on every item.

Written with a streaming XML writer (`xml.sax.saxutils.XMLGenerator`): the history tables are
read once each, merged subject by subject, so memory holds one subject's records.

- Study / MetaDataVersion: a StudyEventDef per protocol visit (plus COURSE for records without a
  visit and UNSCHEDULED), a FormDef / ItemGroupDef per record table, an ItemDef per field
  (`IT.<TABLE>.<FIELD>`), a CodeList per coded field.
- AdminData: the users who wrote the data (`USR.<username>`) and the sites (`LOC.<site code>`).
- ClinicalData: SubjectData (SubjectKey = subject id) → StudyEventData (the record's visit) →
  FormData → ItemGroupData (ItemGroupRepeatKey = record id) → ItemData with Value, or
  IsNull="Yes" for a value that was cleared. Each ItemData's AuditRecord names who set the
  current value, at which site, when (UTC) and why — from the history row that set it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from xml.sax.saxutils import XMLGenerator

from django.db.models import Model
from django.utils import timezone

from trials.models import Site, VisitDefinition
from visits.exports.streams import by_subject, rows_of
from visits.exports.tables import TABLES, RecordTable, choice_labels, history_rows, text

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
COURSE = "COURSE"
UNSCHEDULED = "UNSCHEDULED"
SYSTEM_USER = "system"
# Record tables whose rows name the visit they were recorded at (`visit`).
VISIT_BOUND = frozenset(
    {"labs", "adverse_events", "bleeding", "ecog", "vital_signs", "essdai", "esspri"}
)


def item_oid(table: RecordTable, field) -> str:
    """`IT.<TABLE>.<FIELD>`, the field by its API name (`IT.LABS.CTCAE.GRADE`)."""
    return f"IT.{table.name.upper()}.{table.export_name(field).upper()}"


def data_type(field) -> str:
    internal = field.get_internal_type()
    if internal in ("DateTimeField",):
        return "datetime"
    if internal == "DateField":
        return "date"
    if internal == "BooleanField":
        return "boolean"
    if internal == "DecimalField":
        return "float"
    if internal in (
        "AutoField",
        "BigAutoField",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "ForeignKey",
        "OneToOneField",
    ):
        return "integer"
    return "text"


class _Writer:
    def __init__(self, sink) -> None:
        self.xml = XMLGenerator(sink, encoding="utf-8", short_empty_elements=True)

    def start(self, name: str, attrs: dict | None = None) -> None:
        self.xml.startElement(name, {k: v for k, v in (attrs or {}).items() if v is not None})

    def end(self, name: str) -> None:
        self.xml.endElement(name)

    def leaf(self, name: str, attrs: dict | None = None, content: str | None = None) -> None:
        self.start(name, attrs)
        if content is not None:
            self.xml.characters(content)
        self.end(name)


class _Buffer(io.StringIO):
    """The text XMLGenerator writes into (a text stream, so it writes without a wrapper)."""

    def drain(self) -> bytes:
        data = self.getvalue().encode("utf-8")
        self.seek(0)
        self.truncate(0)
        return data


def odm_chunks(study, site_ids: list[int] | None, as_of: dt.datetime | None) -> Iterator[bytes]:
    buffer = _Buffer()
    out = _Writer(buffer)
    study_oid = f"ST.{study.registry_id}"
    mdv_oid = f"MDV.{study.registry_id}"
    now = timezone.now()
    out.xml.startDocument()
    out.start(
        "ODM",
        {
            "xmlns": ODM_NS,
            "ODMVersion": "1.3.2",
            "FileType": "Snapshot",
            "Granularity": "All",
            "FileOID": f"ODM.{study.registry_id}.{now:%Y%m%dT%H%M%S}",
            "CreationDateTime": text(now),
            "AsOfDateTime": text(as_of) if as_of else None,
            "Originator": "ecrf",
        },
    )
    _metadata(out, study, study_oid, mdv_oid)
    yield buffer.drain()
    sites = {s.pk: s for s in Site.objects.filter(study=study)}
    _admin_data(out, study, sites, site_ids, as_of, study_oid, mdv_oid)
    yield buffer.drain()
    out.start("ClinicalData", {"StudyOID": study_oid, "MetaDataVersionOID": mdv_oid})
    streams = {t.name: rows_of(history_rows(t, study.pk, site_ids, as_of)) for t in TABLES}
    for subject, bundle in by_subject(streams):
        _subject(out, subject, bundle, sites)
        yield buffer.drain()
    out.end("ClinicalData")
    out.end("ODM")
    out.xml.endDocument()
    yield buffer.drain()


def _metadata(out: _Writer, study, study_oid: str, mdv_oid: str) -> None:
    out.start("Study", {"OID": study_oid})
    out.start("GlobalVariables")
    out.leaf("StudyName", content=study.registry_id)
    out.leaf("StudyDescription", content=study.title)
    out.leaf("ProtocolName", content=study.short_title)
    out.end("GlobalVariables")
    out.start("MetaDataVersion", {"OID": mdv_oid, "Name": f"{study.registry_id} data"})
    events = _event_codes(study)
    out.start("Protocol")
    for order, code in enumerate(events, start=1):
        out.leaf(
            "StudyEventRef",
            {"StudyEventOID": f"SE.{code}", "OrderNumber": str(order), "Mandatory": "No"},
        )
    out.end("Protocol")
    for code in events:
        repeating = "Yes" if code == UNSCHEDULED else "No"
        out.start(
            "StudyEventDef",
            {"OID": f"SE.{code}", "Name": code, "Repeating": repeating, "Type": "Common"},
        )
        for table in TABLES:
            out.leaf("FormRef", {"FormOID": f"F.{table.name.upper()}", "Mandatory": "No"})
        out.end("StudyEventDef")
    for table in TABLES:
        name = table.name.upper()
        out.start("FormDef", {"OID": f"F.{name}", "Name": table.title, "Repeating": "Yes"})
        out.leaf("ItemGroupRef", {"ItemGroupOID": f"IG.{name}", "Mandatory": "Yes"})
        out.end("FormDef")
    for table in TABLES:
        name = table.name.upper()
        out.start("ItemGroupDef", {"OID": f"IG.{name}", "Name": table.title, "Repeating": "Yes"})
        for field in table.fields:
            out.leaf("ItemRef", {"ItemOID": item_oid(table, field), "Mandatory": "No"})
        out.end("ItemGroupDef")
    for table in TABLES:
        for field in table.fields:
            oid = item_oid(table, field)
            name = table.export_name(field)
            out.start("ItemDef", {"OID": oid, "Name": name, "DataType": data_type(field)})
            if choice_labels(field) is not None:
                out.leaf("CodeListRef", {"CodeListOID": f"CL.{oid}"})
            out.end("ItemDef")
    for table in TABLES:
        for field in table.fields:
            labels = choice_labels(field)
            if labels is None:
                continue
            oid = item_oid(table, field)
            name = table.export_name(field)
            out.start("CodeList", {"OID": f"CL.{oid}", "Name": name, "DataType": "text"})
            for value, label in labels.items():
                out.start("CodeListItem", {"CodedValue": value})
                out.start("Decode")
                out.leaf("TranslatedText", {"xml:lang": "en"}, label)
                out.end("Decode")
                out.end("CodeListItem")
            out.end("CodeList")
    out.end("MetaDataVersion")
    out.end("Study")


def _event_codes(study) -> list[str]:
    codes = list(
        VisitDefinition.objects.filter(protocol_version__study=study)
        .order_by("day_offset", "code")
        .values_list("code", flat=True)
    )
    return [COURSE, *dict.fromkeys(codes), UNSCHEDULED]


def _admin_data(out, study, sites, site_ids, as_of, study_oid, mdv_oid) -> None:
    users: set[str] = set()
    for table in TABLES:
        names = (
            history_rows(table, study.pk, site_ids, as_of)
            .order_by()
            .values_list("history_user__username", flat=True)
        )
        users.update(name or SYSTEM_USER for name in names.distinct())
    out.start("AdminData", {"StudyOID": study_oid})
    for username in sorted(users):
        out.start("User", {"OID": f"USR.{username}"})
        out.leaf("LoginName", content=username)
        out.end("User")
    for site in sorted(sites.values(), key=lambda s: s.code):
        out.start(
            "Location", {"OID": f"LOC.{site.code}", "Name": site.name, "LocationType": "Site"}
        )
        out.leaf(
            "MetaDataVersionRef",
            {
                "StudyOID": study_oid,
                "MetaDataVersionOID": mdv_oid,
                "EffectiveDate": text(study.start_date or dt.date(2000, 1, 1)),
            },
        )
        out.end("Location")
    out.end("AdminData")


def _records(rows: list[Model]) -> Iterator[list[Model]]:
    """A table's history rows of one subject, split by record (rows are ordered by id)."""
    current: list[Model] = []
    for row in rows:
        if current and current[-1].id != row.id:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def _subject(out: _Writer, subject: str, bundle: dict[str, list], sites) -> None:
    tables = {t.name: t for t in TABLES}
    records = {name: list(_records(rows)) for name, rows in bundle.items()}
    records = {
        name: [r for r in recs if r[-1].history_type != "-"] for name, recs in records.items()
    }
    visits = {rec[-1].id: rec[-1] for rec in records.get("visits", [])}
    site = None
    for recs in records.values():
        if recs:
            site = sites.get(recs[0][-1].x_site_id)
            break
    events: dict[tuple[str, str | None], list[tuple[RecordTable, list]]] = {}
    for name, recs in records.items():
        for rec in recs:
            key = _event_of(name, rec[-1], visits)
            events.setdefault(key, []).append((tables[name], rec))
    out.start("SubjectData", {"SubjectKey": subject})
    if site is not None:
        out.leaf("SiteRef", {"LocationOID": f"LOC.{site.code}"})
    for (code, repeat), items in sorted(events.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        out.start("StudyEventData", {"StudyEventOID": f"SE.{code}", "StudyEventRepeatKey": repeat})
        for table in TABLES:
            group = [rec for t, rec in items if t is table]
            if not group:
                continue
            out.start("FormData", {"FormOID": f"F.{table.name.upper()}"})
            for rec in group:
                _item_group(out, table, rec, site)
            out.end("FormData")
        out.end("StudyEventData")
    out.end("SubjectData")


def _event_of(name: str, row, visits) -> tuple[str, str | None]:
    visit = row if name == "visits" else None
    if name in VISIT_BOUND and row.visit_id is not None:
        visit = visits.get(row.visit_id)
    if visit is None:
        return COURSE, None
    if visit.unscheduled_number is not None:
        return UNSCHEDULED, str(visit.unscheduled_number)
    return visit.code, None


def _item_group(out: _Writer, table: RecordTable, history: list, site) -> None:
    current = history[-1]
    out.start(
        "ItemGroupData",
        {"ItemGroupOID": f"IG.{table.name.upper()}", "ItemGroupRepeatKey": str(current.id)},
    )
    location = f"LOC.{site.code}" if site is not None else None
    for field in table.fields:
        value = getattr(current, field.attname)
        setter = _row_that_set(history, field.attname)
        ever_set = any(getattr(row, field.attname) not in (None, "") for row in history)
        if value in (None, "") and not ever_set:
            continue
        attrs = {"ItemOID": item_oid(table, field)}
        if value in (None, ""):
            attrs["IsNull"] = "Yes"
        else:
            attrs["Value"] = text(value)
        out.start("ItemData", attrs)
        out.start("AuditRecord")
        out.leaf("UserRef", {"UserOID": f"USR.{setter.x_username or SYSTEM_USER}"})
        if location is not None:
            out.leaf("LocationRef", {"LocationOID": location})
        out.leaf("DateTimeStamp", content=text(setter.history_date))
        if setter.history_change_reason:
            out.leaf("ReasonForChange", content=setter.history_change_reason)
        out.end("AuditRecord")
        out.end("ItemData")
    out.end("ItemGroupData")


def _row_that_set(history: list, attname: str):
    """The history row from which the field has had its current value."""
    value = getattr(history[-1], attname)
    setter = history[-1]
    for row in reversed(history):
        if getattr(row, attname) != value:
            break
        setter = row
    return setter
