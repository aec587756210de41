"""GET /api/audit/: every history row of a study's records, filtered, paged, as CSV; monitors and
data managers only, and only their sites' rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecrf.audit import update_audited, void_audited
from visits.exports.tables import TABLES, text
from visits.labs.models import LabResult


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
    assert body["count"] == len(expected)
    assert [
        (e["changed_at"], e["history_id"], e["resource"], e["record"]) for e in body["results"]
    ] == [(text(at), hid, resource, record) for at, hid, resource, record in expected]
    assert {e["subject_id"] for e in body["results"]} == {mine.subject_id}
    assert theirs.pk not in {e["patient"] for e in body["results"]}
    assert {e["site"] for e in body["results"]} == {sites[0].code}
    correction = next(
        e for e in body["results"] if e["record"] == lab.pk and e["type"] == "changed"
    )
    assert correction["user"] == "fixture-admin"
    assert correction["reason"] == "Transcription error"
    assert correction["changed_at"].endswith("+00:00")
    assert correction["changes"] == [
        {"field": "value", "old": "64", "new": "46"},
        {"field": "value_std", "old": "64", "new": "46"},
    ]
    created = next(e for e in body["results"] if e["record"] == lab.pk and e["type"] == "created")
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
    )
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
        first = client.get("/api/audit/", {"page_size": 2}).json()
    with CaptureQueriesContext(connection) as large:
        client.get("/api/audit/", {"page_size": 200})
    response = client.get("/api/audit/", {"format": "csv", "resource": "lab-results"})

    assert first["next"] is not None and len(first["results"]) == 2
    # A count, the page, and one query per record table on the page (patients, lab results).
    assert len(large.captured_queries) <= len(small.captured_queries) + 1 <= 6
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    correction = [r for r in rows if r["type"] == "changed" and r["field"] == "value"]
    assert [(r["record"], r["old"], r["new"], r["reason"]) for r in correction] == [
        (str(lab.pk), "64", "46", "Transcription error")
    ]
    assert {r["subject_id"] for r in rows} == {mine.subject_id}
    accept = client.get("/api/audit/", HTTP_ACCEPT="text/csv", data={"resource": "patients"})
    assert accept["Content-Type"] == "text/csv"
