"""GET /api/audit/: every history row of a study's design, access grants and patient records, and
every export, filtered, paged, as CSV; monitors and data managers only; patient records only of
their sites, design study-wide, the allocation sequence only for who may unconceal it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from ecrf.audit import update_audited, void_audited
from ecrf.models import StudyRole
from trials.models import (
    Arm,
    EligibilityCriterion,
    EndpointDefinition,
    ProtocolVersion,
    Regimen,
    Site,
    Study,
    VisitDefinition,
)
from trials.randomization.models import AllocationList, AllocationSlot
from visits.exports.models import ExportLog
from visits.exports.tables import TABLES, text
from visits.labs.models import LabResult

# The study's design and access, by resource: the model and the lookup to the study.
DESIGN = {
    "studies": (Study, "id"),
    "sites": (Site, "study_id"),
    "arms": (Arm, "study_id"),
    "protocol-versions": (ProtocolVersion, "study_id"),
    "regimens": (Regimen, "protocol_version__study_id"),
    "visit-definitions": (VisitDefinition, "protocol_version__study_id"),
    "eligibility-criteria": (EligibilityCriterion, "protocol_version__study_id"),
    "endpoint-definitions": (EndpointDefinition, "protocol_version__study_id"),
    "allocation-lists": (AllocationList, "study_id"),
    "access-grants": (StudyRole, "study_id"),
}


def _actor():
    return get_user_model().objects.get_or_create(
        username="fixture-admin", defaults={"is_superuser": True}
    )[0]


def _history_rows_of(patient_ids) -> list:
    """Every history row of the patients' records, newest first, as the log orders them."""
    rows = []
    for table in TABLES:
        for row in table.model.history.filter(**{f"{table.patient_id_path}__in": patient_ids}):
            rows.append((row.history_date, row.history_id, table.resource, row.id))
    return sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)


def _design_rows_of(study) -> list:
    """Every history row of the study's design and grants (what every monitor of it reads)."""
    rows = []
    for resource, (model, study_path) in DESIGN.items():
        for row in model.history.filter(**{study_path: study.pk}):
            rows.append((row.history_date, row.history_id, resource, row.id))
    return rows


def _newest_first(rows: list) -> list:
    """The log's order: newest first, then the higher history id, then the resource's name."""
    by_resource = sorted(rows, key=lambda r: r[2])
    return sorted(by_resource, key=lambda r: (r[0], r[1]), reverse=True)


@pytest.fixture
def two_sites(multisite_study, make_patient, record_lab):
    sites = list(multisite_study.sites.order_by("code")[:2])
    mine = make_patient(multisite_study, sites[0].code)
    theirs = make_patient(multisite_study, sites[1].code)
    lab = record_lab(mine, "PLAT", "64", "10^9/L", on=dt.date(2025, 2, 7))
    update_audited(
        lab,
        changes={"value": Decimal("46"), "value_std": Decimal("46")},
        actor=_actor(),
        reason="Transcription error",
        expected_version=1,
    )
    wrong = record_lab(mine, "HGB", "98", "g/L", on=dt.date(2025, 2, 7))
    void_audited(wrong, actor=_actor(), reason="Wrong patient", expected_version=1)
    record_lab(theirs, "PLAT", "200", "10^9/L", on=dt.date(2025, 2, 7))
    return multisite_study, sites, mine, theirs, lab


def test_monitor_sees_every_change_of_their_sites_only_newest_first(
    two_sites, make_user, client_for
):
    study, sites, mine, theirs, lab = two_sites
    monitor = make_user("mon", "monitor", study.registry_id, [sites[0].code])

    response = client_for(monitor).get("/api/audit/", {"study": study.pk, "page_size": 500})

    assert response.status_code == 200
    body = response.json()
    expected = _history_rows_of([mine.pk])
    expected = _newest_first(expected + _design_rows_of(study))
    assert body["count"] == len(expected)
    assert [
        (e["changed_at"], e["history_id"], e["resource"], e["record"]) for e in body["results"]
    ] == [(text(at), hid, resource, record) for at, hid, resource, record in expected]
    records = [e for e in body["results"] if e["patient"] is not None]
    assert {e["resource"] for e in records} == {"patients", "lab-results"}
    assert {e["subject_id"] for e in records} == {mine.subject_id}
    assert theirs.pk not in {e["patient"] for e in body["results"]}
    assert {e["site"] for e in records} == {sites[0].code}
    assert {e["resource"] for e in body["results"] if e["patient"] is None} == {
        "studies",
        "sites",
        "arms",
        "protocol-versions",
        "regimens",
        "visit-definitions",
        "eligibility-criteria",
        "endpoint-definitions",
        "access-grants",
    }
    assert {e["study"] for e in body["results"]} == {study.pk}
    labs = [e for e in body["results"] if e["resource"] == "lab-results"]
    correction = next(e for e in labs if e["record"] == lab.pk and e["type"] == "changed")
    assert correction["user"] == "fixture-admin"
    assert correction["reason"] == "Transcription error"
    assert correction["changed_at"].endswith("+00:00")
    assert correction["changes"] == [
        {"field": "value", "old": "64", "new": "46"},
        {"field": "value_std", "old": "64", "new": "46"},
    ]
    created = next(e for e in labs if e["record"] == lab.pk and e["type"] == "created")
    assert {"field": "patient", "old": None, "new": mine.pk} in created["changes"]


@pytest.mark.parametrize("role", ["coordinator", "investigator", "statistician"])
def test_other_roles_are_refused(two_sites, make_user, client_for, role):
    study = two_sites[0]
    user = make_user(f"u-{role}", role, study.registry_id)

    response = client_for(user).get("/api/audit/", {"study": study.pk})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_monitor_of_another_study_is_refused(two_sites, make_user, client_for, study):
    monitor = make_user("mon-other", "monitor", study.registry_id)

    response = client_for(monitor).get("/api/audit/", {"study": two_sites[0].pk})

    assert response.status_code == 403


def test_filters_narrow_the_log(two_sites, make_user, client_for):
    study, _sites, mine, _theirs, lab = two_sites
    manager = make_user("dm", "data_manager", study.registry_id)
    client = client_for(manager)

    def records(**params):
        body = client.get("/api/audit/", {"study": study.pk, **params}).json()
        return [(e["resource"], e["record"], e["type"]) for e in body["results"]]

    voided = LabResult.objects.get(patient=mine, test_code="HGB")
    assert records(type="voided") == [("lab-results", voided.pk, "voided")]
    assert records(resource="lab-results", patient=mine.pk, type="changed") == [
        ("lab-results", lab.pk, "changed")
    ]
    assert records(user="nobody") == []
    assert len(records(resource="patients")) == 2
    assert records(until="2000-01-01") == []
    everything = client.get("/api/audit/", {"study": study.pk, "since": "2000-01-01"}).json()
    assert everything["count"] == len(
        _history_rows_of(list(study.patients.values_list("pk", flat=True)))
    ) + len(_design_rows_of(study))
    bad = client.get("/api/audit/", {"type": "edited"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "type"
    bad = client.get("/api/audit/", {"since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "since"


def test_pages_cost_the_same_queries_and_csv_has_every_change(two_sites, make_user, client_for):
    study, sites, mine, _theirs, lab = two_sites
    manager = make_user("dm2", "data_manager", study.registry_id, [sites[0].code])
    client = client_for(manager)
    client.get("/api/audit/")  # token and grants warm-up

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/audit/", {"page_size": 1}).json()
    with CaptureQueriesContext(connection) as large:
        whole = client.get("/api/audit/", {"page_size": 500}).json()

    assert first["next"] is not None and len(first["results"]) == 1
    assert len(whole["results"]) == whole["count"]
    # A count, the page, and one query per table on the page — not one per entry.
    tables_on_page = len({e["resource"] for e in whole["results"]})
    assert tables_on_page >= 10
    assert len(large.captured_queries) == len(small.captured_queries) + tables_on_page - 1
    response = client.get("/api/audit/", {"format": "csv", "resource": "lab-results"})

    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    correction = [r for r in rows if r["type"] == "changed" and r["field"] == "value"]
    assert [(r["record"], r["old"], r["new"], r["reason"]) for r in correction] == [
        (str(lab.pk), "64", "46", "Transcription error")
    ]
    assert {r["subject_id"] for r in rows} == {mine.subject_id}
    accept = client.get("/api/audit/", HTTP_ACCEPT="text/csv", data={"resource": "patients"})
    assert accept["Content-Type"] == "text/csv"


def test_design_changes_and_grants_are_study_wide(two_sites, make_user, client_for, study):
    multisite, sites, *_ = two_sites
    monitor = make_user("mon-site", "monitor", multisite.registry_id, [sites[0].code])
    arm = multisite.arms.order_by("code").first()
    old_name = arm.name
    update_audited(
        arm,
        changes={"name": "Renamed arm"},
        actor=_actor(),
        reason="Arm renamed",
        expected_version=1,
    )
    make_user("coord-theirs", "coordinator", multisite.registry_id, [sites[1].code])
    client = client_for(monitor)

    arms = client.get("/api/audit/", {"study": multisite.pk, "resource": "arms", "type": "changed"})
    grants = client.get("/api/audit/", {"study": multisite.pk, "resource": "access-grants"})
    elsewhere = client.get("/api/audit/", {"resource": "arms", "page_size": 500}).json()

    assert [
        (e["record"], e["user"], e["reason"], e["patient"], e["subject_id"], e["site"])
        for e in arms.json()["results"]
    ] == [(arm.pk, "fixture-admin", "Arm renamed", None, None, None)]
    assert arms.json()["results"][0]["changes"] == [
        {"field": "name", "old": old_name, "new": "Renamed arm"}
    ]
    # The grant of another site's coordinator: a site-scoped monitor still reads it.
    granted = {
        StudyRole.objects.get(user__username=name, study=multisite).pk
        for name in ("mon-site", "coord-theirs")
    }
    assert {e["record"] for e in grants.json()["results"]} == granted
    coordinator = next(
        e for e in grants.json()["results"] if e["record"] != StudyRole.objects.get(user=monitor).pk
    )
    assert coordinator["type"] == "created"
    assert {"field": "role", "old": None, "new": "coordinator"} in coordinator["changes"]
    # Without `study`: only the monitor's own study, never another study's design.
    assert {e["study"] for e in elsewhere["results"]} == {multisite.pk}
    assert len(elsewhere["results"]) == Arm.history.filter(study=multisite).count()


def test_allocation_seed_and_slots_only_for_who_may_unconceal(
    multisite_study, allocation_list, make_user, client_for
):
    generated = allocation_list(multisite_study, seed=11, size=6)
    registry_id = multisite_study.registry_id
    readers = {
        "monitor": make_user("mon-all", "monitor", registry_id),
        "site data manager": make_user("dm-pku", "data_manager", registry_id, ["PKUPH"]),
        "study data manager": make_user("dm-all", "data_manager", registry_id),
    }

    def log(user, resource):
        client = client_for(user)
        query = {"study": multisite_study.pk, "resource": resource, "page_size": 500}
        return client.get("/api/audit/", query).json()["results"]

    seeds = {}
    slots = {}
    for who, user in readers.items():
        [created] = log(user, "allocation-lists")
        assert (created["record"], created["type"]) == (generated.pk, "created")
        seeds[who] = next(c["new"] for c in created["changes"] if c["field"] == "seed")
        slots[who] = sorted(e["record"] for e in log(user, "allocation-slots"))

    assert seeds == {
        "monitor": "concealed",
        "site data manager": "concealed",
        "study data manager": 11,
    }
    every_slot = AllocationSlot.objects.filter(allocation_list=generated)
    assert slots == {
        "monitor": [],
        "site data manager": sorted(
            every_slot.filter(stratum="PKUPH").values_list("pk", flat=True)
        ),
        "study data manager": sorted(every_slot.values_list("pk", flat=True)),
    }
    assert len(slots["site data manager"]) == 6


def test_exports_are_entries_of_the_log(two_sites, make_user, client_for):
    study, sites, *_ = two_sites
    manager = make_user("dm-exporter", "data_manager", study.registry_id)
    monitor = make_user("mon-reader", "monitor", study.registry_id, [sites[0].code])
    b"".join(
        client_for(manager).get(f"/api/studies/{study.pk}/export/?format=csv").streaming_content
    )
    reader = client_for(monitor)

    first = reader.get("/api/audit/", {"study": study.pk, "type": "exported"}).json()
    download = reader.get("/api/audit/", {"study": study.pk, "format": "csv", "resource": "arms"})
    b"".join(download.streaming_content)
    both = reader.get("/api/audit/", {"resource": "exports"}).json()["results"]

    csv_export = ExportLog.objects.get(format="csv")
    assert [
        (e["resource"], e["record"], e["type"], e["user"], e["study"], e["patient"])
        for e in first["results"]
    ] == [("exports", csv_export.pk, "exported", "dm-exporter", study.pk, None)]
    assert first["results"][0]["changed_at"] == text(csv_export.exported_at)
    assert first["results"][0]["changes"] == [
        {"field": "format", "old": None, "new": "csv"},
        {"field": "scope", "old": None, "new": "all sites"},
        {"field": "channel", "old": None, "new": "api"},
    ]
    # The audit log's own download is an export, logged with the sites and filters it covered.
    audit_download = ExportLog.objects.get(format="audit_log")
    assert (
        audit_download.user,
        audit_download.study,
        audit_download.scope,
        audit_download.channel,
        audit_download.parameters,
    ) == (monitor, study, sites[0].code, "api", {"study": str(study.pk), "resource": "arms"})
    assert [(e["record"], e["user"]) for e in both] == [
        (audit_download.pk, "mon-reader"),
        (csv_export.pk, "dm-exporter"),
    ]
    assert {
        "field": "parameters",
        "old": None,
        "new": {"resource": "arms", "study": str(study.pk)},
    } in both[0]["changes"]
    assert reader.get("/api/audit/", {"resource": "exports", "patient": 1}).json()["count"] == 0


@pytest.mark.postgres
def test_the_export_log_cannot_be_rewritten_or_erased(study):
    log = ExportLog.objects.create(study=study, format="csv", scope="all sites", channel="api")

    with pytest.raises(DatabaseError), transaction.atomic():
        ExportLog.objects.filter(pk=log.pk).update(format="sdtm")
    with pytest.raises(DatabaseError), transaction.atomic():
        ExportLog.objects.filter(pk=log.pk).delete()

    assert ExportLog.objects.filter(pk=log.pk).values_list("format", flat=True).get() == "csv"
